/**
 * The record a lock holder writes into the backup root's lock file (lock.ts): one JSON line,
 * `{"pid":…,"host":…,"started":…,"command":…}`, read to name the holder to a second run
 * (exit code 3) and, left by a holder that died, logged by the run that takes the lock over
 * (`LOCK: took over a stale lock left by …`).
 *
 * A run that takes over a stale lock carries the dead holders' records in its own
 * (`tookOver`, the latest first) until its log says so on disk (`withoutTakeover`): killed
 * before that, the next run finds them in its record and logs them with it, so a holder
 * killed while it worked is named in some log however many takeovers are killed after it.
 * Only as many as fit in RECORD_BYTES are carried: the latest and the earliest are kept,
 * those in between counted (`tookOverMore`). Pure: reads and writes nothing.
 */

/**
 * The most a lock file holding a record holds, read whole at the lock: one memory page,
 * which a kill never tears a write of (see lock_file_write.ts's `overwrite`).
 */
export const RECORD_BYTES = 4096;

/**
 * A carried record longer than this (not one this tool wrote: a real one is a few hundred
 * characters, a 253-character host name included) is cut to it.
 */
const CARRIED_CHARS = 512;

/** The dead holders a lock file's content names, the latest first. */
export interface Holders {
  /** Their records, as read (the latest without the records it carried). */
  records: string[];
  /** How many more were carried in between and left out, for room. */
  more: number;
}

const NO_HOLDERS: Holders = { records: [], more: 0 };

/**
 * The holders `text` (what a lock file held when it was locked) names: none where it is
 * empty; its record, and those it carried; anything that is not a record, as it is.
 */
export function holdersIn(text: string): Holders {
  const record = text.trim();
  if (record === "") return NO_HOLDERS;
  try {
    const { tookOver, tookOverMore, ...own } = JSON.parse(record);
    if (Array.isArray(tookOver)) {
      const records = [JSON.stringify(own), ...tookOver.map(String)];
      return { records, more: Number.isSafeInteger(tookOverMore) ? tookOverMore : 0 };
    }
  } catch { /* not a record of this form: named as it is */ }
  return { records: [record], more: 0 };
}

/**
 * A holder's record (`own`: pid, host, started, command) as the lock file's bytes, with the
 * stale holders it took over (`carried`) until its log says so: as many as fit in
 * RECORD_BYTES.
 */
export function recordBytes(own: Record<string, unknown>, carried = NO_HOLDERS): Uint8Array {
  let records = carried.records.map((r) =>
    r.length > CARRIED_CHARS ? r.slice(0, CARRIED_CHARS) : r
  );
  let more = carried.more;
  for (;;) {
    const record = records.length === 0 ? own : {
      ...own,
      tookOver: records,
      ...(more > 0 ? { tookOverMore: more } : {}),
    };
    const bytes = new TextEncoder().encode(JSON.stringify(record) + "\n");
    if (bytes.length <= RECORD_BYTES || records.length === 0) return bytes;
    // The latest (the one taken over) and the earliest (perhaps killed while it worked)
    // are kept longest; one in between goes first.
    records = records.toSpliced(records.length > 2 ? 1 : 0, 1);
    more++;
  }
}

/**
 * The log lines of a stale lock's takeover: one for each dead holder's record, the latest
 * first, the others said to be taken over by the run named above them.
 */
export function takeoverLines({ records, more }: Holders): string[] {
  const lines = records.map((record, i) =>
    `LOCK: took over a stale lock left by ${record}` +
    (i === 0 ? "" : " (taken over by the run named above, which was killed before it logged that)")
  );
  if (more > 0 && lines.length > 0) {
    lines.push(
      `LOCK: ${more} more stale lock(s) taken over in between by runs killed before they ` +
        "logged it (not named: left out of the lock file for room)",
    );
  }
  return lines;
}

/** When a lock record's holder took the lock (ms), where the record says so. */
export function startedOf(record: string): number | undefined {
  try {
    const ms = Date.parse(JSON.parse(record).started);
    return Number.isFinite(ms) ? ms : undefined;
  } catch {
    return undefined;
  }
}

/** A lock record in words: "a run (pid 12 on host, started …)". */
export function describe(record: string): string | undefined {
  try {
    const r = JSON.parse(record);
    const what = r.command === undefined ? "another run" : `a ${r.command}`;
    return `${what} (pid ${r.pid} on ${r.host}, started ${r.started})`;
  } catch {
    return undefined;
  }
}

/**
 * What a run or watch (`taker`: "this run", "this watch") that took over a stale lock
 * says of the sessions that left it (`holders`): they ended without a word, since a
 * process killed prints nothing, so a scheduled job's mail is the first to hear of it.
 * Undefined where the lock was free.
 */
export function unfinishedNote({ records, more }: Holders, taker: string): string | undefined {
  if (records.length === 0) return undefined;
  const named = records.map((r) => describe(r) ?? "a session");
  if (more > 0) named.push(`${more} more`);
  const one = named.length === 1;
  const subject = one ? named[0] : `${named.slice(0, -1).join(", ")} and ${named.at(-1)}`;
  return `${subject} did not finish: ${one ? "it was" : "they were"} killed (SIGKILL, the ` +
    "out-of-memory killer) or the machine stopped, leaving the backup root's lock; what was " +
    `committed stays, and ${taker} took the lock over and goes on from there (if it ` +
    "recurs, look for what kills it: journalctl -k | grep -i oom)";
}

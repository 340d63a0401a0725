/**
 * `purge PATH...`: deletes every stored copy of paths no run backs up any more (a `.env`
 * backed up by mistake, then excluded; a VM image deleted from the source), asked by name.
 * The PATHs are read as `restore` and `history` read them; what goes is decided by
 * purge_plan.ts (excluded: by a pattern, in a folder left out now: left_out.ts, or over
 * exclude_larger_than now: large.ts), less the
 * copies holding the only stored bytes of a file still backed up whose own copy is missing
 * (purge_held.ts), kept and said as failures. Without `yes` it reads the state only (no
 * lock, nothing written) and says what would go. With `yes` it
 * opens a session as `run` does (the lock, exit code 3 while another holds it; an
 * interrupted run's journal finished first), decides again under the lock, and deletes the
 * copies through retention's machinery: a batch journaled, executed (execute.ts
 * `pruneCopy`: only a copy of ours, holding the bytes recorded, emptied folders removed)
 * and committed (record.ts: "purged", the path no longer tracked), each copy
 * logged `PURGE delete:`; one already missing from the backup root is recorded purged all
 * the same, nothing deleted for it, logged `PURGE forget: … (already missing …)` and counted
 * apart (`missing`), no failure: it is gone, as asked. A stop signal is heard after each
 * batch (a turn of the event loop): the purge ends there. An interruption leaves journaled
 * the batch in flight, which the next session's recovery completes and logs; a copy is
 * never gone while its record says it is stored once that recovery has run.
 *
 * The records of contents whose copy went before (lost, pruned) are marked purged last, in
 * one transaction, as the engine orders a change and its line: each `PURGE record:` line
 * written and flushed to disk (runlog.ts `sync`, as a batch's lines before its commit)
 * before the commit that marks them, never after, so that no kill leaves a record marked
 * purged that no log names. Nothing journals them (there is no file to delete): a kill
 * between the lines and the commit leaves lines for records still lost or pruned, which the
 * same purge again marks, logging them again, as recovery logs a batch's lines again.
 */
import type { Config } from "../config/config.ts";
import { createMatcher, excludesRecorded } from "../core/exclude.ts";
import { UsageError, withFlagsRemedy } from "../engine/errors.ts";
import { sourceFileOf } from "../core/layout.ts";
import { leftOutAbove, leftOutConfigured, newLeftOutCache } from "../engine/scan/left_out.ts";
import { largeNow } from "../engine/scan/large.ts";
import { isMissing } from "../engine/fs/fsops.ts";
import { Batch } from "../engine/batch.ts";
import type { Action } from "../core/types.ts";
import { hearSignals } from "../engine/event_turn.ts";
import { pausePoint } from "../engine/fault.ts";
import { emptyResult, type PassResult } from "../engine/pass_types.ts";
import { openSession } from "../engine/session/session.ts";
import {
  decidePurge,
  type PurgeCopy,
  type PurgeItem,
  type PurgeRecord,
} from "../core/purge_plan.ts";
import type { StateStore } from "../state/store.ts";
import { outermost } from "./asof.ts";
import { forgottenFoldersLine, unfollowedFolders } from "./purge_folders.ts";
import { requireBackup, resolverFor, withState } from "./open.ts";
import { asRecorded } from "./logged_path.ts";
import { counted } from "../log/counted.ts";
import { type HeldItem, holdLastBytes } from "./purge_held.ts";
import { leftSourceHint, spellingHint } from "./not_found.ts";

/** What a purge deletes (or would): the logical paths asked, and each copy. */
export interface PurgeListing {
  paths: string[];
  items: PurgeItem[];
  bytes: number;
  /** The copies asked that it keeps, each with why (purge_held.ts): failures, exit 1. */
  held: HeldItem[];
  /** The records of contents whose copy went before (lost, pruned): marked purged. */
  records: PurgeRecord[];
}

/** What a purge with `yes` did. */
export interface PurgeOutcome extends PurgeListing {
  runId: number;
  logFile?: string;
  result: PassResult;
  /** Said where the lock was taken over from sessions that were killed. */
  unfinishedNote?: string;
  /** Stopped by `signal` between two batches: the copies left are left for a purge again. */
  stopped: boolean;
  /**
   * The copies found missing from the backup root (removed by hand, a disk fault): nothing
   * to delete, their record purged all the same. Counted in `result.counts.prune`.
   */
  missing: PurgeItem[];
  /**
   * The copies whose place holds something that is not the copy recorded (put there by
   * hand, another content's bytes): left in place, logged `PURGE forget:`, their record
   * purged all the same. Counted in `result.counts.prune`.
   */
  leftInPlace: PurgeItem[];
  /** The copies whose deletion failed (said as errors): left in place, no bytes freed. */
  failed: PurgeItem[];
  /**
   * The bytes of the copies deleted: not those of a copy whose deletion failed, found
   * missing, or left in place (other bytes, or something else in its place), nor of one a
   * stop left undeleted.
   */
  freed: number;
}

/** What `purge` deletes, read from the state read-only; a UsageError where it is refused. */
export function purgeListing(config: Config, given: readonly string[]): PurgeListing {
  return withState(config, (store) => decide(config, store, given));
}

/**
 * Deletes what `purgeListing` lists, under the lock, decided again there. `onLine`: each
 * log line as it is written; `signal` stops it between two batches (a stop signal).
 */
export async function purgeCopies(
  config: Config,
  given: readonly string[],
  onLine: (line: string) => void = () => {},
  signal?: AbortSignal,
): Promise<PurgeOutcome> {
  requireBackup(config);
  const session = await openSession(config, "purge", {
    sourcesRequired: false,
    backupRequired: true,
  });
  session.store.eraseFreedSpace();
  const result = emptyResult();
  let status = "failed";
  try {
    const listing = decide(config, session.store, given);
    const say = (line: string) => {
      session.log.line(line);
      onLine(line);
    };
    session.log.line(
      `PURGE: ${listing.paths.join(", ")} (${counted(listing.items.length, "copy", "copies")}` +
        `${recordsText(listing.records)})`,
    );
    for (const { item, message } of listing.held) {
      result.counts.failed++;
      result.errors.push({ path: item.action.path, message });
      say(`ERROR: ${item.action.path}: ${message}`);
    }
    const clock = Date.now();
    const recorded = session.store.recordedTime(clock);
    const failed = new Set<Action>();
    const batch = new Batch(session, {}, result, say, (path, error, action) => {
      if (action) failed.add(action);
      const message = action?.type === "prune" ? failedText(action.storedAt, error) : error;
      result.counts.failed++;
      result.errors.push({ path, message });
      say(`ERROR: ${path}: ${message}`);
    }, { clock, recorded });
    // Stopped where a signal leaves copies undeleted: one heard in the last batch stops
    // nothing, and the purge is complete.
    let stopped = false;
    let added = 0;
    for (const item of listing.items) {
      if (signal?.aborted) {
        stopped = true;
        break;
      }
      batch.add(item.action);
      added++;
      if (!batch.full()) continue;
      await batch.flush();
      // A batch's deletions are synchronous calls, and its commit waits for the next (two
      // of 1,024 to a commit): without a turn of the event loop, a signal that came during
      // one was heard only after the next was applied too. Two turns: one misses it about
      // once in 300 on a loaded machine (event_turn.ts), two about once in 90,000, for
      // some 7 ms a batch.
      if (signal) { for (let turn = 0; turn < 2; turn++) await hearSignals(); }
    }
    await batch.flush();
    await batch.settle();
    // The records of copies gone before: one transaction, once every copy is dealt with (a
    // stopped purge leaves them to the same purge again, as it leaves the copies). Their
    // lines first, written out and flushed to disk as a batch's are before its commit.
    if (!stopped && listing.records.length > 0) {
      for (const r of listing.records) say(recordLine(r));
      session.log.sync();
      pausePoint("marking");
      session.store.recordPurged(listing.records.map((r) => r.id), recorded);
    }
    // Once every copy is dealt with: a copy left in place (its deletion failed, or held)
    // still comes back from a restore, with the folders of its moment; the same purge again
    // forgets them.
    if (!stopped && result.errors.length === 0) {
      forgetFolders(config, session.store, listing.paths, say, session.log);
    }
    result.warnings = [...session.recovered, ...result.warnings];
    status = stopped
      ? "stopped"
      : result.errors.length + result.warnings.length === 0
      ? "ok"
      : "partial";
    const missing = listing.items.filter((i) => i.action.missing);
    const leftInPlace = listing.items.filter((i) => i.action.absent && !i.action.missing);
    const deleted = result.counts.prune - missing.length - leftInPlace.length;
    session.log.line(
      `${stopped ? "Purge stopped before it finished" : "Purge complete"}: ` +
        `${counted(deleted, "copy", "copies")} purged${apartText(missing, leftInPlace)}` +
        `${stopped ? "" : recordsText(listing.records)}, ${result.counts.failed} failed`,
    );
    return {
      ...listing,
      runId: session.runId,
      logFile: session.log.path,
      result,
      unfinishedNote: session.unfinishedNote,
      stopped,
      missing,
      leftInPlace,
      failed: listing.items.filter((i) => failed.has(i.action)),
      freed: listing.items.slice(0, added)
        .filter(({ action: a }) => !failed.has(a) && !a.absent && !a.damaged)
        .reduce((n, i) => n + i.size, 0),
    };
  } catch (e) {
    try {
      session.log.line(`Purge failed: ${e instanceof Error ? e.message : String(e)}`);
    } catch { /* the failure itself is what to report */ }
    throw e;
  } finally {
    session.close(status, { counts: result.counts, bytesCopied: 0 });
  }
}

/**
 * A copy's failed deletion as said: one this user may not reach or remove (a folder of the
 * backup root it may not enter or write in) with the remedy, one immutable or append-only,
 * or its folder so (EPERM on Linux and macOS), with that remedy; other failures as they came.
 * Denied is EPERM or EACCES on Linux and macOS (1, 13), ERROR_ACCESS_DENIED on Windows (5,
 * "Access is denied", where 1 is ERROR_INVALID_FUNCTION: a call the disk does not make).
 */
export function failedText(
  storedAt: string,
  error: string,
  os: typeof Deno.build.os = Deno.build.os,
): string {
  const denied = os === "windows" ? /\(os error 5\)/ : /\(os error (1|13)\)/;
  if (!denied.test(error)) return error;
  // EPERM: a flag (immutable, append-only), which no other user mends, or a sticky folder.
  const flagged = withFlagsRemedy(error, "then purge again", os);
  if (flagged !== error) {
    return `Cannot purge its copy '${storedAt}': ${flagged}; the copy was left in place`;
  }
  return `Cannot purge its copy '${storedAt}': ${error}: purge as a user who may enter and ` +
    "write in the backup root's folders; the copy was left in place";
}

/** A record of a copy gone before, marked purged, as the log and a listing say it. */
export function recordLine(r: PurgeRecord): string {
  return `PURGE record: ${r.path} v${r.seq} (${r.location})`;
}

/** The copies counted apart in the log's last line: none there, or not ours there. */
function apartText(missing: readonly PurgeItem[], leftInPlace: readonly PurgeItem[]): string {
  return (missing.length === 0 ? "" : `, ${missing.length} already missing`) +
    (leftInPlace.length === 0 ? "" : `, ${leftInPlace.length} left in place (not the copy)`);
}

/** ", N records" where there are some. */
function recordsText(records: readonly PurgeRecord[]): string {
  return records.length === 0 ? "" : `, ${counted(records.length, "record", "records")}`;
}

/** The PATHs as recorded, and what purging them deletes; a UsageError where refused. */
function decide(config: Config, store: StateStore, given: readonly string[]): PurgeListing {
  const resolver = resolverFor(config, store);
  resolver.restores = false;
  // Each PATH as recorded, the first spelling given of each kept to name it.
  const asked = new Map<string, string>();
  for (const g of given) {
    const path = asRecorded(resolver, g);
    if (!asked.has(path)) asked.set(path, g);
  }
  const paths = [...asked.keys()];
  // Every file recorded: "" with several sources, and the source itself where the backup
  // root knows one ('.' and its name mean it then).
  const names = new Set([...config.sources.map((s) => s.name), ...store.prefixes().keys()]);
  const whole = (path: string) => path === "" || (names.size === 1 && names.has(path));
  for (const path of paths) {
    if (whole(path)) {
      throw new UsageError(
        "Cannot purge the whole backup: give the files or folders to purge: see 'purge --help'",
      );
    }
    if (!store.isRecorded(path) && !store.isRecordedBelow(path)) {
      const given = asked.get(path)!;
      const other = resolver.otherReading(given) ?? resolver.leftReading(path);
      // What history says: the path under a source the config no longer names, whose copy
      // a place in the backup root holds (as browsing it shows), or another spelling.
      const hint = leftSourceHint(store, other) ||
        resolver.storedCopyHintFor(given, path) || spellingHint(store, path, other);
      throw new UsageError(
        `Cannot purge '${given}': nothing was ever backed up at '${path}'` +
          (hint || ": check the path ('history' lists a file's contents)") +
          "; nothing was changed",
      );
    }
  }
  // A PATH inside another one given is left to that one, so no copy is listed twice.
  const outer = outermost(paths);
  const copies: PurgeCopy[] = outer.flatMap((p) => [
    ...store.copiesOf(p),
    ...[...store.copyPages(p)].flat(),
  ]);
  const tracked = outer.flatMap((p) => store.trackedAt(p));
  const matcher = createMatcher(config.exclude);
  const leftOutNow = leftOutTest(config);
  const decision = decidePurge(copies, tracked, {
    sources: new Set(config.sources.map((s) => s.name)),
    // Below a folder left out now, tagged or on another device (as the next run finds it, so
    // a tag removed since takes it back: the state's "excluded" would not): excluded as by a
    // pattern.
    excluded: (path) => excludesRecorded(matcher, path) || leftOutNow(path),
    // The source's file as the walk names it: its '/'-separated path joined part by part.
    gone: (path) => {
      const file = sourceFileOf(config.sources, path);
      return file !== undefined && isMissing(file);
    },
    missingSource: (name) => {
      const folder = config.sources.find((s) => s.name === name)?.path;
      return folder !== undefined && isMissing(folder) ? folder : undefined;
    },
  });
  if ("refused" in decision) throw refusal(decision.refused);
  const { items, held } = holdLastBytes(config.backupRoot, store, decision.items);
  const bytes = items.reduce((n, i) => n + i.size, 0);
  return { paths, items, bytes, held, records: decision.records };
}

/**
 * Whether a tracked logical path lies in a folder whose contents are left out now (tagged,
 * or on another device with one_file_system: left_out.ts), looked at on the disk, each
 * folder once; or is a file over exclude_larger_than now (large.ts: its lstat).
 */
function leftOutTest(config: Config): (path: string) => boolean {
  const folders = leftOutConfigured(config);
  const limit = config.excludeLargerThan;
  if (!folders && limit === null) return () => false;
  const cache = newLeftOutCache();
  return (path) => {
    const file = sourceFileOf(config.sources, path);
    const source = config.sources.find((s) => path.startsWith(`${s.name}/`));
    if (file === undefined || source === undefined) return false;
    return (folders && leftOutAbove(config, source.path, file, cache) !== undefined) ||
      largeNow(limit, file);
  };
}

/**
 * Forgets the folder records below the purged `paths` that no run follows now
 * (purge_folders.ts), its line said and flushed to disk first.
 */
function forgetFolders(
  config: Config,
  store: StateStore,
  paths: readonly string[],
  say: (line: string) => void,
  log: { sync(): void },
): void {
  const matcher = createMatcher(config.exclude);
  const leftOutNow = leftOutTest(config);
  const followed = new Set(config.sources.map((s) => s.name));
  const forgotten = unfollowedFolders(store, paths, (path) => {
    const slash = path.indexOf("/");
    if (!followed.has(slash === -1 ? path : path.slice(0, slash))) return true;
    return slash !== -1 && (excludesRecorded(matcher, `${path}/`) || leftOutNow(path));
  });
  if (forgotten.length === 0) return;
  say(forgottenFoldersLine(paths, forgotten.length));
  log.sync();
  store.forgetFolders(forgotten);
}

/** The one line a refused purge says: the first path still backed up, and the remedy. */
function refusal(refused: { path: string; reason: string }[]): UsageError {
  const [first] = refused;
  const more = refused.length > 1 ? ` (and ${refused.length - 1} more file(s) asked)` : "";
  return new UsageError(
    `Cannot purge '${first.path}'${more}: ${first.reason}; nothing was changed`,
  );
}

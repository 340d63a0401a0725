/**
 * The state's read queries on runs (a row a `run`, `watch` session or `verify --repair`):
 * what each recorded and how it ended, for `history` without a path, and which were cut
 * short, for restore's and history's warnings. Reads only: an interruption leaves nothing.
 */
import type { StateDb } from "./connection.ts";
import type { Row } from "./rows.ts";

/**
 * A session's status once it committed part of its work (set in the commit's transaction),
 * until it ends; one that ends short (stopped, failed) gets AFTER_COMMIT after its status.
 * A watch session is FOLLOWING once its first full pass is done.
 */
export const COMMITTED = "committed";
export const AFTER_COMMIT = " after commit";
export const FOLLOWING = "following";

/** A session (`run` or `watch`) that did not finish after recording part of its work. */
export interface CutRun {
  id: number;
  startedAt: number;
}

/** The sessions cut short since the last one that finished (none, or not all of them). */
export interface CutRuns {
  /** The newest cut session. */
  last: CutRun;
  /** The oldest cut session since the last finished one: the backup before it is whole. */
  earliest: CutRun;
  count: number;
  /** No session ever finished: no moment holds a whole backup. */
  noneFinished: boolean;
}

/**
 * The `run`s (and watch sessions stopped or killed in their first pass) that did not
 * finish after recording part of their work, since the last session that went through all
 * of the sources (as of `at`, or now): the backup's state then holds their files beside
 * older ones. What a session records carries times after its start, so as of `at` only
 * those begun before it count. The last whole session, those after it, and for those marked
 * running one scan of the copies (`recordedWhileRunning`).
 */
export function cutRuns(db: StateDb, at = Number.MAX_SAFE_INTEGER): CutRuns | undefined {
  const whole = db.q(
    `SELECT max(id) AS id FROM runs WHERE started_at < ? AND command IN ('run', 'watch')
     AND status IN ('ok', 'partial', '${FOLLOWING}')`,
  ).get(at) as Row;
  const after = db.q(
    `SELECT id, started_at, status FROM runs WHERE id > ? AND started_at < ?
     AND command IN ('run', 'watch') ORDER BY id DESC`,
  ).all((whole.id as number | null) ?? 0, at) as Row[];
  const recorded = recordedWhileRunning(db, after);
  const cut = after.filter((r) => recordedPart(r, recorded)).map((r) => ({
    id: r.id as number,
    startedAt: r.started_at as number,
  }));
  if (cut.length === 0) return undefined;
  return {
    last: cut[0],
    earliest: cut.at(-1)!,
    count: cut.length,
    noneFinished: whole.id === null,
  };
}

/**
 * Whether a session that did not finish recorded part of its work: its status says so, or
 * (`running`: killed before a commit, or by a version that did not mark commits) it is
 * among those `recordedWhileRunning` found.
 */
function recordedPart(r: Row, recorded: ReadonlySet<number>): boolean {
  const status = r.status as string;
  if (status === COMMITTED || status.endsWith(AFTER_COMMIT)) return true;
  return status === "running" && recorded.has(r.id as number);
}

/**
 * Of `rows`, the sessions marked `running` that a copy shows recorded something: one that
 * carries its id, or a time from its start to the next session's start (or since). One
 * query for them all, none of those columns being indexed: the copies are read once, and
 * those recorded since the earliest of the sessions began are matched against each. Before,
 * a scan each (14 ms at 100,000 copies) never stopped early for a session killed before a
 * commit, the usual case: 20 such sessions took 156 ms where 40% of the copies had been
 * superseded since, now 73 ms (200: 1.5 s, now 0.53 s). Sessions of versions from before
 * 2026-12-03, which did not mark their commits, cost more now where they did record
 * something (their scan stopped at the first copy): 104 ms for 20.
 */
function recordedWhileRunning(db: StateDb, rows: Row[]): Set<number> {
  const killed = rows.filter((r) => r.status === "running").map((r) => r.id as number);
  if (killed.length === 0) return new Set();
  const found = db.q(
    `WITH k AS MATERIALIZED (
       SELECT r.id AS id, r.started_at AS t, coalesce(
         (SELECT min(n.started_at) FROM runs AS n WHERE n.id > r.id), ${Number.MAX_SAFE_INTEGER}
       ) AS e
       FROM runs AS r WHERE r.id IN (SELECT value FROM json_each(?1)))
     SELECT DISTINCT k.id AS id FROM (
       SELECT run_id, valid_to, pruned_at FROM copies
       WHERE run_id IN (SELECT id FROM k) OR valid_to >= (SELECT min(t) FROM k)
         OR pruned_at >= (SELECT min(t) FROM k)) AS c CROSS JOIN k
     WHERE c.run_id = k.id OR (c.valid_to >= k.t AND c.valid_to < k.e)
       OR (c.pruned_at >= k.t AND c.pruned_at < k.e)`,
  ).all(JSON.stringify(killed)) as Row[];
  return new Set(found.map((r) => r.id as number));
}

/**
 * The latest start or end time of a run, of those not after `notAfter` (0 if none), and,
 * given `commands`, of those commands only (`run` and `watch`: the sessions that back up,
 * not a purge or a repair): one read of the runs table, a row a session.
 */
export function latestRunTime(
  db: StateDb,
  notAfter = Number.MAX_SAFE_INTEGER,
  commands?: readonly string[],
): number {
  const only = commands === undefined ? "" : " AND command IN (SELECT value FROM json_each(?))";
  const row = db.q(
    `SELECT max(max(started_at, coalesce(finished_at, 0))) AS t FROM runs
     WHERE max(started_at, coalesce(finished_at, 0)) <= ?${only}`,
  ).get(notAfter, ...commands === undefined ? [] : [JSON.stringify(commands)]) as Row;
  return (row.t as number | null) ?? 0;
}

/** A summary's `clockHeld`, where it is readable JSON (deleted_guard.ts). */
const CLOCK_HELD = "CASE WHEN json_valid(summary) THEN json_extract(summary, '$.clockHeld') END";

/** A session's clock at its end, where it was behind the end recorded (session.ts). */
const CLOCK_AT = "CASE WHEN json_valid(summary) THEN json_extract(summary, '$.clockAt') END";

/** A watch session's last full pass not held back (run_writes.ts `markFullPassAt`). */
const FULL_PASS_AT =
  "CASE WHEN json_valid(summary) THEN json_extract(summary, '$.lastFullPassAt') END";

/**
 * The times recorded for the latest `count` sessions besides `runId`, newest first, of
 * those that asked the clock guard and were not held back by it (deleted_guard.ts), without
 * `clockHeld`: `run`s that finished (`ok`, `partial`: a run's retention comes at the end of
 * its pass), at the later of start and end; watch sessions at their last full pass not held
 * back, recorded while they run (so one killed after weeks of watching counts, and one
 * stopped long after it, no full pass since, counts for no later), else, recorded by an
 * older version, at the later of start and end where they finished. A `verify --repair` or
 * `purge`, a run stopped or killed before its retention, never asked the guard: their
 * times, a clock set ahead's as well, vouch for nothing. A session that ended with its
 * clock behind the time recorded (after a run made with the clock ahead) vouches at its
 * clock (`clockAt`), not at the time recorded to keep the order, and an earlier session
 * recorded later than that clock, its own clock ahead then (nothing for its guard to hold
 * back, say), vouches for nothing. Where no session vouches so (a
 * first backup killed each night by a timeout, its deletions committed), the runs and
 * watch sessions cut short stand for them: better than no time at all, which would leave
 * every copy to the clock. Two or three reads of the runs table.
 */
export function vouchedRunTimes(db: StateDb, besides: number, count: number): number[] {
  const finished = "status IN ('ok', 'partial')";
  // A session whose clock was behind the times it recorded vouches at its clock (`clockAt`).
  const ended = `coalesce(${CLOCK_AT}, max(started_at, coalesce(finished_at, 0)))`;
  // A session that ended with its clock behind (`clockAt`) shows that every earlier one
  // recorded past its clock had the clock ahead then: those vouch for nothing either.
  const behind = db.q(`SELECT id, ${CLOCK_AT} AS c FROM runs WHERE ${CLOCK_AT} IS NOT NULL`)
    .all() as Row[];
  const wasAhead = (r: Row) =>
    behind.some((b) => (b.id as number) > (r.id as number) && (b.c as number) < (r.t as number));
  const times = (which: string, t: string) =>
    (db.q(
      `SELECT id, ${t} AS t FROM runs
       WHERE id <> ? AND command IN ('run', 'watch') AND (${which})
       AND coalesce(${CLOCK_HELD}, 0) = 0 ORDER BY t DESC LIMIT ?`,
    ).all(besides, behind.length === 0 ? count : -1) as Row[]).filter((r) => !wasAhead(r))
      .slice(0, count).map((r) => r.t as number);
  const vouched = times(
    `(command = 'run' AND ${finished}) OR (command = 'watch' AND ` +
      `(${FULL_PASS_AT} IS NOT NULL OR ${finished}))`,
    `CASE WHEN command = 'watch' AND ${FULL_PASS_AT} IS NOT NULL ` +
      `THEN ${FULL_PASS_AT} ELSE ${ended} END`,
  );
  return vouched.length > 0 ? vouched : times("1", ended);
}

/** A run as the state records it, for `history` without a path. */
export interface RecordedRun {
  id: number;
  /** `run`, `watch` or `verify` (a repair). */
  command: string;
  startedAt: number;
  /** Null while it runs, or when it was killed. */
  finishedAt: number | null;
  /** As stored: `ok`, `partial`, `stopped`, `failed` (either with AFTER_COMMIT), `running`,
   * COMMITTED or FOLLOWING. */
  status: string;
  /** What its summary recorded (the run's counts), when it ended by itself. */
  summary: RecordedSummary | null;
  /**
   * It ended short of its end (stopped, failed, killed) after recording part of its work,
   * so that the backup held its new files beside older ones until a later run finished.
   */
  cutShort: boolean;
}

/** The counts a run or watch session records at its end (`backup.ts`, `watch.ts`). */
interface RecordedSummary {
  counts?: Record<string, number>;
  bytesCopied?: number;
  /** A `run`'s: the sources it found tracked but no longer in the config (`leftSources`). */
  left?: string[];
  /** A `run`'s: the config file it ran with (from 2026-12-05 on). */
  config?: string;
  /** The deletions its mass-deletion guard held back, at its end (from 2026-12-05 on). */
  heldBack?: number;
}

/** A `run` whose mass-deletion guard held deletions back. */
export interface HeldRun {
  id: number;
  startedAt: number;
  /** How many deletions it held back. */
  heldBack: number;
}

/** A summary's `heldBack`, where it is readable JSON (one written by hand may not be). */
const HELD_BACK = "CASE WHEN json_valid(summary) THEN json_extract(summary, '$.heldBack') END";

/**
 * A session that went through every source and left no deletion held back: a `run` or
 * watch session that ended by itself (`ok`, `partial`) recording none held back, or a `run`
 * of a version from before 2026-12-05 that finished `ok` (its guard held none: it would
 * have finished with problems). A watch session ends `ok` whatever its guard held, so one
 * that recorded no count is no such session.
 */
const ARCHIVED_ALL = `status IN ('ok', 'partial')
  AND (${HELD_BACK} = 0 OR (command = 'run' AND status = 'ok' AND ${HELD_BACK} IS NULL))`;

/**
 * The `run`s and watch sessions begun before `at` (or now) whose guard held deletions
 * back, oldest first, since the last one begun before it that went through every source
 * and archived every deletion it met (ARCHIVED_ALL): until one does, the files they found
 * gone stay current in the backup. Sessions of versions from before 2026-12-05 recorded no
 * count: one that may have held some is taken for neither. One read of the runs table, a
 * row a session.
 */
export function heldBackRuns(db: StateDb, at = Number.MAX_SAFE_INTEGER): HeldRun[] {
  const rows = db.q(
    `SELECT id, started_at, ${HELD_BACK} AS held FROM runs
     WHERE command IN ('run', 'watch') AND started_at < ?1 AND id > coalesce((
       SELECT max(id) FROM runs WHERE command IN ('run', 'watch') AND started_at < ?1
       AND ${ARCHIVED_ALL}), 0)
     AND ${HELD_BACK} > 0 ORDER BY id`,
  ).all(at) as Row[];
  return rows.map((r) => ({
    id: r.id as number,
    startedAt: r.started_at as number,
    heldBack: Number(r.held),
  }));
}

/** The runs `lastLeftSources` reads at a time, latest first. */
const LEFT_PAGE = 100;

/**
 * The sources the last `run` before `runId` with the config file `config` found tracked but
 * no longer in the config: a second config sharing the backup root, run in turn, follows
 * others, and its runs are not this job's, however many of them ran since this job's last
 * (a job every few minutes beside a daily one). A run that did not record its config file
 * (a version from before 2026-12-05) counts as this job's, unless it found one of `own`
 * (this config's sources) left out: that was the other job's, and taken for this one's, it
 * made the first run after an upgrade say the other's sources once more. Undefined where
 * none is found, or it recorded none (a version from before 2026-12-05, or a run that
 * failed before it looked).
 */
export function lastLeftSources(
  db: StateDb,
  runId: number,
  config: string,
  own: readonly string[] = [],
): string[] | undefined {
  for (let before = runId;;) {
    const rows = db.q(
      "SELECT id, summary FROM runs WHERE id < ? AND command = 'run' AND summary IS NOT NULL " +
        "ORDER BY id DESC LIMIT ?",
    ).all(before, LEFT_PAGE) as Row[];
    for (const row of rows) {
      const summary = parseSummary(row.summary as string | null);
      if (typeof summary?.config === "string" && summary.config !== config) continue;
      const left = summary?.left;
      if (!Array.isArray(left) || !left.every((n) => typeof n === "string")) return undefined;
      if (summary?.config === undefined && left.some((n) => own.includes(n))) continue;
      return left;
    }
    if (rows.length < LEFT_PAGE) return undefined;
    before = Number(rows[rows.length - 1].id);
  }
}

/** Every run, oldest first: a row each, and a look at the copies for those killed. */
export function recordedRuns(db: StateDb): RecordedRun[] {
  const rows = db.q(
    "SELECT id, command, started_at, finished_at, status, summary FROM runs ORDER BY id",
  ).all() as Row[];
  const recorded = recordedWhileRunning(db, rows.filter(isSession));
  return rows.map((r) => {
    const status = r.status as string;
    return {
      id: r.id as number,
      command: r.command as string,
      startedAt: r.started_at as number,
      finishedAt: r.finished_at as number | null,
      status,
      summary: parseSummary(r.summary as string | null),
      cutShort: isSession(r) && recordedPart(r, recorded),
    };
  });
}

/** A `run` or `watch` session (not a repair). */
const isSession = (r: Row) => r.command === "run" || r.command === "watch";

/** A summary as stored; one that cannot be read (written by hand, say) is none. */
function parseSummary(text: string | null): RecordedSummary | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text);
    return typeof value === "object" && value !== null ? value as RecordedSummary : null;
  } catch {
    return null;
  }
}

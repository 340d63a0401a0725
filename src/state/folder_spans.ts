/**
 * When each source folder stood (schema 10 on), so that a restore makes the folders of a
 * moment, empty ones and those holding only folders too. The `folders` row of a folder holds
 * its current span: `seen_from`, the recorded time of the batch whose walk first saw it
 * there (0: standing since before spans were recorded; NULL: a row migrated from schema 9
 * that no walk has seen since), and `gone_at`, set when a walk that covered it found it gone
 * (core/folder_spans.ts says where a walk covers), its span then kept in `ended_folders`.
 * A folder that comes back starts a new span. Rows are removed only by `purge`, of folders
 * no run follows (`forgetFolders`): a folder's metadata is what a restore of a moment when
 * it stood gives it. A span that began before spans were recorded (0) is read as beginning
 * with the backup (its first run): a restore of a moment before it makes no folder, as it
 * restores no file; a NULL one, not seen since, is not read as standing at all (`STANDS`).
 *
 * Written in the transaction that records the folders a pass saw (copy_writes.ts), with its
 * batch's commit where there is one: an interruption rolls the spans back with it, and the
 * next pass's walk finds the same again. A migrated row found gone before any walk at schema
 * 10 saw it leaves no span (when it stood is not known), only its `gone_at`; one seen keeps
 * 0, standing since before. Readers look up the spans under their PATHs by the primary keys.
 */
import type { GoneFolders } from "../core/folder_spans.ts";
import type { StateDb } from "./connection.ts";

/** The schema version that records folders' spans. */
export const FOLDER_SPANS_SCHEMA = 10;

/**
 * The folders recorded as standing in the scope of `gone` that the walks did not see (in
 * `seen`) and `gone` calls gone, each ended at `time`. In the caller's transaction, after
 * the folders seen are recorded.
 */
export function endGoneFolders(
  db: StateDb,
  seen: ReadonlyMap<string, unknown>,
  gone: GoneFolders,
  time: number,
): number {
  if (db.version < FOLDER_SPANS_SCHEMA) return 0;
  const keep = db.q(
    `INSERT OR REPLACE INTO ended_folders (path, seen_from, gone_at)
     SELECT path, seen_from, ?1 FROM folders WHERE path = ?2 AND seen_from IS NOT NULL`,
  );
  const end = db.q("UPDATE folders SET gone_at = ?1 WHERE path = ?2");
  let ended = 0;
  // Every folder standing in scope seen (the usual run): none to look at one by one. Those
  // seen stand, recorded just now, and lie in scope (the walks go nowhere else).
  const standing = gone.scope.reduce((n, prefix) => n + standingCount(db, prefix), 0);
  if (standing === seen.size) return 0;
  for (const prefix of gone.scope) {
    for (const [path] of standingAt(db, prefix)) {
      if (seen.has(path) || !gone.isGone(path)) continue;
      keep.run(time, path);
      end.run(time, path);
      ended++;
    }
  }
  return ended;
}

/** The folders recorded as standing at or below a logical path: itself, then its range. */
function standingAt(db: StateDb, at: string): [string][] {
  return [
    ...db.arrays<[string]>("SELECT path FROM folders WHERE gone_at IS NULL AND path = ?", at),
    ...db.arrays<[string]>(`SELECT path FROM folders WHERE gone_at IS NULL AND ${BELOW}`, at),
  ];
}

/** How many folders are recorded as standing at or below a logical path. */
function standingCount(db: StateDb, at: string): number {
  const count = (where: string) =>
    (db.q(`SELECT count(*) AS n FROM folders WHERE gone_at IS NULL AND ${where}`).get(at) as {
      n: number;
    }).n;
  return count("path = ?1") + count(BELOW);
}

/** Below the logical path ?1, by the primary key's order (`a/` < `a/…` < `a0`). */
const BELOW = "path > ?1 || '/' AND path < ?1 || '0'";

/**
 * When a span that began before spans were recorded (0) began: with the backup, at its
 * first run's start (a state upgraded from schema 9 has its runs; none, 0).
 */
const SPAN_BEGAN = "coalesce(nullif(seen_from, 0), (SELECT min(started_at) FROM runs), 0)";

/**
 * A folders row that stands: not found gone, and seen by a walk since spans were recorded.
 * A row migrated from schema 9 that none has seen (NULL: in a source the config no longer
 * names, below a folder no walk could list since) may be a folder removed long before, as
 * schema 9 kept a row for every folder ever walked: whether it stood is not known, and it
 * is made by no restore (those on the way to files are, as before schema 10).
 */
const STANDS = "gone_at IS NULL AND seen_from IS NOT NULL";

/**
 * Up to `limit` of the folders strictly below a logical path ("" everything) that stood at
 * the moment `at` (undefined: those standing now), in path order, after the path `after`
 * (a page: the caller asks again after the last); none for a state older than schema 10. A
 * row whose span began before spans were recorded (0, NULL) stands from the backup's first
 * run (`SPAN_BEGAN`).
 */
export function foldersStanding(
  db: StateDb,
  under: string,
  at: number | undefined,
  after: string,
  limit: number,
): string[] {
  if (db.version < FOLDER_SPANS_SCHEMA) return [];
  // ?1 the path (unused for everything: a source's name may sort before '/'), ?2 `after`.
  const range = under === "" ? "path > ?2" : "path > max(?1 || '/', ?2) AND path < ?1 || '0'";
  const sql = at === undefined
    ? `SELECT path FROM folders WHERE ${STANDS} AND ${range} ORDER BY path LIMIT ?3`
    : `SELECT path FROM folders WHERE ${STANDS} AND ${range} AND ${SPAN_BEGAN} <= ?4
       UNION
       SELECT path FROM ended_folders WHERE ${range} AND ${SPAN_BEGAN} <= ?4 AND gone_at > ?4
       ORDER BY path LIMIT ?3`;
  const args = at === undefined ? [under, after, limit] : [under, after, limit, at];
  return db.arrays<[string]>(sql, ...args).map((r) => r[0]);
}

/** Whether the folder at a logical path stood at the moment `at` (undefined: stands now). */
export function folderStood(db: StateDb, path: string, at?: number): boolean {
  if (db.version < FOLDER_SPANS_SCHEMA) return false;
  if (at === undefined) {
    return db.q(`SELECT 1 FROM folders WHERE path = ? AND ${STANDS}`).get(path) !== undefined;
  }
  return db.q(
    `SELECT 1 FROM folders WHERE path = ?1 AND ${STANDS} AND ${SPAN_BEGAN} <= ?2
     UNION ALL
     SELECT 1 FROM ended_folders WHERE path = ?1 AND ${SPAN_BEGAN} <= ?2 AND gone_at > ?2`,
  ).get(path, at) !== undefined;
}

/** A span of a folder's: from when it stood, to when a walk found it gone (null: standing). */
export interface FolderSpan {
  from: number;
  to: number | null;
}

/**
 * Every span of the folder at a logical path, oldest first, as `history PATH` shows them: those
 * that ended, then the one standing; none for a state older than schema 10, nor for a row
 * migrated from schema 9 that no walk has seen (`STANDS`: when it stood is not known).
 */
export function folderSpans(db: StateDb, path: string): FolderSpan[] {
  if (db.version < FOLDER_SPANS_SCHEMA) return [];
  return db.arrays<[number, number | null]>(
    `SELECT ${SPAN_BEGAN}, gone_at FROM ended_folders WHERE path = ?1
     UNION ALL
     SELECT ${SPAN_BEGAN}, NULL FROM folders WHERE path = ?1 AND ${STANDS}
     ORDER BY 1`,
    path,
  ).map(([from, to]) => ({ from, to }));
}

/**
 * The folders recorded at or below a logical path (every span, standing or gone), each with
 * whether it stands now; none for a state older than schema 10. For `purge` (its PATHs).
 */
export function folderRecordsAt(db: StateDb, at: string): { path: string; standing: boolean }[] {
  if (db.version < FOLDER_SPANS_SCHEMA) return [];
  const sql = `SELECT path, gone_at IS NULL AS standing FROM folders WHERE path = ?1 OR ${BELOW}`;
  return db.arrays<[string, number]>(sql, at).map(([path, standing]) => ({
    path,
    standing: standing === 1,
  }));
}

/**
 * Forgets the folders at `paths` (logical), every span of theirs: `purge` of folders no run
 * follows now, whose files it deleted, so that no restore of an earlier moment makes their
 * empty skeleton. In the caller's transaction.
 */
export function forgetFolders(db: StateDb, paths: readonly string[]): void {
  if (db.version < FOLDER_SPANS_SCHEMA) return;
  const row = db.q("DELETE FROM folders WHERE path = ?");
  const ended = db.q("DELETE FROM ended_folders WHERE path = ?");
  for (const path of paths) {
    row.run(path);
    ended.run(path);
  }
}

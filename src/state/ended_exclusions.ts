/**
 * The exclusions that ended (schema 8 on): a file the config took out after it was backed
 * up is marked excluded in `files` from the batch that took it out (`excluded_at`); when it
 * is followed again (its pattern removed, its folder's tag removed, shrunk under
 * `exclude_larger_than`), deleted from its source while excluded, or purged, that mark goes,
 * and its span goes to `ended_exclusions`: from `excluded_at` to the recorded time of the
 * batch that ended it (half-open, as a content's interval: excluded at `from`, followed
 * again at `to`), and how it ended. The readers (`diff`, `ls --at`, `restore --at`,
 * `history`) then answer of a moment inside it as they did while it lasted.
 *
 * Written in the batch's own transaction (record.ts), before the files row changes, and
 * only where the planner found the file excluded (the action's `endsExclusion`; a purge,
 * rare, asks the row itself): a run where no exclusion ends writes nothing here and reads
 * nothing more. An interruption rolls the span back with the batch, and the next run ends
 * the exclusion again. An exclusion whose start no version recorded (`excluded_at` NULL:
 * taken out before schema 7) leaves no span: there is no moment to begin it. Readers read
 * the spans at or below their PATHs once, by the primary key (they are few: one per
 * exclusion that ended); a state older than schema 8, read without migrating, has none.
 */
import type { StateDb } from "./connection.ts";

/** How an exclusion ended. */
export type ExclusionEnd = "followed" | "deleted" | "purged";

/** An exclusion that ended, and the content the backup kept of the file during it. */
export interface EndedExclusion {
  path: string;
  /** When it was taken out (ms, recorded time), and when that ended. */
  from: number;
  to: number;
  by: ExclusionEnd;
  /**
   * The content current during it (its number, and when it became current); null where
   * none was (purged: the purge ended its content where the exclusion began).
   */
  seq: number | null;
  validFrom: number | null;
}

/**
 * Ends `path`'s exclusion at `time`, should the state mark it excluded since a recorded
 * moment (the caller holds the batch's transaction, and changes the files row after).
 */
export function endExclusion(db: StateDb, path: string, time: number, by: ExclusionEnd): void {
  db.q(
    `INSERT OR REPLACE INTO ended_exclusions (path, excluded_at, ended_at, ended_by)
     SELECT path, excluded_at, ?, ? FROM files
     WHERE path = ? AND status = 'excluded' AND excluded_at IS NOT NULL`,
  ).run(time, by, path);
}

/** The head of the readers' statement: each span, with the content current at its start. */
const SPANS = `SELECT e.path, e.excluded_at, e.ended_at, e.ended_by,
    (SELECT c.seq FROM copies c WHERE c.path = e.path AND c.valid_from <= e.excluded_at
       AND (c.valid_to IS NULL OR c.valid_to > e.excluded_at) ORDER BY c.seq DESC LIMIT 1),
    (SELECT c.valid_from FROM copies c WHERE c.path = e.path AND c.valid_from <= e.excluded_at
       AND (c.valid_to IS NULL OR c.valid_to > e.excluded_at) ORDER BY c.seq DESC LIMIT 1)
  FROM ended_exclusions e`;

type SpanRow = [string, number, number, ExclusionEnd, number | null, number | null];

/**
 * The exclusions that ended at or below a logical path ("" everything), in path order and
 * then oldest first: the path itself, then its folder's range, by the primary key.
 */
export function endedExclusions(db: StateDb, at: string): EndedExclusion[] {
  if (db.version < 8) return [];
  const order = "ORDER BY e.path, e.excluded_at";
  const rows = at === "" ? db.arrays<SpanRow>(`${SPANS} ${order}`) : [
    ...db.arrays<SpanRow>(`${SPANS} WHERE e.path = ? ${order}`, at),
    ...db.arrays<SpanRow>(`${SPANS} WHERE e.path > ? AND e.path < ? ${order}`, `${at}/`, `${at}0`),
  ];
  return rows.map(([path, from, to, by, seq, validFrom]) => ({
    path,
    from,
    to,
    by,
    seq,
    validFrom,
  }));
}

/**
 * Up to `upTo` paths below a logical folder that had a content at the moment `at` (one
 * each), by copies_by_path: whether a folder's files were all excluded at a moment some of
 * whose exclusions ended since is told by whether these are all among those excluded then.
 */
export function recordedBelowAt(db: StateDb, folder: string, at: number, upTo: number): string[] {
  return db.arrays<[string]>(
    `SELECT path FROM copies WHERE path > ? AND path < ? AND valid_from <= ?
       AND (valid_to IS NULL OR valid_to > ?) LIMIT ?`,
    `${folder}/`,
    `${folder}0`,
    at,
    at,
    upTo,
  ).map((r) => r[0]);
}

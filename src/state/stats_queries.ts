/**
 * The state's read queries for `stats`: what each recorded path's stored copies add up to,
 * by where they are kept (latest, version, deleted, duplicate), with its contents recorded
 * whose copy is gone (pruned, lost, purged), a page of paths at a time through
 * copies_by_path, each page its own short statement, with whether the path is a file the
 * config leaves out now (its `files` row, by its primary key); and the bytes the stored contents
 * would take stored once each (the sum over distinct digests), one statement that SQLite
 * sorts itself, its memory bounded (it spills to a temporary file), so that nothing grows
 * with the state but the time. Reads only: an interruption leaves nothing.
 */
import type { StateDb } from "./connection.ts";

/** Where a stored copy is kept: a copy at each of these is a file in the backup root. */
export const STORED_LOCATIONS = ["latest", "version", "deleted", "duplicate"] as const;
export type StoredLocation = typeof STORED_LOCATIONS[number];

/** Where a content recorded has no copy left (not counted in any size). */
export const GONE_LOCATIONS = ["pruned", "lost", "purged"] as const;
export type GoneLocation = typeof GONE_LOCATIONS[number];

/**
 * One recorded path's figures, in column order: its path, then for each of
 * STORED_LOCATIONS the copies there and their files' bytes (a symlink counted, its size
 * not, as `ls` adds sizes up), then for each of GONE_LOCATIONS its contents recorded so,
 * then 1 where the path is tracked as excluded (the config leaves it out now), else 0.
 */
export type PathSums = [
  path: string,
  latest: number,
  latestBytes: number,
  version: number,
  versionBytes: number,
  deleted: number,
  deletedBytes: number,
  duplicate: number,
  duplicateBytes: number,
  pruned: number,
  lost: number,
  purged: number,
  excluded: number,
];

const bytesAt = (l: string) => `total(CASE WHEN location = '${l}' AND kind = 'file' THEN size END)`;

const SUMS = `SELECT path, ${
  STORED_LOCATIONS.map((l) => `sum(location = '${l}'), ${bytesAt(l)}`).join(", ")
}, ${GONE_LOCATIONS.map((l) => `sum(location = '${l}')`).join(", ")}, coalesce((SELECT
  status = 'excluded' FROM files WHERE files.path = copies.path), 0) FROM copies`;

/**
 * Up to `limit` paths recorded after `after` (and before `before`, where given: a folder's
 * paths lie between `f/` and `f0`), in path order (byte order, as SQLite compares text),
 * each summed up whole: a group a path, read through copies_by_path in its order, so that
 * the statement stops at the page's last path.
 */
export function storedSumsPage(
  db: StateDb,
  after: string,
  limit: number,
  before?: string,
): PathSums[] {
  return before === undefined
    ? db.arrays<PathSums>(
      `${SUMS} WHERE path > ? GROUP BY path ORDER BY path LIMIT ?`,
      after,
      limit,
    )
    : db.arrays<PathSums>(
      `${SUMS} WHERE path > ? AND path < ? GROUP BY path ORDER BY path LIMIT ?`,
      after,
      before,
      limit,
    );
}

/** One path's figures, if it was ever recorded. */
export function storedSumsOf(db: StateDb, path: string): PathSums | undefined {
  return db.arrays<PathSums>(`${SUMS} WHERE path = ? GROUP BY path`, path)[0];
}

/**
 * How many distinct file contents the stored copies at or below `targets` hold (none:
 * everything), and their bytes, each counted once: grouped by algorithm and digest (the
 * same bytes recorded under two hash algorithms count twice); and the copies of files
 * holding them (more than the contents where one is stored more than once, an empty
 * file's content too, whose copies take no bytes).
 */
export function distinctContents(
  db: StateDb,
  targets: readonly string[],
): { contents: number; bytes: number; copies: number } {
  const stored = STORED_LOCATIONS.map((l) => `'${l}'`).join(", ");
  const within = targets.map(() => "(path = ? OR (path > ? AND path < ?))").join(" OR ");
  const [[contents, bytes, copies]] = db.arrays<[number, number, number]>(
    `SELECT count(*), total(size), total(n) FROM (SELECT max(size) AS size, count(*) AS n
     FROM copies
     WHERE kind = 'file' AND location IN (${stored})${targets.length ? ` AND (${within})` : ""}
     GROUP BY algo, hash)`,
    ...targets.flatMap((t) => [t, `${t}/`, `${t}0`]),
  );
  return { contents, bytes, copies };
}

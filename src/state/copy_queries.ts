/**
 * The state's read queries on stored copies: the versions and deleted files' copies
 * retention prunes, and the copies
 * restore, history and verify list, a page at a time. Each is one SQL statement, prepared
 * once by the connection and reused; rows are mapped by rows.ts. Reads only: an
 * interruption leaves nothing.
 */
import type { FolderMeta } from "../core/types.ts";
import type { DatedVersion, StoredVersion } from "../core/retention.ts";
import type { StateDb } from "./connection.ts";
import { type Row, type StoredCopy, toStoredCopy } from "./rows.ts";

/**
 * The versions of every path that has more than `max` of them, as the retention rule reads
 * them: with `keep_daily` and its kin, files keep up to their sum more, and a `run` reads
 * them all, so only four columns, as arrays (100,000 versions: 90 ms, not 500 as objects
 * with their places and recorded contents, measured).
 */
export function datedVersionsOverLimit(db: StateDb, max: number): DatedVersion[] {
  const rows = db.arrays<[string, number, number, number]>(
    `SELECT path, id, seq, valid_from FROM copies
     WHERE location = 'version' AND path IN (
       SELECT path FROM copies WHERE location = 'version' GROUP BY path HAVING count(*) > ?)`,
    max,
  );
  return rows.map(([path, copyId, seq, validFrom]) => ({ path, copyId, seq, validFrom }));
}

/** The copies `ids` that are versions, with their places and recorded contents, in that order. */
export function storedVersions(db: StateDb, ids: number[]): StoredVersion[] {
  const select = db.q(
    `SELECT ${VERSION_COLUMNS} FROM copies WHERE id = ? AND location = 'version'`,
  );
  return ids.flatMap((id) => {
    const r = select.get(id) as Row | undefined;
    return r === undefined ? [] : [toStoredVersion(r)];
  });
}

/** What a prune needs of a stored copy. */
const VERSION_COLUMNS = "id, path, seq, stored_at, valid_from, kind, size, mtime_ms, hash, algo";

/**
 * The deleted files' copies deleted before a time, in path order. `+path` keeps SQLite from
 * reading the copies in that order through copies_by_path, which looks every copy's row up:
 * one pass over the copies, the few found then sorted (100,000 deleted copies, none found:
 * 12 ms, not 54; measured).
 */
export const DELETED_BEFORE = `SELECT ${VERSION_COLUMNS} FROM copies
  WHERE location = 'deleted' AND valid_to < ? ORDER BY +path, +seq`;

/**
 * The copies of deleted files (in _deleted/) deleted before `before` (ms since the epoch,
 * as the state records times), in path order. A scan of the copies: asked only where
 * `retention.keep_deleted_days` is set.
 */
export function deletedBefore(db: StateDb, before: number): StoredVersion[] {
  return (db.q(DELETED_BEFORE).all(before) as Row[]).map(toStoredVersion);
}

function toStoredVersion(r: Row): StoredVersion {
  return {
    path: r.path as string,
    copyId: r.id as number,
    seq: r.seq as number,
    storedAt: r.stored_at as string,
    validFrom: r.valid_from as number,
    ...(r.kind === "file" && {
      recorded: {
        size: r.size as number,
        mtimeMs: r.mtime_ms as number,
        hash: r.hash as string,
        algo: r.algo as string,
      },
    }),
    ...(r.kind === "symlink" && { link: { hash: r.hash as string, algo: r.algo as string } }),
  };
}

/**
 * Rows a page of stored copies reads: bounded memory (a few hundred KiB of rows), and no
 * statement held open long; a size chosen, not tuned (a query a thousand copies costs
 * nothing beside reading the copies).
 */
const STORED_PAGE_ROWS = 1000;

/**
 * Every stored copy in storage path order (then id), read a page at a time through the
 * storage index: each page is its own short statement, so a long verify neither holds the
 * whole state in memory nor keeps a read open that would hold off a backup's commit.
 */
export function* eachStoredCopy(db: StateDb): Generator<StoredCopy> {
  let after: [string, number] | undefined;
  for (;;) {
    const rows = (after === undefined
      ? db.q("SELECT * FROM copies WHERE stored_at IS NOT NULL ORDER BY stored_at, id LIMIT ?")
        .all(STORED_PAGE_ROWS)
      : db.q(
        `SELECT * FROM copies WHERE stored_at IS NOT NULL AND (stored_at, id) > (?, ?)
         ORDER BY stored_at, id LIMIT ?`,
      ).all(after[0], after[1], STORED_PAGE_ROWS)) as Row[];
    for (const r of rows) {
      yield toStoredCopy(r);
    }
    if (rows.length < STORED_PAGE_ROWS) {
      return;
    }
    const last = rows[rows.length - 1];
    after = [last.stored_at as string, last.id as number];
  }
}

/** The id and kind of each copy recorded at a storage path (normally one or none). */
export function copyKindsAt(db: StateDb, storedAt: string): [number, "file" | "symlink"][] {
  return db.arrays("SELECT id, kind FROM copies WHERE stored_at = ?", storedAt);
}

/** The copy recorded at a storage path, if any: whose it is, its number and its place. */
export function copyStoredAt(
  db: StateDb,
  storedAt: string,
): { path: string; seq: number; location: string } | undefined {
  return db.q("SELECT path, seq, location FROM copies WHERE stored_at = ? LIMIT 1")
    .get(storedAt) as { path: string; seq: number; location: string } | undefined;
}

/** Whether some copy is recorded below a storage folder (through the storage index). */
export function storedBelow(db: StateDb, folder: string): boolean {
  return db.q("SELECT 1 FROM copies WHERE stored_at >= ? AND stored_at < ? LIMIT 1")
    .get(`${folder}/`, `${folder}0`) !== undefined;
}

export function copiesOf(db: StateDb, path: string): StoredCopy[] {
  return (db.q("SELECT * FROM copies WHERE path = ? ORDER BY seq").all(path) as Row[])
    .map(toStoredCopy);
}

/**
 * Rows a page of paths reads (each page then holds every row of its paths): as
 * STORED_PAGE_ROWS, chosen, not tuned.
 */
const PATH_PAGE_ROWS = 2000;

/**
 * Every recorded content (or those below a logical folder), in pages of whole paths (every
 * row of a path in one page) in path order: a restore reads the state as it goes, never
 * all of it. `current`: only the contents no later one replaced and no deletion ended
 * (`valid_to` unset), those a restore of the latest picks, the others left to SQLite (a
 * path's earlier contents are never turned into objects).
 */
export function* copyPages(
  db: StateDb,
  below?: string,
  current = false,
): Generator<StoredCopy[]> {
  // A folder's paths lie between `f/` and `f0` ('0' follows '/').
  const upper = below === undefined ? [] : [`${below}0`];
  const where = (below === undefined ? "" : " AND path < ?") +
    (current ? " AND valid_to IS NULL" : "");
  let bound = below === undefined ? "" : `${below}/`;
  let first = true;
  for (;;) {
    const rows = db.q(
      `SELECT * FROM copies WHERE path ${first ? ">=" : ">"} ?${where} ORDER BY path, seq LIMIT ?`,
    ).all(bound, ...upper, PATH_PAGE_ROWS) as Row[];
    first = false;
    if (rows.length < PATH_PAGE_ROWS) {
      if (rows.length > 0) yield rows.map(toStoredCopy);
      return;
    }
    // The last path may go on past the page: it starts the next one.
    const last = rows[rows.length - 1].path as string;
    const whole = rows.filter((r) => r.path !== last);
    if (whole.length === 0) { // one path with a page of contents or more
      yield copiesOf(db, last);
      bound = last;
      continue;
    }
    yield whole.map(toStoredCopy);
    bound = whole[whole.length - 1].path as string;
  }
}

/** Whether any content was ever recorded at this logical path. */
/** How many versions and deleted files have a stored copy (`verify --forget-missing`'s base). */
export function storedOldCopies(db: StateDb): number {
  return (db.q(
    `SELECT count(*) AS n FROM copies
     WHERE stored_at IS NOT NULL AND location IN ('version', 'deleted')`,
  ).get() as Row).n as number;
}

export function isRecorded(db: StateDb, path: string): boolean {
  return db.q("SELECT 1 FROM copies WHERE path = ? LIMIT 1").get(path) !== undefined;
}

/**
 * The other spellings recorded of a logical path or folder, differing from it only in
 * letter case (ASCII: SQLite's lower()) or Unicode normal form; at most `limit`. A scan of
 * every path, for a message about a path that matched nothing.
 */
export function otherSpellings(db: StateDb, path: string, limit = 2): string[] {
  const found = new Set<string>();
  for (const form of new Set([path, path.normalize("NFC"), path.normalize("NFD")])) {
    const rows = db.q(
      `SELECT DISTINCT substr(path, 1, ?1) AS p FROM copies WHERE lower(substr(path, 1, ?1)) =
       lower(?2) AND (length(path) = ?1 OR substr(path, ?1 + 1, 1) = '/') LIMIT ?3`,
    ).all([...form].length, form, limit + 1) as { p: string }[];
    for (const { p } of rows) if (p !== path) found.add(p);
  }
  return [...found].slice(0, limit);
}

/** Whether any content was ever recorded below this logical folder. */
export function isRecordedBelow(db: StateDb, folder: string): boolean {
  return db.q("SELECT 1 FROM copies WHERE path >= ? AND path < ? LIMIT 1")
    .get(`${folder}/`, `${folder}0`) !== undefined;
}

/** A folder's recorded metadata; undefined where none is (see `hasTable` for schema < 4). */
export function folderMeta(db: StateDb, path: string): FolderMeta | undefined {
  const xattrs = db.version >= 9 ? "xattrs" : "NULL AS xattrs";
  const r = db.q(`SELECT mode, uid, gid, mtime_ms, ${xattrs} FROM folders WHERE path = ?`)
    .get(path) as Row | undefined;
  if (r === undefined) return undefined;
  return {
    mode: r.mode as number,
    uid: (r.uid as number | null) ?? undefined,
    gid: (r.gid as number | null) ?? undefined,
    mtimeMs: r.mtime_ms as number,
    ...r.xattrs == null ? {} : { xattrs: r.xattrs as Uint8Array },
  };
}

/**
 * The current copies of files tracked and still backed up (status current) holding any of
 * `digests` (`<algo>:<hash>`), by digest: one statement for up to HOLDER_CHUNK of them,
 * through the index of current copies by digest prefix (schema 2 on; the digests of
 * tracked files before), not one a digest (20,000 digests: 1.3 s one at a time).
 */
export function currentHolders(
  db: StateDb,
  digests: readonly string[],
): Map<string, { path: string; storedAt: string }[]> {
  const held = new Map<string, { path: string; storedAt: string }[]>();
  const sql = db.version >= 2
    ? `SELECT f.path, c.stored_at, f.algo, f.hash FROM copies c
       JOIN files f ON f.path = c.path AND f.copy_id = c.id
       WHERE substr(c.hash, 1, 12) IN (SELECT value FROM json_each(?1))
         AND c.valid_to IS NULL AND f.kind = 'file' AND f.status = 'current'
       ORDER BY f.path`
    : `SELECT f.path, c.stored_at, f.algo, f.hash FROM files f
       JOIN copies c ON c.id = f.copy_id
       WHERE f.hash IN (SELECT value FROM json_each(?1))
         AND f.kind = 'file' AND f.status = 'current' ORDER BY f.path`;
  const wanted = new Set(digests);
  for (let i = 0; i < digests.length; i += HOLDER_CHUNK) {
    const chunk = digests.slice(i, i + HOLDER_CHUNK).map((d) => d.slice(d.indexOf(":") + 1));
    const keys = db.version >= 2 ? chunk.map((h) => h.slice(0, 12)) : chunk;
    for (const r of db.q(sql).all(JSON.stringify(keys)) as Row[]) {
      const digest = `${r.algo}:${r.hash}`;
      if (!wanted.has(digest)) continue;
      const copy = { path: r.path as string, storedAt: r.stored_at as string };
      held.set(digest, [...held.get(digest) ?? [], copy]);
    }
  }
  return held;
}

/** Digests a `currentHolders` statement asks for. */
const HOLDER_CHUNK = 500;

/** What the state recorded of one path over all time, as `find` lists it (see below). */
export type RecordedPathRow = [
  path: string,
  contents: number,
  /** Of those, how many still have a copy in the backup root. */
  stored: number,
  purged: number,
  firstFrom: number,
  lastFrom: number,
  lastTo: number | null,
  lastPruned: number | null,
  /** The path's row in the tracked files: "current", "excluded", or null (none). */
  status: string | null,
  /** When an exclude pattern took it out, where recorded (schema 7 on). */
  excludedAt: number | null,
];

/**
 * Up to `limit` paths recorded after `after`, in path order (byte order, as SQLite compares
 * text): read from copies_by_path alone, one short statement a page, so that `find` holds
 * no more than a page of a state of any size, and no read open between pages that would
 * hold off a backup's commit.
 */
export function recordedPaths(db: StateDb, after: string, limit: number): string[] {
  return db.arrays<[string]>(
    "SELECT DISTINCT path FROM copies WHERE path > ? ORDER BY path LIMIT ?",
    after,
    limit,
  ).map((r) => r[0]);
}

/** The statement's head; `files.excluded_at` where the state's schema has it (7 on). */
const summed = (db: StateDb) =>
  `SELECT c.path, count(*), count(c.stored_at), sum(c.location = 'purged'),
    min(c.valid_from), max(c.valid_from), max(c.valid_to), max(c.pruned_at),
    (SELECT f.status FROM files f WHERE f.path = c.path),
    ${db.version >= 7 ? "(SELECT f.excluded_at FROM files f WHERE f.path = c.path)" : "NULL"}
  FROM copies c`;

/**
 * What each recorded path from `first` to `last` (`first` alone where no `last`) adds up
 * to (`find`), in path order, through copies_by_path. `find` asks one path at a time where a
 * page has few it names, a page's range where it has many: a statement costs about 28 µs,
 * a path summed up in a range about 7 (100,000 paths: 0.65 s summed up in ranges, 2.8 s
 * one at a time, measured), and the paths not named are never read at all.
 */
export function recordedSums(db: StateDb, first: string, last?: string): RecordedPathRow[] {
  return last === undefined
    ? db.arrays<RecordedPathRow>(`${summed(db)} WHERE c.path = ? GROUP BY c.path`, first)
    : db.arrays<RecordedPathRow>(
      `${summed(db)} WHERE c.path >= ? AND c.path <= ? GROUP BY c.path ORDER BY c.path`,
      first,
      last,
    );
}

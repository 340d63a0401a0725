/**
 * Stored copies by digest, for a new or changed file's staged copy to share its disk blocks
 * with one holding the same content (share_extents.ts): a file moved or renamed (its old
 * path's copy being archived to `_deleted/` in this run, or there already), one put back to
 * an earlier content (a version), a deleted file made again. Asked only where the backup
 * root can share blocks; the digest filter of stored copies (digest_filter.ts'
 * `mayBeStored`) answers a content stored nowhere from memory, and a content that may be
 * stored costs one query on the hash indexes: `copies_by_hash` (current copies, schema 2
 * on) and `copies_kept_by_hash` (versions and deleted files' copies).
 *
 * `copies_kept_by_hash` is no migration's: every state would then keep it up, one more
 * B-tree page written at random per archived version or deletion (a 100k run of 1%
 * changed wrote about 6,900 WAL pages for nine such pages per file: performance-history.md),
 * on ext4 and tmpfs too, for a lookup only btrfs and XFS roots make; and a schema version
 * of its own would have older versions of the tool refuse the state. Instead the first run or watch
 * session on a root whose file system can share (`mayShareAt`; `share_blocks` not false)
 * makes it, at its start, in
 * a transaction of its own (`keepKeptCopiesIndex`, `IF NOT EXISTS`: every later session's
 * costs one look at the schema, 0.06 ms). Making it reads the copies table once and
 * writes the kept copies' entries: on a synthetic state of 100,000 copies (32 MiB, WAL,
 * synchronous = FULL, its pages in the page cache), 22-30 ms with 1,000 of them kept (a
 * 100,000-file state after one run of 1% changed), 64-68 ms and +1.0 MiB (254 WAL pages)
 * with 50,000 kept, 106 ms and +2.0 MiB with 100,000 (paid once, by btrfs and XFS roots
 * only).
 *
 * The state keeps its schema version: SQLite keeps an index up without being asked, an
 * older version of the tool reads and writes the state as before (its schema checks ask
 * for tables only; `verify`'s integrity check checks the index as any other), and a root
 * copied from btrfs to ext4 keeps the index: harmless, each archived change then writing
 * its entry as on btrfs. The lookup asks for kept copies only where the index exists
 * (looked at once per connection), for current copies only elsewhere: never a scan of
 * the copies table. An interruption while it is made leaves no index (rolled back), made
 * again by the next session. Reads only, but for the index.
 *
 * Found by digest under the run's algorithm only: after a `hash_algorithm` change the
 * current copies' digests are converted by the next run, but kept copies keep the old
 * algorithm's and are not found (a file put back to such a version is stored whole, once:
 * layout.md says why that is left so).
 */
import type { StateDb } from "./connection.ts";
import type { DigestHolders } from "./digest_filter.ts";
import type { Row } from "./rows.ts";

/**
 * At most this many copies are named (the batch tries them in order until one is a file
 * on disk of the right size): a content held by thousands of copies needs one only.
 */
const CANDIDATES = 4;

/** The kept copies by the first 12 hex digits of their digest (pruned or lost: no stored_at). */
export const KEPT_INDEX = "copies_kept_by_hash";
const MAKE_KEPT_INDEX = `CREATE INDEX IF NOT EXISTS ${KEPT_INDEX} ON copies (substr(hash, 1, 12))
  WHERE valid_to IS NOT NULL AND stored_at IS NOT NULL`;

/**
 * Current copies first (a latest copy archived in the same batch keeps its inode), then
 * kept ones, newest first: each part an index search by the digest's 12-digit prefix.
 */
export const STORED_BY_HASH = `
  SELECT stored_at FROM (
    SELECT stored_at, 0 AS k, id FROM copies
    WHERE substr(hash, 1, 12) = substr(?1, 1, 12) AND valid_to IS NULL
      AND hash = ?1 AND algo = ?2 AND kind = 'file' AND stored_at IS NOT NULL
      AND location IN ('latest', 'duplicate')
    UNION ALL
    SELECT stored_at, 1 AS k, id FROM copies
    WHERE substr(hash, 1, 12) = substr(?1, 1, 12) AND valid_to IS NOT NULL
      AND stored_at IS NOT NULL AND hash = ?1 AND algo = ?2 AND kind = 'file'
      AND location IN ('version', 'deleted'))
  ORDER BY k, id DESC LIMIT ${CANDIDATES}`;

/** Current copies only (copies_by_hash): where the kept copies' index was never made. */
export const CURRENT_BY_HASH = `
  SELECT stored_at FROM copies
  WHERE substr(hash, 1, 12) = substr(?1, 1, 12) AND valid_to IS NULL
    AND hash = ?1 AND algo = ?2 AND kind = 'file' AND stored_at IS NOT NULL
    AND location IN ('latest', 'duplicate') LIMIT ${CANDIDATES}`;

/** Per connection: whether the state has the kept copies' index (asked once). */
const hasKeptIndex = new WeakMap<StateDb, boolean>();

/**
 * Makes the kept copies' index where it is missing, in a transaction of its own: by a run
 * or watch session's writer, at its start, on a root that can share blocks.
 */
export function keepKeptCopiesIndex(db: StateDb): void {
  if (db.version < 2) return;
  db.tx(() => db.q(MAKE_KEPT_INDEX).run());
  hasKeptIndex.set(db, true);
}

/** Whether the state has the kept copies' index (looked at once per connection). */
export function keptIndexMade(db: StateDb): boolean {
  let made = hasKeptIndex.get(db);
  if (made === undefined) {
    made = db.q("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?")
      .get(KEPT_INDEX) !== undefined;
    hasKeptIndex.set(db, made);
  }
  return made;
}

/** Storage paths of stored copies holding a digest, as the state records them; [] if none. */
export function storedCopiesOf(
  db: StateDb,
  holders: DigestHolders,
  hash: string,
  algo: string,
): string[] {
  if (db.version < 2 || !holders.mayBeStored(hash)) return [];
  const sql = keptIndexMade(db) ? STORED_BY_HASH : CURRENT_BY_HASH;
  return (db.q(sql).all(hash, algo) as Row[]).map((r) => r.stored_at as string);
}

/** Stored copies' digests after the copy id `after`, in id order, for the filter. */
export function storedPage(db: StateDb, after: number, limit: number): [number, string][] {
  return db.arrays<[number, string]>(
    `SELECT id, hash FROM copies WHERE id > ? AND stored_at IS NOT NULL AND kind = 'file'
     ORDER BY id LIMIT ?`,
    after,
    limit,
  );
}

/** About how many copies are stored (the count of copies: sizes the filter). */
export function storedCount(db: StateDb): number {
  return (db.q("SELECT max(id) AS n FROM copies").get() as Row).n as number ?? 0;
}

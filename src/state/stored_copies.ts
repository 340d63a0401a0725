/**
 * Stored copies by digest, for a new or changed file's staged copy to share its disk blocks
 * with one holding the same content (share_extents.ts): a file moved or renamed (its old
 * path's copy being archived to `_deleted/` in this run, or there already), one put back to
 * an earlier content (a version), a deleted file made again. Asked only where the backup
 * root can share blocks; the digest filter of stored copies (digest_filter.ts'
 * `mayBeStored`) answers a content stored nowhere from memory, and a content that may be
 * stored costs one query on the hash indexes: `copies_by_hash` (current copies, schema 2
 * on) and `copies_kept_by_hash` (versions and deleted files' copies, schema 9 on). Reads
 * only.
 */
import type { StateDb } from "./connection.ts";
import type { DigestHolders } from "./digest_filter.ts";
import type { Row } from "./rows.ts";

/**
 * At most this many copies are named (the batch tries them in order until one is a file
 * on disk of the right size): a content held by thousands of copies needs one only.
 */
const CANDIDATES = 4;

/**
 * Current copies first (a latest copy archived in the same batch keeps its inode), then
 * kept ones, newest first: each part an index search by the digest's 12-digit prefix.
 */
const STORED_BY_HASH = `
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

/** The same before schema 9: current copies only (a state read without migrating). */
const CURRENT_BY_HASH = `
  SELECT stored_at FROM copies
  WHERE substr(hash, 1, 12) = substr(?1, 1, 12) AND valid_to IS NULL
    AND hash = ?1 AND algo = ?2 AND kind = 'file' AND stored_at IS NOT NULL
    AND location IN ('latest', 'duplicate') LIMIT ${CANDIDATES}`;

/** Storage paths of stored copies holding a digest, as the state records them; [] if none. */
export function storedCopiesOf(
  db: StateDb,
  holders: DigestHolders,
  hash: string,
  algo: string,
): string[] {
  if (db.version < 2 || !holders.mayBeStored(hash)) return [];
  const sql = db.version >= 9 ? STORED_BY_HASH : CURRENT_BY_HASH;
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

/**
 * The state's writes on stored copies and folders outside a batch's actions (record.ts):
 * the folders' metadata a walk saw (with a batch's commit, or on its own), a copy made again
 * at another storage path by `verify --repair`, old copies recorded as lost by `verify
 * --forget-missing`, and the records of copies gone already (lost, pruned) that `purge`
 * marks purged. Each runs in the caller's transaction or is one statement: an
 * interruption leaves the state as the last committed one left it.
 */
import type { FolderMeta } from "../core/types.ts";
import type { StateDb } from "./connection.ts";
import { XATTRS_KEPT } from "../engine/fs/xattrs.ts";

/**
 * Records the folders' metadata; a row that holds the same already is not rewritten. Where
 * extended attributes are not read here (no FFI: engine/fs/xattrs.ts), or a folder could
 * not be opened to read them, the recorded ones are kept, as a copy's are (record.ts), not
 * taken for none.
 */
export function upsertFolders(db: StateDb, folders: ReadonlyMap<string, FolderMeta>): void {
  if (folders.size === 0) return;
  const xattrs = "CASE WHEN ?7 THEN excluded.xattrs ELSE xattrs END";
  const upsert = db.q(
    `INSERT INTO folders (path, mode, uid, gid, mtime_ms, xattrs) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
       ON CONFLICT (path) DO UPDATE SET mode = excluded.mode, uid = excluded.uid,
         gid = excluded.gid, mtime_ms = excluded.mtime_ms, xattrs = ${xattrs}
       WHERE (mode, uid, gid, mtime_ms, xattrs) IS NOT (excluded.mode, excluded.uid,
         excluded.gid, excluded.mtime_ms, ${xattrs})`,
  );
  for (const [path, m] of folders) {
    const read = XATTRS_KEPT && !m.xattrsUnread ? 1 : 0;
    upsert.run(path, m.mode, m.uid ?? null, m.gid ?? null, m.mtimeMs, m.xattrs ?? null, read);
  }
}

/** Records that a copy now lives at another storage path (made again there by repair). */
export function recordStoredAt(db: StateDb, copyId: number, storedAt: string): void {
  db.q("UPDATE copies SET stored_at = ? WHERE id = ?").run(storedAt, copyId);
}

/**
 * Records old copies found missing as lost, at `time` (see `StateStore.forgetMissing`); a
 * copy recorded elsewhere since verify looked is left as it is. Run in the caller's
 * transaction.
 */
export function recordLost(
  db: StateDb,
  found: { id: number; storedAt: string }[],
  time: number,
): void {
  for (const c of found) {
    db.q(
      `UPDATE copies SET location = 'lost', stored_at = NULL, pruned_at = ?
       WHERE id = ? AND stored_at = ? AND location IN ('version', 'deleted')`,
    ).run(time, c.id, c.storedAt);
  }
}

/**
 * Marks purged, at `time`, the records of contents whose copy went before the purge (lost,
 * or pruned by retention), as record.ts marks a copy a purge deleted: what the record held of
 * the content itself (a symlink's target, extended attributes) goes too. One a run has
 * recorded otherwise since is left as it is. Run in the caller's transaction.
 */
export function recordPurged(db: StateDb, ids: readonly number[], time: number): void {
  for (const id of ids) {
    db.q(
      `UPDATE copies SET location = 'purged', pruned_at = ?1, valid_to = coalesce(valid_to, ?1),
         link_target = NULL, xattrs = NULL
       WHERE id = ?2 AND stored_at IS NULL AND location IN ('lost', 'pruned')`,
    ).run(time, id);
  }
}

/**
 * The state's writes on stored copies and folders outside a batch's actions (record.ts):
 * the folders' metadata a walk saw and the spans it ended (with a batch's commit, or on its
 * own), a copy made again
 * at another storage path by `verify --repair`, old copies recorded as lost by `verify
 * --forget-missing`, and the records of copies gone already (lost, pruned) that `purge`
 * marks purged. Each runs in the caller's transaction or is one statement: an
 * interruption leaves the state as the last committed one left it.
 */
import type { FolderMeta } from "../core/types.ts";
import type { StateDb } from "./connection.ts";
import { XATTRS_KEPT } from "../engine/fs/xattrs.ts";
import type { GoneFolders } from "../core/folder_spans.ts";
import { endGoneFolders, FOLDER_SPANS_SCHEMA } from "./folder_spans.ts";

/**
 * Records the folders' metadata; a row that holds the same already is not rewritten. Where
 * extended attributes are not read here (no FFI: engine/fs/xattrs.ts), or a folder could
 * not be opened to read them, the recorded ones are kept, as a copy's are (record.ts), not
 * taken for none. From schema 10, a folder seen starts a span at `time` where it stood in
 * none (new, or come back), and a row migrated takes 0, standing since before; then the
 * folders `gone` calls gone end theirs (folder_spans.ts).
 */
export function upsertFolders(
  db: StateDb,
  folders: ReadonlyMap<string, FolderMeta>,
  time: number,
  gone?: GoneFolders,
): void {
  if (folders.size > 0) {
    const spans = db.version >= FOLDER_SPANS_SCHEMA;
    const upsert = db.q(spans ? UPSERT_SPANS : UPSERT);
    for (const [path, m] of folders) {
      const read = XATTRS_KEPT && !m.xattrsUnread ? 1 : 0;
      const row = [path, m.mode, m.uid ?? null, m.gid ?? null, m.mtimeMs, m.xattrs ?? null, read];
      upsert.run(...row, ...spans ? [time] : []);
    }
  }
  if (gone) endGoneFolders(db, folders, gone, time);
}

const XATTRS = "CASE WHEN ?7 THEN excluded.xattrs ELSE xattrs END";
const UPSERT = `INSERT INTO folders (path, mode, uid, gid, mtime_ms, xattrs)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6)
  ON CONFLICT (path) DO UPDATE SET mode = excluded.mode, uid = excluded.uid,
    gid = excluded.gid, mtime_ms = excluded.mtime_ms, xattrs = ${XATTRS}
  WHERE (mode, uid, gid, mtime_ms, xattrs) IS NOT (excluded.mode, excluded.uid,
    excluded.gid, excluded.mtime_ms, ${XATTRS})`;
/** The same, with the span: a row standing in none starts one (its SET sees the old row). */
const UPSERT_SPANS = `INSERT INTO folders (path, mode, uid, gid, mtime_ms, xattrs, seen_from)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?8)
  ON CONFLICT (path) DO UPDATE SET mode = excluded.mode, uid = excluded.uid,
    gid = excluded.gid, mtime_ms = excluded.mtime_ms, xattrs = ${XATTRS},
    seen_from = CASE WHEN gone_at IS NOT NULL THEN excluded.seen_from
      ELSE coalesce(seen_from, 0) END,
    gone_at = NULL
  WHERE (mode, uid, gid, mtime_ms, xattrs) IS NOT (excluded.mode, excluded.uid,
    excluded.gid, excluded.mtime_ms, ${XATTRS}) OR gone_at IS NOT NULL OR seen_from IS NULL`;

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

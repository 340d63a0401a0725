/**
 * The source folders' own metadata (permission bits, owner, modification time), gathered
 * as a pass walks and recorded once it has finished, in one transaction: a folder is not
 * a content, has no versions, and is recorded as last seen, so that a restore can give
 * the folders it makes what the source's had (restore/made_folders.ts): with the first
 * commit once the walks are done where there is one, which saves a transaction's flush
 * (pass.ts). A pass stopped or killed before its walks end records none of it; the next
 * full walk does.
 */
import type { FolderMeta } from "./types.ts";

/**
 * Folders remembered per pass (about 150 bytes each): a million-file tree has about ten
 * thousand. Past the limit, the rest wait for a later pass.
 */
const FOLDERS_LIMIT = 1_000_000;

export class FolderMetaRecorder {
  #seen = new Map<string, FolderMeta>();

  seen(path: string, meta: FolderMeta): void {
    if (this.#seen.size >= FOLDERS_LIMIT) return;
    // Only what is kept: a scan entry carries more (size, inode, times).
    this.#seen.set(path, { mode: meta.mode, uid: meta.uid, gid: meta.gid, mtimeMs: meta.mtimeMs });
  }

  commit(store: { recordFolders(f: ReadonlyMap<string, FolderMeta>): void } | undefined): void {
    store?.recordFolders(this.take());
  }

  /** The folders seen since the last `take` or `commit`, to record. */
  take(): ReadonlyMap<string, FolderMeta> {
    const seen = this.#seen;
    this.#seen = new Map();
    return seen;
  }
}

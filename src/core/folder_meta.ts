/**
 * The source folders' own metadata (permission bits, owner, modification time, extended
 * attributes and ACLs), gathered as a pass walks and recorded once it has finished, in one
 * transaction: a folder is not
 * a content, has no versions, and is recorded as last seen, so that a restore can give
 * the folders it makes what the source's had (restore/made_folders.ts): with the first
 * commit once the walks are done where there is one, which saves a transaction's flush
 * (pass.ts). A pass stopped or killed before its walks end records none of it; the next
 * full walk does. A folder the pass keeps as recorded (a disk's mount point where nothing is
 * mounted: pass.ts) is not recorded, nor any below it. With them goes which folders recorded
 * as standing the walks found gone (`sweep`: folder_spans.ts), decided in the same
 * transaction: none where the walks saw more folders than are remembered.
 */
import type { FolderMeta } from "./types.ts";
import { type GoneFolders, keeping } from "./folder_spans.ts";

/** Where a pass's folders are recorded: with a commit of its own, at the pass's time. */
interface FolderStore {
  recordFolders(f: ReadonlyMap<string, FolderMeta>, time: number, gone?: GoneFolders): void;
}

/**
 * Folders remembered per pass (about 150 bytes each): a million-file tree has about ten
 * thousand. Past the limit, the rest wait for a later pass.
 */
const FOLDERS_LIMIT = 1_000_000;

export class FolderMetaRecorder {
  #seen = new Map<string, FolderMeta>();
  /** Folders whose records, and those below them, stay as they are (see `keepRecorded`). */
  readonly #kept = new Set<string>();
  /** Some folders seen were not remembered (FOLDERS_LIMIT): none can be found gone. */
  #overflowed = false;
  /** What the walks covered, once they are done (`sweep`). */
  #covered?: GoneFolders;

  seen(path: string, meta: FolderMeta): void {
    if (this.#seen.size >= FOLDERS_LIMIT) {
      this.#overflowed ||= !this.#seen.has(path);
      return;
    }
    this.#seen.set(path, keptFolderMeta(meta));
  }

  /**
   * The walks are done and covered what `covered` says: the folders recorded as standing
   * there that they did not see are gone (taken once, with the folders, by `gone`).
   */
  sweep(covered: GoneFolders): void {
    this.#covered = covered;
  }

  /** The rule of the folders gone, once, with `take`; none where the walks' view is partial. */
  gone(): GoneFolders | undefined {
    const covered = this.#covered;
    this.#covered = undefined;
    if (covered === undefined || this.#overflowed) return undefined;
    return keeping(covered, this.#kept);
  }

  commit(store: FolderStore | undefined, time: number): void {
    const gone = this.gone();
    store?.recordFolders(this.take(), time, gone);
  }

  /**
   * Leaves the records of `path` and the folders below it as they are: what the walk saw
   * there is not what they record (the empty folder below a disk's mount point, where the
   * disk is not mounted, is not the disk's top folder, whose files a restore puts in it).
   */
  keepRecorded(path: string): void {
    this.#kept.add(path);
  }

  /** The folders seen since the last `take` or `commit`, to record. */
  take(): ReadonlyMap<string, FolderMeta> {
    const seen = this.#seen;
    this.#seen = new Map();
    if (this.#kept.size === 0) return seen;
    for (const path of seen.keys()) {
      if (this.#isKept(path)) seen.delete(path);
    }
    return seen;
  }

  /** Whether `path` is a kept folder or lies below one. */
  #isKept(path: string): boolean {
    for (let end = path.length; end > 0; end = path.lastIndexOf("/", end - 1)) {
      if (this.#kept.has(path.slice(0, end))) return true;
    }
    return false;
  }
}

/**
 * Only what is kept of a folder: a scan entry carries more (size, inode, times), which a
 * record, or a message from the staging worker, need not hold.
 */
export function keptFolderMeta(meta: FolderMeta): FolderMeta {
  const { mode, uid, gid, mtimeMs, xattrs, xattrsUnread } = meta;
  return { mode, uid, gid, mtimeMs, ...xattrs && { xattrs }, ...xattrsUnread && { xattrsUnread } };
}

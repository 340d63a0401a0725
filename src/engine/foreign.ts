/**
 * Entries in the backup root that the state does not know: a file someone put there, a
 * folder left from elsewhere, or, on a disk that ignores case, a stored copy whose name
 * differs only in case. The executor never replaces anything, so a copy planned onto such
 * a path would fail on every run. This probe tells the planner what the disk holds where
 * the state knows nothing (`PlanView.foreignKind`); the planner then gives the copy the
 * next free name, as for any other taken path (`.~2`), and leaves the foreign entry alone,
 * unless the entry is a copy this run moves away first (see plan.ts).
 *
 * The planner asks only where the state says nothing, memoizes the answers, and asks about
 * the files of a folder only once that folder exists, so a first backup into an empty root
 * costs about one lstat per folder. Reads only; an interruption leaves nothing.
 */
import { type Folders, openFolders } from "./fs/folders.ts";
import { join } from "node:path";
import { copyState, type EntryKind, lstatOrNone, nativePath, storedEntry } from "./fs/fsops.ts";
import { foldName, STATE_DIR } from "../core/layout.ts";

/** Bounds the memo of real folders (about 100 bytes an entry). */
const REAL_FOLDERS_LIMIT = 65536;

/**
 * What the disk holds at storage paths, for `PlanView.foreignKind` and `sameEntry`. The
 * folder reads behind it (FFI on Linux, where a path that is not there costs no exception)
 * are opened on the first question, so a run that asks none pays nothing; `close` when done.
 */
export class DiskProbe {
  #folders?: Folders;
  /** Storage folders seen to be real folders (bounded like the planner's memos). */
  #realFolders = new Set<string>();

  constructor(readonly root: string) {}

  /**
   * The kind of entry at a storage path. A stored symlink on the way (a loop, one this
   * batch moves away) or a folder that cannot be searched counts as nothing: nothing of the
   * backup root's own is there to avoid.
   */
  readonly kind = (path: string): "file" | "dir" | undefined => {
    this.#folders ??= openFolders();
    const kind = this.#folders.kindAt(nativePath(this.root, path));
    return kind === undefined ? undefined : kind === "dir" ? "dir" : "file";
  };

  /** What stands where a stored copy is recorded (see `PlanView.copyAt`, `copyState`). */
  readonly copyAt = (storedAt: string, kind: "file" | "symlink") => {
    if (this.#realFolders.size >= REAL_FOLDERS_LIMIT) this.#realFolders.clear();
    return copyState(storedEntry(this.root, storedAt, this.#realFolders, this.#kindOf), kind);
  };

  /**
   * The kind of entry at a path, through the folder reads (a statx of the type alone with
   * FFI: a run that read 78,000 files again spent 0.65 s in Deno's lstat for this).
   */
  readonly #kindOf = (abs: string): EntryKind | undefined => {
    this.#folders ??= openFolders();
    const kind = this.#folders.kindAt(abs);
    if (kind === undefined) return undefined;
    return { isFile: kind === "file", isDirectory: kind === "dir", isSymlink: kind === "symlink" };
  };

  /**
   * Whether two storage paths name the same entry (one inode) on the backup root's disk.
   * Without inode numbers (`ino` null, which Deno allows on Windows) it cannot tell, and
   * answers as the planner does then: the same (see `foreignAt`); should they be two files
   * after all, the move onto the path finds it taken and fails, never replacing it.
   */
  readonly sameEntry = (a: string, b: string): boolean => {
    const r = relation(nativePath(this.root, a), nativePath(this.root, b));
    return r === "same" || r === "unknown" || (r === "other" && oneListed(this.root, a, b));
  };

  /**
   * Whether the backup root's disk ignores case: its state folder answers to its name in
   * capitals too, as the same entry. False where there is no state folder (a dry run).
   */
  ignoresCase(): boolean {
    const r = relation(join(this.root, STATE_DIR), join(this.root, STATE_DIR.toUpperCase()));
    return r === "same" || r === "unknown" ||
      (r === "other" && oneListed(this.root, STATE_DIR, STATE_DIR.toUpperCase()));
  }

  /**
   * Whether anything below a storage folder is not one of `own` (see PlanView): listed
   * folder by folder; a folder that is not there holds nothing, one that cannot be listed
   * counts as holding something.
   */
  readonly holdsOtherThan = (folder: string, own: (path: string) => boolean): boolean => {
    try {
      for (const e of Deno.readDirSync(nativePath(this.root, folder))) {
        const path = `${folder}/${e.name}`;
        if (e.isDirectory ? this.holdsOtherThan(path, own) : !own(path)) return true;
      }
      return false;
    } catch (e) {
      return !(e instanceof Deno.errors.NotFound);
    }
  };

  /** Whether `path` is certainly another name of the file at `copy` (see PlanView). */
  readonly otherNameOf = (path: string, copy: string): boolean =>
    relation(nativePath(this.root, path), nativePath(this.root, copy), true) === "same";

  close(): void {
    this.#folders?.close();
    this.#folders = undefined;
  }
}

/**
 * Whether two storage paths that differ only in letter case, both found by lstat, are one
 * entry all the same: at each step where their names differ, the folder lists only one of
 * the two. Some FUSE file systems (exFAT through exfat-fuse) give one file another inode
 * number for each spelling of its name, so inode numbers cannot tell there.
 */
function oneListed(root: string, a: string, b: string): boolean {
  const as = a.split("/");
  const bs = b.split("/");
  if (as.length !== bs.length || foldName(a) !== foldName(b)) return false;
  try {
    for (let i = 0; i < as.length; i++) {
      if (as[i] === bs[i]) continue;
      const names = new Set<string>();
      for (const e of Deno.readDirSync(nativePath(root, as.slice(0, i).join("/")))) {
        names.add(e.name);
      }
      if (names.has(as[i]) === names.has(bs[i])) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * How two paths relate on disk, symlinks not followed: one entry, two, or unknown (no inode
 * numbers); undefined where either is missing or cannot be looked at. With `filesOnly`,
 * anything but two regular files counts as two entries.
 */
function relation(
  a: string,
  b: string,
  filesOnly = false,
): "same" | "other" | "unknown" | undefined {
  try {
    const x = lstatOrNone(a);
    const y = lstatOrNone(b);
    if (x === undefined || y === undefined) return undefined;
    if (filesOnly && !(x.isFile && y.isFile)) return "other";
    if (x.ino === null || y.ino === null) return "unknown";
    return x.ino === y.ino && x.dev === y.dev ? "same" : "other";
  } catch {
    return undefined;
  }
}

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
import { type Folders, openFolders } from "./folders.ts";
import { join } from "node:path";
import { lstatOrNone, nativePath } from "./fsops.ts";
import { STATE_DIR } from "./layout.ts";

/**
 * What the disk holds at storage paths, for `PlanView.foreignKind` and `sameEntry`. The
 * folder reads behind it (FFI on Linux, where a path that is not there costs no exception)
 * are opened on the first question, so a run that asks none pays nothing; `close` when done.
 */
export class DiskProbe {
  #folders?: Folders;

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

  /**
   * Whether two storage paths name the same entry (one inode) on the backup root's disk.
   * Without inode numbers (`ino` null: a platform or file system that gives none; Deno documents the file index on Windows as possibly unavailable) it cannot tell, and answers as the
   * planner does then: the same (see `foreignAt`); should they be two files after all, the
   * move onto the path finds it taken and fails, never replacing it.
   */
  readonly sameEntry = (a: string, b: string): boolean => {
    try {
      const x = lstatOrNone(nativePath(this.root, a));
      const y = lstatOrNone(nativePath(this.root, b));
      if (x === undefined || y === undefined) return false;
      if (x.ino === null || y.ino === null) return true;
      return x.ino === y.ino && x.dev === y.dev;
    } catch {
      return false;
    }
  };

  /**
   * Whether the backup root's disk ignores case: its state folder answers to its name in
   * capitals too, as the same entry. False where there is no state folder (a dry run).
   */
  ignoresCase(): boolean {
    try {
      const x = lstatOrNone(join(this.root, STATE_DIR));
      const y = lstatOrNone(join(this.root, STATE_DIR.toUpperCase()));
      if (x === undefined || y === undefined) return false;
      return x.ino === null || y.ino === null || (x.ino === y.ino && x.dev === y.dev);
    } catch {
      return false;
    }
  }

  /** Whether `path` is certainly another name of the file at `copy` (see PlanView). */
  readonly otherNameOf = (path: string, copy: string): boolean => {
    try {
      const x = lstatOrNone(nativePath(this.root, path));
      const y = lstatOrNone(nativePath(this.root, copy));
      return x?.isFile === true && y?.isFile === true && x.ino !== null && x.ino === y.ino &&
        x.dev === y.dev;
    } catch {
      return false;
    }
  };

  close(): void {
    this.#folders?.close();
    this.#folders = undefined;
  }
}

/**
 * Entries in the backup root that the state does not know: a file someone put there, a
 * folder left from elsewhere, or, on a case-insensitive disk, a stored copy whose name
 * differs only in case. The executor never replaces anything, so a copy planned onto such
 * a path would fail on every run. Here the planner's view of the stored copies is widened
 * with the disk: a path holds a file when the state has a copy there or the disk has
 * something there that is not a folder, and is a folder when the state has copies below
 * it or the disk has a folder there. The planner then gives the copy the next free name,
 * as for any other taken path (`.~2`), and leaves the foreign entry alone.
 *
 * The disk is looked at only where the state says nothing, and the planner memoizes the
 * answers and asks about the files of a folder only once that folder exists, so a first
 * backup into an empty root costs about one lstat per folder. Reads only; an interruption
 * leaves nothing.
 */
import { lstatOrNone, nativePath } from "./fsops.ts";
import type { PlanView } from "./plan.ts";

export function withForeignEntries(view: PlanView, root: string): PlanView {
  const onDisk = (p: string) => {
    try {
      return lstatOrNone(nativePath(root, p));
    } catch {
      // A stored symlink on the way (a loop, one this batch moves away) or a folder that
      // cannot be searched: nothing of the backup root's own is there to avoid.
      return undefined;
    }
  };
  return {
    ...view,
    isFile: (p) => view.isFile(p) || isNonFolder(onDisk(p)),
    isDir: (p) => view.isDir(p) || onDisk(p)?.isDirectory === true,
  };
}

function isNonFolder(info: Deno.FileInfo | undefined): boolean {
  return info !== undefined && !info.isDirectory;
}

/**
 * The `--to` folder of a restore: checked before the state is opened (never inside the
 * backup root, however it is named), then made before anything is written, and removed
 * again when nothing was restored into it. A restore interrupted between the two leaves
 * the folders made for it, empty or holding what it restored; the next restore uses them.
 */
import { dirname } from "node:path";
import { isInside, realTarget } from "../config/paths.ts";
import { givenPathNotUtf8, notUtf8Given, osDetail } from "../config/errors.ts";
import { makeFolders, missingFolders, removeQuietly } from "../engine/fs/fsops.ts";
import { knownFolderIdentity } from "../engine/fs/identity.ts";
import { otherMountsOf } from "../engine/fs/mounts.ts";
import { errorText, PreflightError, UsageError } from "../engine/errors.ts";
import { noRoom } from "./full_disks.ts";

/**
 * The `--to` folder as its real path (as given where it does not exist yet), refused when
 * it lies inside the backup root, however it is named (a symlink to the root does not get
 * past): restoring there could replace stored copies. One that holds the backup root is
 * taken; the files that would land inside the root are each refused (write.ts).
 */
export function checkedToFolder(to: string, root: string): string {
  // Another folder than the one meant, which the restore would make and write into.
  if (givenPathNotUtf8(to)) {
    throw new UsageError(`Cannot restore into '${to}': ${notUtf8Given()}`);
  }
  let real: string;
  try {
    real = realTarget(to, "--to", "it");
  } catch (e) {
    throw new UsageError(`Cannot restore into '${to}': ${errorText(e)}`);
  }
  const inside = (r: string) => real === r || isInside(real, r);
  if (inside(root) || otherMountsOf(root).some(inside) || isBelowFolder(real, root)) {
    throw new UsageError(
      `Cannot restore into '${to}': it is inside the backup root '${root}': ` +
        `choose a folder outside it`,
    );
  }
  return real;
}

/**
 * Makes the --to folder before anything is written: one that cannot be made is one line
 * and exit 2, not a line for every file. Returns the folders it made, deepest first. Each
 * is made never writable by group or others (makeFolders), whatever the umask: under
 * umask 000 any local user could otherwise remove or replace the files restored there.
 */
export function makeToFolder(to: string): string[] {
  const made = missingFolders(to);
  try {
    makeFolders(to);
  } catch (e) {
    // Exit code 2 changes nothing: the folders made before the one that failed go again.
    made.forEach(removeQuietly);
    // Its disk full (no room for a folder: blocks, inodes or a quota), said with its remedy.
    const remedy = noRoom(e)
      ? "free space on its disk, or restore with --to a folder on another disk"
      : "choose a folder you can write to";
    throw new PreflightError(`Cannot restore into '${to}': ${osDetail(e)}: ${remedy}`);
  }
  return made;
}

/** Whether `path` is the folder `root` or below it, by device and inode (a bind mount). */
function isBelowFolder(path: string, root: string): boolean {
  const id = knownFolderIdentity(root);
  if (id === undefined) return false;
  for (let at = path;; at = dirname(at)) {
    if (knownFolderIdentity(at) === id) return true;
    if (dirname(at) === at) return false;
  }
}

/**
 * Reaches a destination's folder through the restore's pinned folders (pinned.ts), and
 * says why one is refused: a symlink on the way (writing through it would put the file
 * outside the restore folder), a file where a folder must be (maybe a twin's, twins.ts),
 * the backup root, or a folder that cannot be made or entered (a name the disk refuses,
 * which only a name missing in a folder that is there can be, said as such). Makes the
 * folders on the way (through pinned.ts); an interruption leaves at most those folders,
 * empty.
 */
import { dirname, join, relative, sep } from "node:path";
import { type DestFolders, type Reached, RefusedFolder } from "./pinned.ts";
import { errorText } from "../engine/errors.ts";
import { isThere } from "../config/paths.ts";
import { notAllowed, refusedName } from "../engine/fs/portability.ts";
import { twinElsewhereRemedy, type Twins } from "./twins.ts";
import type { RestoreItem } from "./restore_item.ts";

/**
 * Reaches the destination's folder (pinned.ts), refusing one on the way that is a symlink
 * (writing through it would put the file outside `base`: a folder replaced by a link
 * since the backup), a file where a folder must be, or the backup root.
 */
export function reachFolder(
  folders: DestFolders,
  item: RestoreItem,
  recheck = true,
  twins?: Twins,
): Reached {
  const { base, dest, toDir } = item;
  try {
    return folders.reach(base, dirname(dest), recheck);
  } catch (e) {
    if (!(e instanceof RefusedFolder)) {
      // A folder that is there but cannot be entered (mode 000) is not one to create.
      const verb = isFolder(dirname(dest)) ? "enter" : "create";
      const odd = refusedOnTheWay(base, dirname(dest), e);
      const why = odd === undefined
        ? `${errorText(e)}${deniedRemedy(e, toDir)}`
        : refusedByDisk(odd);
      // The error itself kept: a full disk is told by its code (full_disks.ts).
      throw new Error(`Cannot ${verb} folder '${dirname(dest)}': ${why}`, { cause: e });
    }
    const twin = e.why === "file" ? twins?.folderTwinOf(item, e.folder) : undefined;
    if (twin !== undefined) {
      return fail(
        `this disk takes the folder '${e.folder}' for the file '${twin.other}', restored ` +
          `here too from '${twin.otherPath}' (it ignores letter case or Unicode ` +
          `normalization): ${twinElsewhereRemedy(item)}`,
      );
    }
    return fail(refusedFolderReason(e, base, toDir));
  }
  function fail(why: string): never {
    throw new Error(`Cannot restore to '${dest}': ${why}`);
  }
}

/**
 * Why a folder on the way was refused (pinned.ts), with what to do: the backup root, a
 * file where a folder must be, or a symlink. `toDir`: the restore writes under `--to`.
 */
export function refusedFolderReason(e: RefusedFolder, base: string, toDir?: boolean): string {
  const dir = e.folder;
  if (e.why === "backup-root") {
    return `'${dir}' is the backup root (mounted there too), whose copies a restore never ` +
      `replaces: restore with --to a folder outside it`;
  }
  if (e.why === "file") {
    return `'${dir}' is a file where a folder must be: move it away, or ` +
      (toDir ? "restore to another --to folder" : "restore with --to DIR");
  }
  const remedy = toDir
    ? "remove the link, or restore to another --to folder"
    : "restore with --to DIR, or remove the link";
  return `'${dir}' is a symlink, which a restore never writes through (it may lead outside ` +
    `'${base}'): ${remedy}`;
}

/**
 * The name the destination disk refused (`refusedName`) in making `path` or a folder on
 * its way from `base`: the first one missing there, in a folder that is there. A folder
 * removed while the restore ran (the system says "no such file" then too) is no name's
 * fault, nor is one that exists.
 */
export function refusedOnTheWay(base: string, path: string, e: unknown): string | undefined {
  let at = base;
  for (const name of relative(base, path).split(sep)) {
    if (!isThere(join(at, name))) return isFolder(at) ? refusedName([name], e) : undefined;
    at = join(at, name);
  }
  return undefined;
}

/**
 * A name the destination disk refuses (a FAT or exFAT stick, NTFS), said as such: the
 * system says "no such file", of a folder or file it was asked to make.
 */
export function refusedByDisk(name: string): string {
  return `the disk ${notAllowed(name)}: restore it with --to a folder on a disk formatted ` +
    "ext4, btrfs, xfs or APFS";
}

/**
 * What to do where this user may not make or enter a folder: in place, a source folder of
 * another user's (restored after the computer was lost, as another user than backed it up).
 */
function deniedRemedy(e: unknown, toDir: boolean | undefined): string {
  if (!isDenied(e) && !isDenied((e as Error)?.cause)) return "";
  return toDir
    ? ": restore to another --to folder, one you can write to"
    : ": restore with --to a folder you can write to, or as a user who can write there";
}

/** A refusal for want of permission: Deno's, or node:fs's (the folders opened by pinned.ts). */
function isDenied(e: unknown): boolean {
  return e instanceof Deno.errors.PermissionDenied || (e as { code?: string })?.code === "EACCES";
}

/** Whether a folder is at `path` (a symlink at its end not followed). */
function isFolder(path: string): boolean {
  try {
    return Deno.lstatSync(path).isDirectory;
  } catch {
    return false;
  }
}

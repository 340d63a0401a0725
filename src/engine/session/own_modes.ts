/**
 * The tool's own entries in the backup root narrowed where group or others may write them:
 * the state folder `.backup-tool/` itself, its `tmp/` and `damaged/`, the lock, the reserve
 * and the state with its journals. Versions before 2026-12-05 made them with the umask's
 * bits, so a job started under umask 000 (a unit's UMask=0000) left `.backup-tool/` and
 * `tmp/` writable by all (any local user could remove the state, or plant files where root's
 * run stages copies), and the lock and reserve files too; those made since never are
 * (fsops.ts FOLDER_MODE, OWN_FILE_MODE). Only these entries, by their fixed names, and only
 * the write bits of group and others: the mirror's files and folders, and what `tmp/` and
 * `damaged/` hold, are left as they are.
 *
 * Each is opened without following a symlink (O_NOFOLLOW) nor waiting on a FIFO, checked
 * to be of its kind (a file with no other name), and changed through that descriptor
 * (fchmod): whoever could write the folder, swapping a symlink in, never leads the change
 * to another file. Done by a writer under the lock, before the state is opened (SQLite then
 * gives a journal it makes the state's mode). node:fs, which opens and changes them, is
 * loaded only where an entry needs it (it brings Deno's Node layer, some 10-20 ms of every
 * run's start otherwise). Not on Windows, which has no such bits. An
 * interruption leaves some entries narrowed and others not, which the next session
 * finishes.
 */
import { join } from "node:path";
import { errorText } from "../errors.ts";
import { lstatOrNone } from "../fs/fsops.ts";
import { STATE_DIR, STATE_ENTRIES } from "../../core/layout.ts";

/** The write bits of group and others. */
const OTHERS_WRITE = 0o022;

/**
 * Narrows the tool's own entries in the state folder `dir` (of the backup root `root`) that
 * group or others may write; returns a log line for each changed, or that could not be.
 */
export async function narrowOwnModes(root: string, dir: string): Promise<string[]> {
  if (Deno.build.os === "windows") return [];
  const lines: string[] = [];
  const entries: [string, string, "folder" | "file"][] = [
    [dir, STATE_DIR, "folder"],
    ...Object.entries(STATE_ENTRIES).map(([name, kind]): [string, string, "folder" | "file"] => [
      join(dir, name),
      `${STATE_DIR}/${name}`,
      kind,
    ]),
  ];
  for (const [path, named, kind] of entries) {
    const line = await narrowOne(path, kind, `'${join(root, named)}'`);
    if (line !== undefined) lines.push(line);
  }
  return lines;
}

/** One entry narrowed where needed: the log line that says so, or undefined. */
async function narrowOne(
  path: string,
  kind: "folder" | "file",
  quoted: string,
): Promise<string | undefined> {
  let before: number | undefined;
  try {
    const at = lstatOrNone(path);
    // Missing, of another kind (state_folder.ts refuses it), or writable by its owner alone.
    if (at === undefined || !isKind(at, kind) || ((at.mode ?? 0) & OTHERS_WRITE) === 0) {
      return undefined;
    }
    before = (at.mode ?? 0) & 0o7777;
    const after = await narrowOpened(path, kind);
    if (after === undefined) return undefined; // swapped meanwhile: left as it is
    return `MODE: narrowed ${quoted} from ${octal(after.before)} to ${octal(after.now)}: ` +
      "group or others could write it (older versions made it so under a umask such as 000)";
  } catch (e) {
    const was = before === undefined ? "" : ` (${octal(before)})`;
    return `MODE: cannot narrow ${quoted}${was}, which group or others can write: ` +
      `${errorText(e)}: run 'chmod go-w' on it as its owner`;
  }
}

function isKind(info: Deno.FileInfo, kind: "folder" | "file"): boolean {
  return kind === "folder" ? info.isDirectory : info.isFile;
}

/**
 * Opens `path` without following a symlink or waiting on a FIFO, and takes the write bits
 * of group and others off what is open, where it is of `kind` (a file with no other name);
 * its mode before and now, or undefined where something else is there now (exported for
 * tests: a symlink swapped in after the lstat that found an entry to narrow), or where the
 * file system keeps no modes: FAT and exFAT show every entry as the mount gives them
 * (0777, say), and ignore the change (exfat-fuse) or refuse it to the owner (EPERM).
 */
export async function narrowOpened(
  path: string,
  kind: "folder" | "file",
): Promise<{ before: number; now: number } | undefined> {
  const { closeSync, constants, fchmodSync, fstatSync, openSync } = await import("node:fs");
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as { code?: string }).code === "ELOOP") return undefined; // a symlink there now
    throw e;
  }
  try {
    const held = fstatSync(fd);
    const right = kind === "folder" ? held.isDirectory() : held.isFile() && held.nlink === 1;
    if (!right) return undefined;
    const before = held.mode & 0o7777;
    if ((before & OTHERS_WRITE) === 0) return undefined; // narrowed meanwhile
    try {
      fchmodSync(fd, before & ~OTHERS_WRITE);
    } catch (e) {
      if ((e as { code?: string }).code === "EPERM" && isOwnedHere(held.uid)) return undefined;
      throw e;
    }
    const now = fstatSync(fd).mode & 0o7777;
    return (now & OTHERS_WRITE) === 0 ? { before, now } : undefined;
  } finally {
    closeSync(fd);
  }
}

/** Whether this process may change the modes of what `uid` owns: its own, or root. */
function isOwnedHere(uid: number): boolean {
  try {
    const me = Deno.uid();
    return me === 0 || me === uid;
  } catch {
    return false; // not to be asked: said as it failed
  }
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, "0")}`;
}

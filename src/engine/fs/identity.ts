/**
 * Which file or folder a path names: device and inode identities, whether a path still
 * names a file held open, whether two names hold the same file, whether a folder is reached
 * through real folders only, and the /proc path of an open descriptor (Linux). Only looks:
 * nothing here changes the disk, so an interruption leaves nothing behind.
 */
import { join, relative } from "node:path";
import { lstatOrNone } from "./fsops.ts";

/**
 * Which folder a path names now (symlinks followed): its device and inode, or why there is
 * none. A disk unmounted from a mount point, or mounted on it, changes the answer.
 */
export function folderIdentity(path: string): string {
  try {
    return folderIdentityOf(Deno.statSync(path));
  } catch {
    return NO_FOLDER.missing;
  }
}

/** `folderIdentity` from a stat result already taken. */
export function folderIdentityOf(info: Deno.FileInfo): string {
  return info.isDirectory ? `${info.dev}:${info.ino}` : NO_FOLDER.notAFolder;
}

/**
 * The identity of the folder at `path` itself (a symlink is not followed), where the
 * platform gives inode numbers; undefined elsewhere, or where no folder is: two folders
 * cannot be told apart then.
 */
export function knownFolderIdentity(path: string): string | undefined {
  const info = lstatOrNone(path);
  return info?.isDirectory && info.ino ? folderIdentityOf(info) : undefined;
}

/**
 * Whether `path` still names the file open as `f`: false once it was removed or replaced
 * (with its folder, or by a disk mounted over one); true where there are no inode numbers.
 */
export function namesOpenFile(f: Deno.FsFile, path: string): boolean {
  try {
    const held = f.statSync();
    const now = Deno.statSync(path);
    return !held.ino || (held.dev === now.dev && held.ino === now.ino);
  } catch {
    return false;
  }
}

/**
 * Whether `path` names the file open as `f` itself, and only it: a regular file there, not
 * a symlink to it (nor to anything else), with no other name (a hard link elsewhere would
 * change with it); true where the platform gives no inode numbers and a regular file is
 * there.
 */
export function isOpenFileItself(f: Deno.FsFile, path: string): boolean {
  const at = lstatOrNone(path);
  if (!at?.isFile) return false;
  const held = f.statSync();
  if ((held.nlink ?? 1) > 1) return false;
  return !held.ino || (held.dev === at.dev && held.ino === at.ino);
}

/** What `folderIdentity` says where a path names no folder. */
export const NO_FOLDER = { missing: "missing", notAFolder: "not a folder" } as const;

/**
 * Whether `b` already holds what `a` holds, so that `a` may be removed: both names are hard
 * links of one inode. Where the platform gives no inode number (`ino` is null, which
 * Deno allows on Windows), null === null would call any two files of a volume the same, and a caller would
 * remove a copy that was never placed; there the two are compared by content instead (the
 * same symlink target, or the same bytes), which is what the callers need to know.
 */
export function sameFile(a: string, b: string): boolean {
  const x = lstatOrNone(a);
  const y = lstatOrNone(b);
  return x !== undefined && y !== undefined && holdsSame(a, x, b, y);
}

/** `sameFile` on lstat results already taken (exported for tests). */
export function holdsSame(a: string, x: Deno.FileInfo, b: string, y: Deno.FileInfo): boolean {
  // Inode numbers past 2^53 (NTFS file ids once their sequence number grows) lose their
  // low bits to a JavaScript number: two files could compare alike, so bytes decide.
  if (safeId(x.ino) && safeId(y.ino)) return x.ino === y.ino && x.dev === y.dev;
  if (x.isSymlink || y.isSymlink) {
    return x.isSymlink && y.isSymlink && Deno.readLinkSync(a) === Deno.readLinkSync(b);
  }
  return x.isFile && y.isFile && x.size === y.size && sameBytes(a, b);
}

function safeId(ino: number | null): ino is number {
  return ino !== null && Number.isSafeInteger(ino);
}

/**
 * A folder's device and inode where they tell it from every other folder: not where the
 * platform gives none, nor past 2^53 (NTFS file ids once their sequence number grows, as
 * above), where neighbouring folders of one volume may round to one number.
 */
export function exactIdentity(
  info: Pick<Deno.FileInfo, "ino" | "dev">,
): { ino: number; dev: number } | undefined {
  const { ino, dev } = info;
  return safeId(ino) && ino !== 0 && dev !== null ? { ino, dev } : undefined;
}

/** Whether two files hold the same bytes, read side by side. */
function sameBytes(a: string, b: string): boolean {
  using f = Deno.openSync(a, { read: true });
  using g = Deno.openSync(b, { read: true });
  const bufA = new Uint8Array(1 << 16);
  const bufB = new Uint8Array(1 << 16);
  for (;;) {
    const n = readFull(f, bufA);
    if (n !== readFull(g, bufB)) return false;
    if (n === 0) return true;
    for (let i = 0; i < n; i++) if (bufA[i] !== bufB[i]) return false;
  }
}

/** Reads until `buf` is full or the file ends; returns the bytes read. */
function readFull(f: Deno.FsFile, buf: Uint8Array): number {
  let total = 0;
  while (total < buf.length) {
    const n = f.readSync(buf.subarray(total));
    if (n === null) break;
    total += n;
  }
  return total;
}

/**
 * Whether `dir` (absolute and normalized, below a realpath'd root) is reached through real
 * folders only: its real path is itself, so no part of it is a symlink.
 */
export function isRealFolderPath(dir: string): boolean {
  try {
    return Deno.realPathSync(dir) === dir;
  } catch {
    return false;
  }
}

/**
 * Whether `dir`, at or below `root`, is reached through real folders below the root: the
 * root itself may resolve elsewhere (a source folder replaced by a symlink to another,
 * as a disk mounted there is followed), given as `rootReal`, its real path now.
 */
export function isRealFolderBelow(
  root: string,
  rootReal: string | undefined,
  dir: string,
): boolean {
  if (dir === root) return true;
  if (rootReal === undefined) return false;
  try {
    return Deno.realPathSync(dir) === join(rootReal, relative(root, dir));
  } catch {
    return false;
  }
}

/**
 * A path's real path, or undefined where it cannot be resolved: gone, a dangling link, a
 * loop, or not to be read.
 */
export function realPathOrNone(path: string): string | undefined {
  try {
    return Deno.realPathSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The path that names what `fd` has open, whatever becomes of its own path since (Linux:
 * `/proc/self/fd/<fd>`); undefined where there is no /proc/self/fd (macOS, Windows, a
 * container without /proc).
 */
export function openPath(fd: number): string | undefined {
  procFds ??= (() => {
    if (Deno.build.os !== "linux") return false;
    try {
      return Deno.statSync("/proc/self/fd").isDirectory;
    } catch {
      return false;
    }
  })();
  return procFds ? `/proc/self/fd/${fd}` : undefined;
}

/** Whether `openPath` names open files here (Linux with /proc mounted). */
export function hasOpenPaths(): boolean {
  return openPath(0) !== undefined;
}

/** Whether /proc/self/fd is there: looked at once, on first use. */
let procFds: boolean | undefined;

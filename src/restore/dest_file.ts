/**
 * A restore's files in destination folders others may write to, handled through open
 * descriptors (node:fs gives them; Deno's handles have no chmod or chown): the temporary
 * file is created where no file or symlink is, and its owner, mode and time are set on
 * what was opened, never through a name someone could swap for a symlink meanwhile (root
 * would then change a file of that someone's choosing). An existing destination is read
 * only if it is the regular file an lstat saw, opened without following a symlink or
 * waiting on a FIFO. A temporary file left by an interruption is removed by the caller.
 */
import * as fs from "node:fs";
import { type OwnedMeta, ownThrough } from "../engine/owner.ts";
import { openPath } from "./pinned.ts";

const C = fs.constants;
/** Where node:fs has no such flag (Windows), 0: it means nothing there. */
const NOFOLLOW = C.O_NOFOLLOW ?? 0;
const NONBLOCK = C.O_NONBLOCK ?? 0;
const IS_WINDOWS = Deno.build.os === "windows";

/**
 * Creates a new file at `path` (nothing may be there, not even a symlink) to write;
 * `named` is its path as errors name it.
 */
export function createTemp(path: string, mode: number, named: string): number {
  try {
    return fs.openSync(path, C.O_WRONLY | C.O_CREAT | C.O_EXCL | NOFOLLOW, mode);
  } catch (e) {
    throw asDenoError(e, named);
  }
}

/** Writes all of `chunk`. */
export function writeAll(fd: number, chunk: Uint8Array): void {
  for (let off = 0; off < chunk.length;) off += fs.writeSync(fd, chunk, off);
}

/**
 * Gives the file open as `fd` (at `path`) its recorded owner (run as root), permission
 * bits (those the owner permits: owner.ts) and modification time. `modeToo` false: the
 * mode is already right (the file was created with it), only the time is set.
 */
export function finishMeta(
  fd: number,
  path: string,
  meta: OwnedMeta & { mtimeMs: number },
  modeToo = true,
): void {
  if (modeToo && !IS_WINDOWS) {
    const mode = ownThrough({
      chown: (uid, gid) => fs.fchownSync(fd, uid, gid),
      owner: () => {
        const s = fs.fstatSync(fd);
        return { uid: s.uid, gid: s.gid };
      },
    }, meta);
    try {
      fs.fchmodSync(fd, mode);
    } catch (e) {
      // A file system without permission bits (FAT or exFAT through FUSE) keeps none.
      const code = (e as { code?: string }).code;
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw e;
    }
  }
  // Through Deno, to the millisecond and before 1970 too: node:fs's futimes passes float
  // seconds (a time ending in .123 became .122999906) and refuses negative ones. On Linux
  // through the open file's /proc path, so no one can swap what it names; elsewhere by path.
  const when = new Date(meta.mtimeMs);
  Deno.utimeSync(openPath(fd) ?? path, when, when);
}

/**
 * Opens the existing destination `path` to read, if it is still the regular file `seen`
 * (same inode); undefined if it is anything else now.
 */
export function openExisting(path: string, seen: Deno.FileInfo): number | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path, C.O_RDONLY | NOFOLLOW | NONBLOCK);
  } catch {
    return undefined;
  }
  const s = fs.fstatSync(fd);
  if (s.isFile() && (!seen.ino || s.ino === seen.ino)) return fd;
  fs.closeSync(fd);
  return undefined;
}

/** Reads into `buf`; 0 at the end. */
export function readInto(fd: number, buf: Uint8Array): number {
  return fs.readSync(fd, buf, 0, buf.length, null);
}

export function closeFile(fd: number): void {
  fs.closeSync(fd);
}

/** node:fs's error for `path` as the Deno error callers test for (AlreadyExists, ...). */
function asDenoError(e: unknown, path: string): Error {
  const code = (e as { code?: string }).code;
  // node:fs says "EACCES: permission denied, open '<path>'": the path it names may be
  // one through /proc/self/fd, so the reason is kept and the path named is the caller's.
  const message = `${String((e as Error)?.message ?? e).split(",")[0]}: '${path}'`;
  if (code === "EEXIST" || code === "ELOOP") return new Deno.errors.AlreadyExists(message);
  if (code === "ENOENT") return new Deno.errors.NotFound(message);
  if (code === "EACCES" || code === "EPERM") return new Deno.errors.PermissionDenied(message);
  return new Error(message);
}

/**
 * A restore's files in destination folders others may write to. The temporary file is
 * created where no file or symlink is (O_EXCL), written through its Deno handle, and its
 * owner and mode are set through a node:fs descriptor (Deno's handles have no chmod or
 * chown) opened without following a symlink and checked to be the very file written,
 * never through a name someone could swap meanwhile (root would then change a file of
 * that someone's choosing); its time through the handle. An existing destination is read,
 * or given its recorded owner and mode, only if it is the regular file an lstat saw,
 * opened without following a symlink or waiting on a FIFO. A temporary file left by an
 * interruption is removed by the caller.
 */
import * as fs from "node:fs";
import { type OwnedMeta, ownThrough } from "../engine/fs/owner.ts";
import { applyXattrs, type Refusal } from "../engine/fs/xattrs.ts";
import { inWaves, SYNC_PARALLEL, syncFiles, unlessFullFlushRefused } from "../engine/fs/flush.ts";
import { flushWithBarrier, WRITE_OUT_HERE } from "../engine/fs/barrier_flush.ts";
import { openPath } from "../engine/fs/identity.ts";
import { removeQuietly } from "../engine/fs/fsops.ts";
import { join } from "node:path";
import type { Reached } from "./pinned.ts";

const C = fs.constants;
/** Where node:fs has no such flag (Windows), 0: it means nothing there. */
const NOFOLLOW = C.O_NOFOLLOW ?? 0;
const NONBLOCK = C.O_NONBLOCK ?? 0;
const IS_WINDOWS = Deno.build.os === "windows";

type Meta = OwnedMeta & { mtimeMs: number };
/** A file's recorded metadata with its extended attributes (xattr_codec.ts's encoding). */
type FileMeta = Meta & { xattrs?: Uint8Array };
/** Takes the attributes a file would not take (xattrs.ts), with the device it is on. */
export type OnRefused = (refusals: Refusal[], dev: number) => void;

/**
 * Creates a new file at `path` (nothing may be there, not even a symlink) to write;
 * `named` is its path as errors name it (`path` may be one through /proc/self/fd).
 */
export function createTemp(path: string, mode: number, named: string): Deno.FsFile {
  try {
    return Deno.openSync(path, { write: true, createNew: true, mode });
  } catch (e) {
    if (e instanceof Error && path !== named) e.message = e.message.replaceAll(path, named);
    throw e;
  }
}

/**
 * Makes an empty temporary file `name` in `folder` (a restore's temporary name: one an
 * interruption leaves is said as such), asks `ask` about it by the path that reaches it,
 * and removes it; `none` where it cannot be made. How a destination disk is probed.
 */
export function withProbeFile<T>(
  folder: Reached,
  name: string,
  none: T,
  ask: (at: string) => T,
): T {
  const at = folder.at(name);
  try {
    createTemp(at, 0o600, join(folder.path, name)).close();
  } catch {
    return none;
  }
  try {
    return ask(at);
  } finally {
    removeQuietly(at);
  }
}

/**
 * Gives the temporary file `f`, made at `path`, its recorded owner (run as root), extended
 * attributes (those it takes: the others go to `onRefused`), permission bits (those the
 * owner permits: owner.ts) and modification time. `modeToo` false: it was created with the
 * right bits, keeps the process's owner and has no attributes to set; only the time is set.
 */
export function finishTemp(
  f: Deno.FsFile,
  path: string,
  meta: FileMeta,
  modeToo: boolean,
  onRefused?: OnRefused,
): void {
  if (modeToo && !IS_WINDOWS) {
    const fd = openExisting(path, f.statSync());
    if (fd === undefined) {
      throw new Error(`the temporary file was replaced while it was written: not restored`);
    }
    try {
      setOwnerAndMode(fd, meta, onRefused);
    } finally {
      fs.closeSync(fd);
    }
  }
  const when = new Date(meta.mtimeMs);
  f.utimeSync(when, when); // after the last write, through the handle: no path lookup
}

/**
 * Gives the file or folder open as `fd` (at `path`) its recorded owner, extended
 * attributes (those it takes: the others go to `onRefused`), permission bits and
 * modification time.
 */
export function finishMeta(
  fd: number,
  path: string,
  meta: FileMeta,
  onRefused?: OnRefused,
): void {
  if (!IS_WINDOWS) setOwnerAndMode(fd, meta, onRefused);
  // Through Deno, to the millisecond and before 1970 too: node:fs's futimes passes float
  // seconds (a time ending in .123 became .122999906) and refuses negative ones. On Linux
  // through the open file's /proc path, so no one can swap what it names; elsewhere by path.
  const when = new Date(meta.mtimeMs);
  Deno.utimeSync(openPath(fd) ?? path, when, when);
}

function setOwnerAndMode(fd: number, meta: FileMeta, onRefused?: OnRefused): void {
  const mode = ownThrough({
    chown: (uid, gid) => fs.fchownSync(fd, uid, gid),
    owner: () => {
      const s = fs.fstatSync(fd);
      return { uid: s.uid, gid: s.gid };
    },
  }, meta);
  // After the chown, which clears file capabilities, and before the chmod: an ACL sets the
  // group bits, which the recorded mode then gives again.
  if (meta.xattrs !== undefined) {
    const refused = applyXattrs({ fd }, meta.xattrs, false);
    if (refused.length > 0) onRefused?.(refused, fs.fstatSync(fd).dev);
  }
  try {
    fs.fchmodSync(fd, mode);
  } catch (e) {
    // A file system without permission bits (FAT or exFAT through FUSE) keeps none.
    const code = (e as { code?: string }).code;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw e;
  }
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
  if (s.isFile() && (!seen.ino || (s.ino === seen.ino && s.dev === seen.dev))) return fd;
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

/**
 * Flushes temporary files to disk, `SYNC_PARALLEL` at a time, each opened without
 * following a symlink and without waiting on a FIFO: someone who swapped a file's folder
 * meanwhile cannot hold the restore up with a FIFO of that name (a file not the one
 * written fails the flush, and its batch, which is named). Windows flushes through a
 * handle opened to write, and has no FIFOs there: `syncFiles` serves it.
 */
export async function syncTemps(paths: string[]): Promise<void> {
  if (IS_WINDOWS) return await syncFiles(paths);
  const writeOut = WRITE_OUT_HERE;
  if (!writeOut) return await inWaves(paths, SYNC_PARALLEL, flushTemp, tempFlushFailure);
  // macOS: each written out, then one full flush (barrier_flush.ts).
  const steps = { writeOut, open: openTemp, full: flushTemp, failure: tempFlushFailure };
  await flushWithBarrier(paths, SYNC_PARALLEL, steps);
}

/** A temporary file's full flush (on macOS F_FULLFSYNC), if it is still a file. */
async function flushTemp(path: string): Promise<void> {
  const handle = await openTemp(path);
  try {
    await handle.datasync().catch(unlessFullFlushRefused);
  } finally {
    await handle.close();
  }
}

/** A temporary file opened to flush it, if it is still a file (see `syncTemps`). */
async function openTemp(path: string): Promise<fs.promises.FileHandle> {
  const handle = await fs.promises.open(path, C.O_RDONLY | NOFOLLOW | NONBLOCK);
  try {
    if (!(await handle.stat()).isFile()) throw new Error("it is not a file now");
  } catch (e) {
    await handle.close();
    throw e;
  }
  return handle;
}

/** Why a temporary file could not be flushed, with what to do (exported for tests). */
export function tempFlushFailure(path: string, e: unknown): Error {
  const why = String((e as Error)?.message ?? e).split(",")[0];
  // Gone: its folder was moved or removed while the restore ran, not a failing disk.
  const gone = (e as { code?: string })?.code === "ENOENT";
  const remedy = gone
    ? "its folder was moved or removed while the restore ran: restore it again"
    : "check the disk";
  // The error itself kept: a full disk is told by its code (full_disks.ts).
  return new Error(`Cannot flush '${path}' to disk: ${why}: ${remedy}`, { cause: e });
}

/**
 * Flushing files to disk: many fdatasyncs issued together (one at a time cost several times
 * as much), as many at once as the open files limit allows, retried in smaller waves where
 * that limit is lower than it looks; on macOS a plain fsync each and one full flush
 * (barrier_flush.ts). A flush interrupted leaves the files as the kernel has them, which
 * the callers' next flush or rename order makes safe.
 */
import { errorText, isMomentarilyUnavailable, isOutOfOpenFiles } from "../errors.ts";
import { notImplementedHere } from "./portability.ts";
import { flushWithBarrier, WRITE_OUT_HERE } from "./barrier_flush.ts";

/**
 * How a file is opened to flush it. On Windows, `syncData` is FlushFileBuffers, which fails
 * ("Access is denied") on a handle without write access; elsewhere a read-only handle is
 * enough, and needed: a copy given a read-only source's mode (0o444) cannot be opened for
 * writing (Windows copies keep theirs: `applyMeta` does not chmod there).
 */
export function syncOpenOptions(os: typeof Deno.build.os = Deno.build.os): Deno.OpenOptions {
  return os === "windows" ? { write: true } : { read: true };
}

/**
 * Flushes files to disk, SYNC_PARALLEL at a time: fsyncs issued together cost far less. On
 * macOS, with FFI, each is written out and the drive's cache flushed once (barrier_flush.ts).
 */
export function syncFiles(paths: string[]): Promise<void> {
  const writeOut = WRITE_OUT_HERE;
  if (writeOut) {
    return flushWithBarrier(paths, SYNC_PARALLEL, {
      writeOut,
      // node:fs (Node's layer, some 20 ms to load) only where it is used: macOS.
      open: async (p) => (await import("node:fs")).promises.open(p, "r"),
      full: fullFlush,
      failure: flushFailure,
    });
  }
  return inWaves(paths, SYNC_PARALLEL, fullFlush, flushFailure);
}

/** Deno's flush of one file: fdatasync, and on macOS F_FULLFSYNC (through the drive's cache). */
async function fullFlush(path: string): Promise<void> {
  using f = await Deno.open(path, syncOpenOptions());
  await f.syncData().catch(unlessFullFlushRefused);
}

/**
 * Rethrows a flush's error, but for a full flush a file system refuses: on macOS, Deno
 * flushes with F_FULLFSYNC (to the disk's platters, past its cache), which SMB mounts (a
 * NAS) refuse with ENOTSUP; the data is then the server's to keep, as with the plain fsync
 * Go falls back to there, which Deno cannot call.
 */
export function unlessFullFlushRefused(e: unknown): void {
  if (!fullFlushRefused(e)) throw e;
}

/** Whether a flush failed only as `unlessFullFlushRefused` lets pass. */
export function fullFlushRefused(e: unknown, os: string = Deno.build.os): boolean {
  return os === "darwin" && notImplementedHere(e, os);
}

/**
 * `flush` for each path, `parallel` at a time. Where the open files limit is lower than
 * SYNC_PARALLEL knows (it cannot read it off Linux), the paths that found no descriptor
 * (EMFILE) are done again, half as many at a time, and so are those the system was short
 * of something for a moment (EAGAIN: a thread for the call, the machine at its limit),
 * which one at a time are tried again after a pause; any other failure is `failure`'s.
 */
export async function inWaves(
  paths: string[],
  parallel: number,
  flush: (path: string) => Promise<void>,
  failure: (path: string, e: unknown) => Error,
): Promise<void> {
  const short: string[] = [];
  for (let i = 0; i < paths.length; i += parallel) {
    const wave = paths.slice(i, i + parallel);
    const results = await Promise.allSettled(wave.map(flush));
    for (const [n, r] of results.entries()) {
      if (r.status === "fulfilled") continue;
      const text = errorText(r.reason);
      const momentary = isMomentarilyUnavailable(text);
      if (parallel > 1 && (momentary || isOutOfOpenFiles(text))) short.push(wave[n]);
      else if (momentary) await flushAgain(wave[n], flush, failure);
      else throw failure(wave[n], r.reason);
    }
  }
  if (short.length > 0) await inWaves(short, Math.floor(parallel / 2), flush, failure);
}

/**
 * Tries of a flush the system had no resources for a moment (EAGAIN), one at a time, and
 * the pause before each: half a second in all, well past a burst of short-lived threads.
 */
const MOMENTARY_TRIES = 5;
const MOMENTARY_PAUSE_MS = 100;

/** `flush` of one path again after pauses while it fails with EAGAIN; else `failure`. */
async function flushAgain(
  path: string,
  flush: (path: string) => Promise<void>,
  failure: (path: string, e: unknown) => Error,
): Promise<void> {
  for (let tries = 1;; tries++) {
    await new Promise((resolve) => setTimeout(resolve, MOMENTARY_PAUSE_MS));
    try {
      return await flush(path);
    } catch (e) {
      if (tries >= MOMENTARY_TRIES || !isMomentarilyUnavailable(errorText(e))) {
        throw failure(path, e);
      }
    }
  }
}

export function flushFailure(path: string, e: unknown): Error {
  // Deno names no path for a failed fsync (an I/O error: the disk is failing).
  const remedy = isOutOfOpenFiles(errorText(e))
    ? "raise the open files limit (ulimit -n)"
    : "check the disk";
  return new Error(`Cannot flush '${path}' to disk: ${errorText(e)}: ${remedy}`);
}

let OPEN_FILES_LIMIT: number | undefined;
/**
 * fdatasyncs in flight at once: 64 (more bought nothing, measured), but at most a quarter
 * of the open files limit where Linux shows it, so that `ulimit -n 64` still works.
 */
export const SYNC_PARALLEL = Math.max(1, Math.min(64, Math.floor(openFilesLimit() / 4)));

/**
 * Descriptors a failed open may have wanted at once and given back since: SQLite opens a
 * state with its -wal and -shm files and a folder to flush, four at most.
 */
const FEW_DESCRIPTORS = 8;

/**
 * Whether the process is out of open files, or nearly, now: on Linux, fewer than
 * FEW_DESCRIPTORS are left below the limit, or none to list the open ones with; elsewhere
 * nothing tells (false). For failures whose own words do not say so: SQLite's "unable to
 * open database file" stands for a missing folder or a permission as well.
 */
export function descriptorsRunningOut(): boolean {
  if (Deno.build.os !== "linux") return false;
  let open = 0;
  try {
    for (const _ of Deno.readDirSync("/proc/self/fd")) open++;
  } catch (e) {
    return isOutOfOpenFiles(errorText(e));
  }
  return openFilesLimit() - open < FEW_DESCRIPTORS;
}

/**
 * The soft limit of open files where Linux shows it (/proc/self/limits, read once; an
 * unlimited one as 1,048,576, Linux's own ceiling); elsewhere 256 (macOS's default, below
 * Linux's 1,024).
 */
export function openFilesLimit(): number {
  return shownOpenFilesLimit() ?? 256;
}

/**
 * The limit as openFilesLimit reads it, or undefined where it could not be read now, or is
 * not read at all (off Linux, on `os`: 256 there is a guess, which the error's remedy must
 * not give as the limit). A read that fails is not kept: out of descriptors, it fails for
 * want of one (SYNC_PARALLEL reads it as the modules load, under `ulimit -n 20` too), and
 * the next call, once some are given back, reads the real limit for the error's remedy.
 */
export function shownOpenFilesLimit(os: string = Deno.build.os): number | undefined {
  if (os !== "linux") return undefined;
  if (OPEN_FILES_LIMIT !== undefined) return OPEN_FILES_LIMIT;
  try {
    const limits = Deno.readTextFileSync("/proc/self/limits");
    const shown = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
    const soft = shown === "unlimited" ? 1 << 20 : Number(shown);
    return OPEN_FILES_LIMIT = soft > 0 ? soft : 256;
  } catch {
    return undefined;
  }
}

/**
 * Flushing files to disk: many fdatasyncs issued together (one at a time cost several times
 * as much), as many at once as the open files limit allows, retried in smaller waves where
 * that limit is lower than it looks. A flush interrupted leaves the files as the kernel
 * has them, which the callers' next flush or rename order makes safe.
 */
import { errorText } from "./errors.ts";
import { notImplementedHere } from "./portability.ts";
import {
  callFailure,
  cStringIn,
  FILE_SYMBOLS,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_NONBLOCK,
  O_RDONLY_CLOEXEC,
  openLibc,
  PATH_BYTES,
} from "./libc.ts";

/**
 * How a file is opened to flush it. On Windows, `syncData` is FlushFileBuffers, which fails
 * ("Access is denied") on a handle without write access; elsewhere a read-only handle is
 * enough, and needed: a copy given a read-only source's mode (0o444) cannot be opened for
 * writing (Windows copies keep theirs: `applyMeta` does not chmod there).
 */
export function syncOpenOptions(os: typeof Deno.build.os = Deno.build.os): Deno.OpenOptions {
  return os === "windows" ? { write: true } : { read: true };
}

/** Flushes files to disk, `parallel` at a time: fsyncs issued together cost far less. */
export function syncFiles(paths: string[], parallel = SYNC_PARALLEL): Promise<void> {
  const options = syncOpenOptions();
  return inWaves(paths, parallel, async (p) => {
    using f = await Deno.open(p, options);
    await f.syncData().catch(unlessFullFlushRefused);
  }, flushFailure);
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
 * (EMFILE) are done again, half as many at a time; any other failure is `failure`'s error.
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
      if (tooManyOpen(r.reason) && parallel > 1) short.push(wave[n]);
      else throw failure(wave[n], r.reason);
    }
  }
  if (short.length > 0) await inWaves(short, Math.floor(parallel / 2), flush, failure);
}

/**
 * A folder that cannot be flushed where the system does not do that: Windows (no folder
 * opened for reading is flushed; NTFS journals the entry itself), and file systems without
 * fsync for folders (EINVAL, EBADF, ENOTSUP: some FUSE, 9p, CIFS and vboxsf mounts) or that
 * refuse to open one (EACCES). As PostgreSQL and SQLite do, a run goes on there: only a
 * failing disk (EIO) stops it.
 */
export function folderSyncUnsupported(e: unknown): boolean {
  return Deno.build.os === "windows" || notImplementedHere(e) ||
    e instanceof Deno.errors.PermissionDenied || /\(os error (9|22)\)/.test(errorText(e));
}

/**
 * Flushes folders' entries to disk (the names linked into them and removed from them),
 * `parallel` at a time: a rename is durable only once its folders are, and a commit must
 * not record a move that a power cut can still undo (btrfs, for one, writes back another
 * file's names only at its next transaction, up to 30 s later, when one file is fsynced).
 * A folder gone meanwhile (emptied and removed) has nothing left to flush, nor has one
 * replaced by something else (looked at first: a FIFO put there would hold the open up);
 * one where the system cannot flush folders is passed over (`folderSyncUnsupported`).
 */
export async function syncFolders(
  paths: Iterable<string>,
  parallel = SYNC_PARALLEL,
): Promise<void> {
  if (Deno.build.os === "windows") return; // NTFS journals names itself
  if (Deno.build.os === "darwin") {
    // A folder's flush there is F_FULLFSYNC, which commits the file system's journal whole
    // (APFS, HFS+) and empties the disk's cache, each time: one does for every folder.
    for (const p of paths) if (await syncFolder(p)) return;
    return;
  }
  await inWaves([...paths], parallel, async (p) => void await syncFolder(p), flushFailure);
}

/** Flushes one folder's entries; false where it was gone or could not be flushed. */
async function syncFolder(path: string): Promise<boolean> {
  if (FOLDER_LIBRARY) return await syncFolderC(FOLDER_LIBRARY, path);
  try {
    // Looked at first, not to wait on a FIFO put there (a moment is left between the two).
    if (!(await Deno.lstat(path)).isDirectory) return false;
    using folder = await Deno.open(path, { read: true });
    await folder.sync();
    return true;
  } catch (e) {
    const gone = e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory;
    if (!gone && !folderSyncUnsupported(e)) throw e;
    return false;
  }
}

const FOLDER_SYMBOLS = {
  ...FILE_SYMBOLS,
  fsync: { parameters: ["i32"], result: "i32", nonblocking: true },
} as const;
type FolderLibrary = Deno.DynamicLibrary<typeof FOLDER_SYMBOLS>;
/**
 * The C library for `syncFolderC` (Linux with glibc and FFI), bound when the module loads
 * (as source_file.ts binds its own: before any test starts, whose resource check would
 * count it as leaked), held for the process.
 */
const FOLDER_LIBRARY = openLibc(FOLDER_SYMBOLS);

/**
 * `syncFolder` through the C library: opened as a folder only (O_DIRECTORY), never through
 * a symlink, never waiting on a FIFO, whatever took the folder's place meanwhile.
 */
async function syncFolderC(lib: FolderLibrary, path: string): Promise<boolean> {
  const name = cStringIn(path, new Uint8Array(PATH_BYTES));
  const flags = O_RDONLY_CLOEXEC | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK;
  const fd = name ? lib.symbols.open(name, flags) : -1;
  if (fd < 0) {
    const e = callFailure(lib, "open", path);
    const gone = e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory ||
      e instanceof Deno.errors.FilesystemLoop;
    if (gone || folderSyncUnsupported(e)) return false;
    throw e;
  }
  try {
    // No errno to read after a call on another thread: EIO, or a file system without
    // folder flushes (EINVAL), told apart by Deno's own call, made once more.
    if (await lib.symbols.fsync(fd) === 0) return true;
  } finally {
    lib.symbols.close(fd);
  }
  using folder = await Deno.open(path, { read: true });
  try {
    await folder.sync();
  } catch (e) {
    if (!folderSyncUnsupported(e)) throw e;
    return false;
  }
  return true;
}

function tooManyOpen(e: unknown): boolean {
  return /os error 24\b|EMFILE/.test(errorText(e));
}

function flushFailure(path: string, e: unknown): Error {
  // Deno names no path for a failed fsync (an I/O error: the disk is failing).
  const remedy = tooManyOpen(e) ? "raise the open files limit (ulimit -n)" : "check the disk";
  return new Error(`Cannot flush '${path}' to disk: ${errorText(e)}: ${remedy}`);
}

let OPEN_FILES_LIMIT: number | undefined;
/**
 * fdatasyncs in flight at once: 64 (more bought nothing, measured), but at most a quarter
 * of the open files limit where Linux shows it, so that `ulimit -n 64` still works.
 */
export const SYNC_PARALLEL = Math.max(1, Math.min(64, Math.floor(openFilesLimit() / 4)));

/**
 * The soft limit of open files where Linux shows it (/proc/self/limits, read once; an
 * unlimited one as 1,048,576, Linux's own ceiling); elsewhere 256 (macOS's default, below
 * Linux's 1,024).
 */
export function openFilesLimit(): number {
  if (OPEN_FILES_LIMIT !== undefined) return OPEN_FILES_LIMIT;
  let soft = NaN;
  if (Deno.build.os === "linux") {
    try {
      const limits = Deno.readTextFileSync("/proc/self/limits");
      const shown = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
      soft = shown === "unlimited" ? 1 << 20 : Number(shown);
    } catch { /* not readable: the default */ }
  }
  return OPEN_FILES_LIMIT = soft > 0 ? soft : 256;
}

/**
 * Flushing folders' entries to disk (the names linked into them and removed from them): a
 * rename is durable only once its folders are, and a commit must not record a move that a
 * power cut can still undo (btrfs, for one, writes back another file's names only at its
 * next transaction, up to 30 s later, when one file is fsynced). Each system its way:
 * Linux flushes each folder, in parallel waves; macOS one, whose full flush (F_FULLFSYNC)
 * commits the file system's journal whole; Windows none (NTFS journals names itself). On
 * Linux with glibc and FFI a folder is opened and flushed through the C library (bound when
 * the module loads, held for the process), as a folder only, never through a symlink, never
 * waiting on a FIFO put in its place. Nothing here writes: an interruption leaves the folders as
 * the kernel has them.
 */
import { errorText, isGone, isNameTooLong } from "../errors.ts";
import { flushFailure, inWaves, SYNC_PARALLEL } from "./flush.ts";
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
 * Flushes the folders at `paths` (see the module's comment), `parallel` at a time. A folder
 * gone meanwhile (emptied and removed) has nothing left to flush, nor has one replaced by
 * something else, nor one whose path is too long for the system (every move is made by
 * its path, so none was made in it: an archive that failed so, `versions/<a path near
 * 4,096 bytes>/`); one where the system cannot flush folders is passed over.
 */
export async function syncFolders(
  paths: Iterable<string>,
  parallel = SYNC_PARALLEL,
): Promise<void> {
  if (Deno.build.os === "windows") return;
  if (Deno.build.os === "darwin") {
    for (const p of paths) if (await syncFolder(p)) return;
    return;
  }
  await inWaves([...paths], parallel, async (p) => void await syncFolder(p), flushFailure);
}

/** Flushes one folder's entries; false where it was gone or could not be flushed. */
export function syncFolder(path: string): Promise<boolean> {
  return FOLDER_LIBRARY ? syncFolderC(FOLDER_LIBRARY, path) : syncFolderByDeno(path);
}

/** `syncFolder` through Deno's calls: looked at first (a moment is left between the two). */
async function syncFolderByDeno(path: string): Promise<boolean> {
  try {
    if (!(await Deno.lstat(path)).isDirectory) return false;
    using folder = await Deno.open(path, { read: true });
    await folder.sync();
    return true;
  } catch (e) {
    if (!isGone(e) && !isNameTooLong(e) && !folderSyncUnsupported(e)) throw e;
    return false;
  }
}

/**
 * fsync on the calling thread, so that its errno can be read: a folder's flush is short (a
 * journal commit at most, the folders after it nothing), and a failure must be told apart
 * (a file system without folder flushes, or a failing disk, which a second open would not
 * hear of: Linux reports a write-back error to the descriptors open when it happened).
 */
const FOLDER_SYMBOLS = {
  ...FILE_SYMBOLS,
  fsync: { parameters: ["i32"], result: "i32" },
} as const;
type FolderLibrary = Deno.DynamicLibrary<typeof FOLDER_SYMBOLS>;
/** Bound when the module loads: before any test starts, whose resource check would count it. */
const FOLDER_LIBRARY = openLibc(FOLDER_SYMBOLS);

/** `syncFolder` through the C library: a folder only, never through a symlink or a FIFO. */
function syncFolderC(lib: FolderLibrary, path: string): Promise<boolean> {
  return new Promise((resolve) => resolve(syncFolderNow(lib, path))); // a throw rejects it
}

function syncFolderNow(lib: FolderLibrary, path: string): boolean {
  const name = cStringIn(path, new Uint8Array(PATH_BYTES));
  if (!name) return false; // longer than PATH_MAX: see syncFolders
  const flags = O_RDONLY_CLOEXEC | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK;
  const fd = lib.symbols.open(name, flags);
  if (fd < 0) {
    const e = callFailure(lib, "open", path);
    const gone = isGone(e) || e instanceof Deno.errors.FilesystemLoop || isNameTooLong(e);
    if (gone || folderSyncUnsupported(e)) return false;
    throw e;
  }
  try {
    if (lib.symbols.fsync(fd) === 0) return true;
    const e = callFailure(lib, "fsync", path);
    if (folderSyncUnsupported(e)) return false;
    throw e;
  } finally {
    lib.symbols.close(fd);
  }
}

/**
 * Small, idempotent file operations on storage paths inside the backup root: looking at
 * entries without following symlinks, same-file tests, renames and removals retried as
 * Windows needs, folders made and removed, flushes. The moves built on them are in
 * move.ts. Nothing here ever replaces an existing file.
 */
import { dirname, join, relative, sep } from "node:path";
import { errorText } from "./errors.ts";

/**
 * A `/`-separated storage path, as a native absolute path under `root` (absolute and
 * normalized, as the config makes it). Storage paths come from the layout and the walk,
 * never with empty, "." or ".." segments, so where `/` is the native separator the two are
 * simply joined: `join`'s normalization of the whole string was a twentieth of a first
 * backup's main thread (measured).
 */
export function nativePath(root: string, storage: string): string {
  if (sep !== "/") return join(root, ...storage.split("/"));
  return root.endsWith(sep) ? root + storage : root + sep + storage;
}

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

/** Whether anything (file, folder, symlink, even a dangling one) is at `path`. */
export function exists(path: string): boolean {
  return lstatOrNone(path) !== undefined;
}

// Windows refuses a rename while another process (an indexer, an antivirus) has the file
// open; those holds are short, so a rename is retried for about 2 s in total.
const RENAME_RETRIES = 20;
const RENAME_RETRY_MS = 100;

/** A refusal that may pass in a moment (Windows: another program has the file open). */
export function isTransient(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return e instanceof Deno.errors.Busy || code === "EBUSY" || code === "EPERM" ||
    (Deno.build.os === "windows" && e instanceof Deno.errors.PermissionDenied);
}

/** Runs a file step, retrying a moment on EPERM/EBUSY as Windows needs. */
export async function withRetry(step: () => void): Promise<void> {
  for (let attempt = 0;; attempt++) {
    try {
      step();
      return;
    } catch (e) {
      if (!isTransient(e) || attempt >= RENAME_RETRIES) throw e;
      await new Promise((r) => setTimeout(r, RENAME_RETRY_MS));
    }
  }
}

/** Renames, retrying a moment on EPERM/EBUSY as Windows needs. */
export function renameWithRetry(from: string, to: string): Promise<void> {
  return withRetry(() => Deno.renameSync(from, to));
}

/**
 * Creates a symlink: a staged copy of one, or one put back. On Windows a symlink is made
 * either for a file or for a folder, and without being told which, Deno looks at the target
 * (relative to the current folder, not to the link) and refuses one it cannot find ("an
 * `options` argument is required if the target does not exist"), as a relative or dangling
 * target mostly is from there. The kind comes from the mode recorded for the link: Deno on
 * Windows gives a folder's symlink the folder type bits. Elsewhere the option is ignored.
 */
export function makeSymlink(target: string, path: string, mode: number): void {
  try {
    Deno.symlinkSync(target, path, { type: symlinkType(mode) });
  } catch (e) {
    if (notImplementedHere(e) || (Deno.build.os !== "windows" && isPermissionError(e))) {
      throw new Error(
        `Cannot make a symlink in '${dirname(path)}': its file system has none (FAT and exFAT ` +
          "have none): exclude the symlinks, or back up to a disk formatted ext4, btrfs, " +
          "xfs, APFS or NTFS",
      );
    }
    // os error 1314: creating symlinks needs a privilege ordinary Windows accounts lack.
    if (Deno.build.os !== "windows" || !(e instanceof Deno.errors.PermissionDenied)) throw e;
    throw new Deno.errors.PermissionDenied(
      `${e.message}: Windows lets only administrators create symlinks unless Developer ` +
        "Mode is on (Settings, System, For developers); turn it on or run as administrator",
    );
  }
}

/**
 * A call the file system does not implement: ENOSYS or EOPNOTSUPP (Linux 38 and 95, macOS
 * 78 and 102), which Deno reports as a plain error with the number in its text. FAT and
 * exFAT through FUSE answer so to chmod and symlink.
 */
export function notImplementedHere(e: unknown): boolean {
  if (e instanceof Deno.errors.NotSupported) return true;
  const codes = Deno.build.os === "darwin" ? "78|102" : "38|95";
  return new RegExp(`\\(os error (${codes})\\)`).test((e as Error)?.message ?? "");
}

function isPermissionError(e: unknown): boolean {
  return e instanceof Deno.errors.PermissionDenied || (e as { code?: string }).code === "EPERM";
}

/**
 * Characters FAT, exFAT and NTFS refuse in a name (besides control characters), and a
 * trailing dot or space, which they drop: a copy named so cannot be placed on such a disk.
 */
// deno-lint-ignore no-control-regex -- control characters are what these disks refuse
const UNPORTABLE_NAME = /[:*?"<>|\\\x00-\x1f]|[. ]$/;

/**
 * Why placing a copy at a storage path failed, in words: a name the backup disk refuses
 * (FAT and exFAT answer "no such file" or "invalid argument") is said as such.
 */
export function placeFailure(storage: string, e: unknown): string {
  const refused = e instanceof Deno.errors.NotFound || e instanceof Deno.errors.InvalidData ||
    /\(os error (22|84)\)/.test((e as Error)?.message ?? "");
  const odd = storage.split("/").find((part) => UNPORTABLE_NAME.test(part));
  if (!refused || odd === undefined) return errorText(e);
  return `the backup disk does not allow the name '${odd}' (FAT, exFAT and NTFS refuse ` +
    `: * ? " < > | \\ and a trailing dot or space): rename it in the source, or exclude it`;
}

/** Which kind of Windows symlink a link with this recorded mode is. */
export function symlinkType(mode: number): "file" | "dir" {
  return (mode & 0o170000) === 0o040000 ? "dir" : "file";
}

/** lstat, or undefined when nothing is there. */
export function lstatOrNone(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw e;
  }
}

/**
 * Whether nothing is at `path` (false where that cannot be told: a folder on the way this
 * user may not enter): what a caller made there may then be removed again.
 */
export function isMissing(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return false;
  } catch (e) {
    return e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory;
  }
}

/** `path` and those of its parents that are missing (see `isMissing`), deepest first. */
export function missingFolders(path: string): string[] {
  const missing: string[] = [];
  for (let at = path; dirname(at) !== at && isMissing(at); at = dirname(at)) missing.push(at);
  return missing;
}

/**
 * Creates the file if nothing is at its path: exclusively (O_EXCL), which never follows a
 * symlink, so a dangling one put there makes nothing at its target. Whatever is there
 * already is left to the open that follows (and the check after it).
 */
export function createIfMissing(file: string): void {
  try {
    Deno.openSync(file, { write: true, createNew: true }).close();
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
}

/** Removes a file (or an empty folder) if it is there; one already gone is fine. */
export function removeQuietly(path: string | undefined): void {
  if (!path) return;
  try {
    Deno.removeSync(path);
  } catch { /* already gone (renamed away, or never created) */ }
}

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
  if (x.ino !== null && y.ino !== null) return x.ino === y.ino && x.dev === y.dev;
  if (x.isSymlink || y.isSymlink) {
    return x.isSymlink && y.isSymlink && Deno.readLinkSync(a) === Deno.readLinkSync(b);
  }
  return x.isFile && y.isFile && x.size === y.size && sameBytes(a, b);
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
 * The entry at a storage path, looked at without following any symlink below `root`:
 * undefined when nothing is there; "unsafe" when a component on the way is not a real
 * folder (a symlink or a file someone put in the backup root), so that nothing there is a
 * stored copy and nothing may be done through it. The executor and `verify --repair` reach
 * existing copies only through this (new copies go where the planner found nothing in the
 * way), so such a symlink never leads them outside the backup root.
 */
export function storedEntry<T extends EntryKind>(
  root: string,
  storage: string,
  real: Set<string>,
  /** How each path is looked at, for its kind only (the last overload: by lstat). */
  look: (abs: string) => T | undefined,
): T | "unsafe" | undefined;
export function storedEntry(
  root: string,
  storage: string,
  /** Folders already seen to be real in this batch, so each is looked at once. */
  real?: Set<string>,
): Deno.FileInfo | "unsafe" | undefined;
export function storedEntry(
  root: string,
  storage: string,
  real = new Set<string>(),
  look: (abs: string) => EntryKind | undefined = lstatOrNone,
): EntryKind | "unsafe" | undefined {
  for (let cut = storage.indexOf("/"); cut >= 0; cut = storage.indexOf("/", cut + 1)) {
    const folder = storage.slice(0, cut);
    if (real.has(folder)) continue;
    const info = look(nativePath(root, folder));
    if (info === undefined) return undefined; // a folder on the way is missing
    if (!info.isDirectory) return "unsafe";
    real.add(folder);
  }
  return look(nativePath(root, storage));
}

/** What `storedEntry` tells of an entry: its kind. */
export type EntryKind = Pick<Deno.FileInfo, "isFile" | "isDirectory" | "isSymlink">;

/**
 * Whether what `storedEntry` found at a copy's place is something else standing there (put
 * by hand), which is left alone, the copy being made at the next free name: a path that
 * is not safe to reach, a folder, or a symlink where a file's copy belongs. Nothing there
 * is not in the way (the copy is missing); a file where a symlink's copy belongs is taken
 * for that copy, damaged. Runs and `verify --repair` decide alike by this.
 */
export function standsInPlace(
  found: EntryKind | "unsafe" | undefined,
  kind: "file" | "symlink",
): boolean {
  if (found === undefined) return false;
  return found === "unsafe" || (kind === "file" ? !found.isFile : found.isDirectory);
}

/** Whether a stored copy (a file or a symlink) is at a storage path, reached safely. */
export function isStoredCopy(
  entry: Deno.FileInfo | "unsafe" | undefined,
): entry is Deno.FileInfo {
  return entry !== undefined && entry !== "unsafe" && (entry.isFile || entry.isSymlink);
}

/**
 * Removes the now-empty folders above a storage path, up to (not including) the root, when
 * all of them are real folders: a symlink someone put in their place is left alone.
 */
export function removeEmptyParents(root: string, storage: string, real?: Set<string>): void {
  if (storedEntry(root, storage, real) === "unsafe") return;
  const parts = storage.split("/");
  for (let n = parts.length - 1; n > 0; n--) {
    const dir = nativePath(root, parts.slice(0, n).join("/"));
    try {
      Deno.removeSync(dir);
    } catch {
      return; // not empty (or already gone): stop climbing
    }
  }
}

/**
 * Creates the folders that will hold `storagePaths` (each folder once). The batch calls
 * it before its fsync wave: created just after one, each mkdir waited for the file
 * system's journal commit (about 0.3 ms instead of 0.04 ms on ext4, measured), which made
 * folder creation a fifth of a small incremental run. Best effort: a folder that cannot be
 * made here is tried again by the move, which reports the failure for its own file. A
 * crash can leave such a folder empty, which is harmless: the next action placed there
 * uses it.
 */
export function makeParents(root: string, storagePaths: Iterable<string>): void {
  const made = new Set<string>();
  for (const p of storagePaths) {
    const parent = p.slice(0, Math.max(0, p.lastIndexOf("/")));
    if (parent === "" || made.has(parent)) continue;
    made.add(parent);
    try {
      Deno.mkdirSync(nativePath(root, parent), { recursive: true });
    } catch { /* the move tries again and reports it */ }
  }
}

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
    await f.syncData();
  }, flushFailure);
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

/**
 * Whether a read failed because the source file itself is gone (removed or renamed while
 * the pass ran, a folder on its way replaced by a file) or is a folder now: not a failure,
 * the next pass sees what is there. Anything else missing (a stored copy, the temporary
 * folder) is a failure.
 */
export function vanishedFrom(e: unknown, abs: string): boolean {
  if (e instanceof Deno.errors.IsADirectory) return lstatOrNone(abs)?.isDirectory === true;
  const gone = e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory;
  return gone && !exists(abs);
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

/** A path's real path, or undefined where it cannot be resolved (gone). */
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

/**
 * Small, idempotent file operations on storage paths inside the backup root: looking at
 * entries without following symlinks, folders made and removed, files created or removed
 * only where that is safe; and whether a failed read of a source file means it is gone
 * (`vanishedFrom`). Which file a path names is in identity.ts, what differs by
 * platform (retried renames, symlinks, refused names) in portability.ts, flushes in
 * flush.ts, and the moves built on them in move.ts. Nothing here ever replaces an existing
 * file.
 */
import type { CopyState } from "../../core/plan_view.ts";
import { dirname, join, sep } from "node:path";
import { parentOf } from "../../core/layout.ts";
import { isGone } from "../errors.ts";
import { childPath } from "../rel_path.ts";

/**
 * A `/`-separated storage path, as a native absolute path under `root` (absolute and
 * normalized, as the config makes it). Storage paths come from the layout and the walk,
 * never with empty, "." or ".." segments, so where `/` is the native separator the two are
 * simply joined: `join`'s normalization of the whole string was a twentieth of a first
 * backup's main thread (measured).
 */
export function nativePath(root: string, storage: string): string {
  return sep === "/" ? childPath(root, storage) : join(root, ...storage.split("/"));
}

/**
 * The permission bits a folder the tool makes in the backup root, or on the way to it (or
 * a restore's `--to` folder, or a folder above a source a restore in place makes), asks
 * for: those the umask leaves, never write by group or others, which a job started under
 * umask 000 or 002 would otherwise give every folder of the backup (its state's too), for
 * any local user to remove copies, the state, or plant files in.
 */
const FOLDER_MODE = 0o755;

/** The same for a file of the tool's own in the state folder (the lock, the reserve). */
export const OWN_FILE_MODE = 0o644;

/** `Deno.mkdirSync(path, { recursive: true })`, each folder made with FOLDER_MODE. */
export function makeFolders(path: string): void {
  Deno.mkdirSync(path, { recursive: true, mode: FOLDER_MODE });
}

/** `Deno.mkdirSync(path)` (AlreadyExists where something is there), made with FOLDER_MODE. */
export function makeFolder(path: string): void {
  Deno.mkdirSync(path, { mode: FOLDER_MODE });
}

/** Whether anything (file, folder, symlink, even a dangling one) is at `path`. */
export function exists(path: string): boolean {
  return lstatOrNone(path) !== undefined;
}

/** lstat, or undefined when nothing is there. */
export function lstatOrNone(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch (e) {
    if (isGone(e)) return undefined;
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
    return isGone(e);
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
    Deno.openSync(file, { write: true, createNew: true, mode: OWN_FILE_MODE }).close();
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
  const way = foldersOnWay(root, storage, real, look);
  return way === "real" ? look(nativePath(root, storage)) : way;
}

/**
 * Whether the folders on the way to a storage path (below the root) are real folders,
 * each looked at once (`real`): "unsafe" where one is not, undefined where one is missing.
 */
function foldersOnWay(
  root: string,
  storage: string,
  real: Set<string>,
  look: (abs: string) => EntryKind | undefined,
): "real" | "unsafe" | undefined {
  for (let cut = storage.indexOf("/"); cut >= 0; cut = storage.indexOf("/", cut + 1)) {
    const folder = storage.slice(0, cut);
    if (real.has(folder)) continue;
    const info = look(nativePath(root, folder));
    if (info === undefined) return undefined; // a folder on the way is missing
    if (!info.isDirectory) return "unsafe";
    real.add(folder);
  }
  return "real";
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

/**
 * What stands where a stored copy of `kind` is recorded, from what was found there (see
 * `PlanView.copyAt`): nothing at all is not in the way (the copy is missing, and is copied
 * again at its own place); anything else of another kind, or on the way, is.
 */
export function copyState(
  found: EntryKind | "unsafe" | undefined,
  kind: "file" | "symlink",
): CopyState {
  if (found === undefined) return "missing";
  return standsInPlace(found, kind) ? "blocked" : "present";
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
export function removeEmptyParents(
  root: string,
  storage: string,
  real = new Set<string>(),
): void {
  // The folders on the way only: the entry itself, mostly just moved away, is not looked
  // at (a failed lstat costs an exception: 100,000 deletions spent 1.3 s on them).
  if (foldersOnWay(root, storage, real, lstatOrNone) === "unsafe") return;
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
    const parent = parentOf(p);
    if (parent === "" || made.has(parent)) continue;
    made.add(parent);
    try {
      makeFolders(nativePath(root, parent));
    } catch { /* the move tries again and reports it */ }
  }
}

/**
 * Whether a read failed because the source file itself is gone (removed or renamed while
 * the pass ran, a folder on its way replaced by a file) or is a folder now: not a failure,
 * the next pass sees what is there. Anything else missing (a stored copy, the temporary
 * folder) is a failure. A failed open or look at the source path itself (every opener and
 * Deno name the path last: `…: open '/x'`) found it gone then, whatever is there now: a
 * file removed and written anew, as `git checkout` writes each one it changes, is there
 * again by the time this looks (until 2026-12-05 an `ERROR: …: No such file or directory`
 * for a file that exists, and `run` exit 1). Where it is there, it is opened once more
 * (`open`: the pass's opener): a file that every open finds missing while a look finds it
 * (a FUSE or network disk that lists a file it will not give) is a failure, never skipped
 * in silence at every pass.
 */
export function vanishedFrom(
  e: unknown,
  abs: string,
  open: (path: string) => Disposable,
): boolean {
  if (e instanceof Deno.errors.IsADirectory) return lstatOrNone(abs)?.isDirectory === true;
  if (!isGone(e)) return false;
  if (!(e as Error).message.endsWith(` '${abs}'`)) return !exists(abs);
  try {
    open(abs)[Symbol.dispose]();
    return true; // there again: written anew since
  } catch (again) {
    try {
      return !(isGone(again) && exists(abs)); // missing again, though there: not gone
    } catch {
      return false; // cannot be looked at: said as the failure it is
    }
  }
}

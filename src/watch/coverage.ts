/**
 * Which folders a watch session follows, and how. `Deno.watchFs` on a folder, recursively,
 * fails as a whole when any folder below it cannot be read (inotify needs read permission
 * on each): one root-owned folder in a home folder would leave the whole source unwatched.
 * It also follows every symlink to a folder it meets below (Deno 2.9.6): a symlink to `/`
 * (wine's `dosdevices/z:`) had it walk the whole system and fail on a folder of /proc, so
 * the source was never followed; one to a large tree cost a kernel watch for each of its
 * folders; and one to a followed folder made it name that folder's events by the link's
 * path (one watch per folder, named by the last path it was added under). So the sources
 * are walked first (folders only, symlinks not followed) and covered by recursive watches
 * of the largest subtrees that hold no unreadable folder and no symlink to a folder, plus
 * plain watches of the folders on the way to one (a plain watch follows nothing): an
 * unreadable folder is not followed (a run cannot read it either, and reports it), nor
 * what a symlink leads to (a run stores the symlink, never what it leads to). A folder gone
 * while the sources are walked (removed or renamed meanwhile) is passed over. The folders
 * `leftOut` (the backup root, where a source holds it) are gone around too, their parent
 * followed flat: Deno's watcher thread opens each path an event names, and its close of the
 * state's files dropped the POSIX locks SQLite holds on them for the session (a close of
 * any descriptor of a file drops all of the process's), so that a reader of the state
 * beside it (restore, history) reset the state's shared memory under the session (SIGBUS).
 *
 * `planCoverage` is pure over `listFolders`; `replanTest` says when an event changes the
 * plan (a folder made or moved where only a plain watch sees it, an unreadable folder
 * changed). Memory only: nothing is left behind.
 */
import { dirname, join } from "node:path";

export interface Coverage {
  /** Folders followed with everything below them. */
  recursive: string[];
  /** Folders followed for their own entries only. */
  flat: string[];
  /** Folders that could not be listed, not followed, and why. */
  unreadable: { path: string; error: string }[];
  /** Symlinks to folders, gone around: what they lead to is not followed through them. */
  linked: string[];
}

/** What a folder holds that the plan looks at: full paths. */
export interface Listing {
  /** Its subfolders (symlinks are not folders). */
  folders: string[];
  /** Its symlinks that lead to a folder. */
  linked: string[];
}

/** A folder's listing, or the error listing it gave. */
export type ListFolders = (dir: string) => Listing | Error;

/** Whether `plan` follows every source whole (one recursive watch of them all will do). */
export function followsWhole(plan: Coverage, roots: string[]): boolean {
  return plan.flat.length === 0 && plan.unreadable.length === 0 &&
    plan.recursive.length === roots.length;
}

export function planCoverage(
  roots: string[],
  listFolders: ListFolders = subfolders,
  leftOut: ReadonlySet<string> = new Set(),
): Coverage {
  const plan: Coverage = { recursive: [], flat: [], unreadable: [], linked: [] };
  const walk = { listFolders, leftOut, plan };
  for (const root of roots) {
    if (cover(root, walk, true) === WHOLE) plan.recursive.push(root);
  }
  return plan;
}

/** What `cover` works with: how folders are listed, those not followed, the plan made. */
interface Walk {
  listFolders: ListFolders;
  leftOut: ReadonlySet<string>;
  plan: Coverage;
}

/** How a folder is covered: whole by its caller's watch, in parts, or not at all (gone). */
const WHOLE = "whole";
const PARTS = "parts";
const GONE = "gone";

/**
 * WHOLE when nothing below `dir` is unreadable or a symlink to a folder (its caller follows
 * it whole); GONE for a folder below a source removed or renamed since its parent was
 * listed (a tree changing as it is planned: before, it was said to be unreadable and gone
 * around, with a warning); else PARTS.
 */
function cover(
  dir: string,
  walk: Walk,
  root = false,
): typeof WHOLE | typeof PARTS | typeof GONE {
  const { plan, leftOut } = walk;
  const listing = walk.listFolders(dir);
  if (listing instanceof Error) {
    if (!root && isGone(listing)) return GONE;
    plan.unreadable.push({ path: dir, error: listing.message });
    return PARTS;
  }
  plan.linked.push(...listing.linked);
  const followed = listing.folders.filter((child) => !leftOut.has(child));
  const covered = followed.map((child) => [child, cover(child, walk)] as const)
    .filter(([, how]) => how !== GONE);
  const whole = covered.filter(([, how]) => how === WHOLE).map(([child]) => child);
  const all = followed.length === listing.folders.length && listing.linked.length === 0;
  if (whole.length === covered.length && all) return WHOLE;
  plan.flat.push(dir);
  plan.recursive.push(...whole);
  return PARTS;
}

/** Whether listing a folder failed because it is no longer there. */
function isGone(e: Error): boolean {
  return e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory;
}

/** Subfolders as the disk lists them, and the symlinks that lead to a folder (not followed). */
export function subfolders(dir: string): Listing | Error {
  const listing: Listing = { folders: [], linked: [] };
  try {
    for (const e of Deno.readDirSync(dir)) {
      const path = join(dir, e.name);
      if (e.isDirectory) listing.folders.push(path);
      else if (e.isSymlink && leadsToFolder(path)) listing.linked.push(path);
    }
    return listing;
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

/** Whether the symlink at `path` leads to a folder now (one that leads nowhere does not). */
function leadsToFolder(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/**
 * The test of whether an event makes a new plan needed: it names an unreadable folder (its
 * permissions changed, or it went), or a followed folder renamed or removed, or a folder
 * made or moved into a folder followed flat (nothing below it would be seen).
 */
export function replanTest(
  plan: Coverage,
  isFolder: (path: string) => boolean = folderNow,
): (event: Deno.FsEvent) => boolean {
  const unreadable = new Set(plan.unreadable.map((u) => u.path));
  const followed = new Set([...plan.recursive, ...plan.flat]);
  const flat = new Set(plan.flat);
  return (event) =>
    event.paths.some((p) =>
      unreadable.has(p) ||
      ((event.kind === "rename" || event.kind === "remove") && followed.has(p)) ||
      ((event.kind === "create" || event.kind === "rename") && flat.has(dirname(p)) &&
        isFolder(p))
    );
}

function folderNow(path: string): boolean {
  try {
    return Deno.lstatSync(path).isDirectory;
  } catch {
    return false;
  }
}

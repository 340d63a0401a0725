/**
 * How many folders the sources hold that no watch follows (Linux). Deno's recursive watch
 * adds a watch for each folder made below one it follows as it reads the event of that
 * folder's making; an event lost in a burst (the kernel's queue full, which Deno 2.9.6 does
 * not always say) leaves that folder unfollowed, and every file written in it unseen, until
 * the watchers are opened anew. Seen in a soak: bursts of 5,000 files in 50 new folders left
 * 2 to 9 of them unwatched in 4 bursts of 6, with no overflow said, their files backed up
 * only by the next periodic rescan.
 *
 * The kernel holds one watch per folder followed (listed in /proc/self/fdinfo of each
 * inotify descriptor, by inode), and the folders to follow are those the watchers' plan
 * walks (coverage.ts: every folder that can be listed). They are matched by inode, not
 * counted: a watch of a folder outside the sources (one moved out of them stays followed,
 * one a symlink led Deno to) hid as many missing, and a folder reached by two paths (a bind
 * mount) is one watch, which asked for a rescan after every burst. Not by device too: on
 * btrfs, stat's device (the subvolume's) is not the one fdinfo gives. A source's own folder
 * that no watch matches says the inodes cannot be matched here (nothing is counted), so
 * that a file system that numbers them otherwise cannot ask for a rescan after every burst;
 * two folders of one inode number on two file systems can hide one missing (never make one).
 * Reads only; an interruption leaves nothing.
 */
import { dirname } from "node:path";
import { type ListFolders, planCoverage, subfolders } from "./coverage.ts";
import { isWithin } from "./scope.ts";

/** The link of a descriptor that is an inotify instance, in /proc/<pid>/fd. */
const INOTIFY = "anon_inode:inotify";

/**
 * The fdinfo text of each inotify descriptor process `pid` holds (this one's by default):
 * a line per watch. Undefined where that is not known (no /proc, or a read failed).
 */
function inotifyInfos(pid: number | "self"): string[] | undefined {
  if (Deno.build.os !== "linux") return undefined;
  try {
    const infos: string[] = [];
    for (const { name } of Deno.readDirSync(`/proc/${pid}/fd`)) {
      if (linkOf(`/proc/${pid}/fd/${name}`) !== INOTIFY) continue;
      infos.push(Deno.readTextFileSync(`/proc/${pid}/fdinfo/${name}`));
    }
    return infos;
  } catch {
    return undefined;
  }
}

/**
 * The inotify watches process `pid` holds (this one's by default; tests ask a session's);
 * undefined where that is not known (no /proc).
 */
export function inotifyWatches(pid: number | "self" = "self"): number | undefined {
  return inotifyInfos(pid)?.reduce((n, info) => n + [...info.matchAll(WATCH_LINE)].length, 0);
}

/**
 * The inodes of the folders this process's inotify watches follow; undefined where that is
 * not known (no /proc).
 */
export function watchedInodes(): Set<number> | undefined {
  const infos = inotifyInfos("self");
  if (infos === undefined) return undefined;
  const watched = new Set<number>();
  // As Deno gives an inode past 2^53: rounded to the nearest number.
  for (const info of infos) {
    for (const [, ino] of info.matchAll(WATCH_LINE)) watched.add(Number(BigInt(`0x${ino}`)));
  }
  return watched;
}

/** A watch in fdinfo: its inode, in hexadecimal. */
const WATCH_LINE = /^inotify wd:[0-9a-f]+ ino:([0-9a-f]+) /gm;

/** The inode of the folder at `path`; undefined for one gone meanwhile. */
function inodeOf(path: string): number | undefined {
  try {
    return Deno.statSync(path).ino ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * The folders the watchers of `roots` follow: each one their plan can list, but those it
 * leaves out (`leftOut`: the backup root where a source holds it, see coverage.ts).
 */
export function foldersToFollow(
  roots: string[],
  listFolders: ListFolders = subfolders,
  leftOut: ReadonlySet<string> = new Set(),
): string[] {
  const folders: string[] = [];
  planCoverage(roots, (dir) => {
    const listing = listFolders(dir);
    if (!(listing instanceof Error)) folders.push(dir);
    return listing;
  }, leftOut);
  return folders;
}

/**
 * How many folders of `roots` no watch follows; 0 where that cannot be known. `within`:
 * only the folders in and below those (folders in the sources, made or moved in since the
 * last count), where a walk of every source would cost more than the few folders a user's
 * edits make. The folders found so are looked up again in a second read of the watches
 * (`readWatched`): the first is a snapshot, and a folder made as it is read (about a third
 * of a second per 100,000 watches) or as the folders are walked has its watch added by
 * Deno's thread after it: seen, 4 times in 5, for a folder made a tenth of a second into
 * such a read, each a full rescan for nothing. A folder made just before the second read,
 * or removed as it is counted, can still make one too many.
 */
export function unwatchedFolders(
  roots: string[],
  leftOut: ReadonlySet<string> = new Set(),
  within?: readonly string[],
  readWatched: () => Set<number> | undefined = watchedInodes,
): number {
  const watched = readWatched();
  if (watched === undefined) return 0;
  if (within !== undefined && holding(roots, within).some((r) => !isWatched(r, watched))) return 0;
  const walked = within === undefined ? roots : followedOf(within, leftOut);
  const unwatched = new Set<number>();
  for (const folder of foldersToFollow(walked, subfolders, leftOut)) {
    const inode = inodeOf(folder);
    if (inode === undefined || watched.has(inode)) continue;
    if (roots.includes(folder)) return 0; // inodes not matched here (see above)
    unwatched.add(inode);
  }
  if (unwatched.size === 0) return 0;
  const now = readWatched();
  return now === undefined ? 0 : [...unwatched].filter((inode) => !now.has(inode)).length;
}

/**
 * The sources that hold one of `folders`: only their own folders say whether inodes are
 * matched there. Not every source: one that cannot be read is gone around, followed by no
 * watch, and turned the count of the folders made in all the others off.
 */
function holding(roots: string[], folders: readonly string[]): string[] {
  return roots.filter((root) => folders.some((path) => isWithin(path, root)));
}

/** Whether a watch follows the folder at `path` (yes for one gone meanwhile). */
function isWatched(path: string, watched: ReadonlySet<number>): boolean {
  const inode = inodeOf(path);
  return inode === undefined || watched.has(inode);
}

/** `folders` but those in or below a folder left out, and those below another of them. */
function followedOf(folders: readonly string[], leftOut: ReadonlySet<string>): string[] {
  const given = new Set(folders);
  return [...given].filter((path) =>
    !inOrBelow(path, leftOut) && (dirname(path) === path || !inOrBelow(dirname(path), given))
  );
}

/** Whether `path` or a folder on its way is one of `folders`. */
function inOrBelow(path: string, folders: ReadonlySet<string>): boolean {
  for (let dir = path;; dir = dirname(dir)) {
    if (folders.has(dir)) return true;
    if (dirname(dir) === dir) return false;
  }
}

/** Where a descriptor leads; undefined for one closed meanwhile. */
function linkOf(path: string): string | undefined {
  try {
    return Deno.readLinkSync(path);
  } catch {
    return undefined;
  }
}

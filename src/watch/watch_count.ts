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
 * inotify descriptor), and the folders to follow are those the watchers' plan walks
 * (coverage.ts: every folder that can be listed). Reads only; an interruption leaves
 * nothing.
 */
import { type ListFolders, planCoverage, subfolders } from "./coverage.ts";

/** The link of a descriptor that is an inotify instance, in /proc/self/fd. */
const INOTIFY = "anon_inode:inotify";

/** The inotify watches this process holds; undefined where that is not known (no /proc). */
export function inotifyWatches(): number | undefined {
  if (Deno.build.os !== "linux") return undefined;
  try {
    let watches = 0;
    for (const { name } of Deno.readDirSync("/proc/self/fd")) {
      if (linkOf(`/proc/self/fd/${name}`) !== INOTIFY) continue;
      const info = Deno.readTextFileSync(`/proc/self/fdinfo/${name}`);
      watches += info.split("\n").filter((line) => line.startsWith("inotify wd:")).length;
    }
    return watches;
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
): number {
  let folders = 0;
  planCoverage(roots, (dir) => {
    const listing = listFolders(dir);
    if (!(listing instanceof Error)) folders++;
    return listing;
  }, leftOut);
  return folders;
}

/**
 * How many folders of `roots` no watch follows; 0 where that cannot be known. A folder made
 * or removed as they are counted can make one too many (a rescan for nothing).
 */
export function unwatchedFolders(
  roots: string[],
  leftOut: ReadonlySet<string> = new Set(),
): number {
  const watched = inotifyWatches();
  if (watched === undefined) return 0;
  return Math.max(0, foldersToFollow(roots, subfolders, leftOut) - watched);
}

/** Where a descriptor leads; undefined for one closed meanwhile. */
function linkOf(path: string): string | undefined {
  try {
    return Deno.readLinkSync(path);
  } catch {
    return undefined;
  }
}

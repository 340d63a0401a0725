/**
 * Which folders a watch session follows when it cannot follow its sources whole.
 * `Deno.watchFs` on a folder, recursively, fails as a whole when any folder below it cannot
 * be read (inotify needs read permission on each): one root-owned folder in a home folder
 * would leave the whole source unwatched. Then the sources are walked (folders only,
 * symlinks not followed) and covered by recursive watches of the largest subtrees that
 * hold no unreadable folder, plus plain watches of the folders on the way to one; an
 * unreadable folder is not followed (a run cannot read it either, and reports it).
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
}

/** A folder's subfolders (full paths), or the error listing it gave. */
export type ListFolders = (dir: string) => string[] | Error;

export function planCoverage(roots: string[], listFolders: ListFolders = subfolders): Coverage {
  const plan: Coverage = { recursive: [], flat: [], unreadable: [] };
  for (const root of roots) if (cover(root, listFolders, plan)) plan.recursive.push(root);
  return plan;
}

/** True when nothing below `dir` is unreadable (its caller follows it whole). */
function cover(dir: string, listFolders: ListFolders, plan: Coverage): boolean {
  const children = listFolders(dir);
  if (children instanceof Error) {
    plan.unreadable.push({ path: dir, error: children.message });
    return false;
  }
  const whole = children.filter((child) => cover(child, listFolders, plan));
  if (whole.length === children.length) return true;
  plan.flat.push(dir);
  plan.recursive.push(...whole);
  return false;
}

/** Subfolders as the disk lists them (symlinks to folders are not followed). */
function subfolders(dir: string): string[] | Error {
  try {
    return [...Deno.readDirSync(dir)].filter((e) => e.isDirectory).map((e) => join(dir, e.name));
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
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

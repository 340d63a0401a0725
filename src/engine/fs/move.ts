/**
 * Moving a file to a new name without ever replacing anything there, so that a step run
 * twice (by crash recovery) or interrupted between any two calls leaves every content
 * under at least one name. The fast path is link(2) then unlink: link refuses an existing
 * target atomically, so no check-then-rename window exists, and a kill between the two
 * leaves both names on one inode, which a second run recognises and finishes. Where hard
 * links are not available, both ends are checked, then the file renamed.
 *
 * Two kinds of move: `moveOnce` for a stored copy (archived, deleted, moved aside), which
 * is done or not begun, and `placeStaged` for a staged copy of the tool's own, which is in
 * place as soon as it is linked there.
 */
import { dirname } from "node:path";
import { errorText } from "../errors.ts";
import { faultPoint } from "../fault.ts";
import { exists, lstatOrNone, makeFolders } from "./fsops.ts";
import { sameFile } from "./identity.ts";
import { isTransient, renameWithRetry, withRetry } from "./portability.ts";

/** What linking `from` to `to` found: both names on one file now, or what stood in the way. */
type Linked = "linked" | "moved already" | "neither" | "no hard links";

function linkOnce(from: string, to: string): Linked {
  for (let attempt = 0;; attempt++) {
    try {
      Deno.linkSync(from, to);
      return "linked";
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) {
        if (sameFile(from, to)) return "linked"; // a kill came between link and unlink
        throw new Error(`Cannot move '${from}' to '${to}': the target already exists`);
      }
      if (e instanceof Deno.errors.NotFound && attempt === 0) {
        if (!lstatOrNone(from)) return lstatOrNone(to) ? "moved already" : "neither";
        makeFolders(dirname(to));
        continue;
      }
      return "no hard links";
    }
  }
}

/**
 * Moves a stored copy from `from` to `to` unless that already happened; returns false when
 * neither end exists (the step cannot be done). The move is done or not begun: a removal of
 * the old name refused for a moment (Windows, while an indexer has the file open) is
 * retried, and one that keeps failing undoes the link, as the caller's rollback and the
 * next run's plan expect `to` free again.
 */
export async function moveOnce(from: string, to: string): Promise<boolean> {
  const linked = linkOnce(from, to);
  if (linked === "no hard links") return await moveByRename(from, to);
  if (linked !== "linked") return linked === "moved already";
  faultPoint("linked");
  try {
    await removeMoved(from);
  } catch (e) {
    throw new Error(`Cannot move '${from}' to '${to}': ${undoLink(from, to, e)}`);
  }
  return true;
}

/**
 * Places a staged copy (a temporary file of the tool's own) at `to`; returns false when it
 * is gone and nothing is at `to`. Once linked there the copy is in place, whatever becomes
 * of its temporary name: one that cannot be removed is left for the next session's
 * cleanup of the staging folder.
 */
export async function placeStaged(tmp: string, to: string): Promise<boolean> {
  const linked = linkOnce(tmp, to);
  if (linked === "no hard links") return await moveByRename(tmp, to);
  if (linked !== "linked") return linked === "moved already";
  faultPoint("linked");
  try {
    Deno.removeSync(tmp);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) leftBehind.add(tmp);
  }
  return true;
}

/**
 * Names `placeStaged` could not remove (on Windows, mostly a scanner that opened the new
 * file for a moment): each is another name of a placed copy, which would keep its space
 * taken after the copy is pruned. Tried again once a batch is committed, and in any case
 * removed by the next session's cleanup of the staging folder.
 */
const leftBehind = new Set<string>();

/** Tries again to remove the names `placeStaged` left behind. */
export function removeLeftBehind(): void {
  for (const name of leftBehind) {
    try {
      Deno.removeSync(name);
      leftBehind.delete(name);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) leftBehind.delete(name);
    }
  }
}

/** Removes the name a move left behind (retried like a rename); one already gone is fine. */
function removeMoved(path: string): Promise<void> {
  return withRetry(() => {
    try {
      Deno.removeSync(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  });
}

/**
 * Takes the new name off again after the old one could not be removed; says what is left.
 * Where that fails too (on Windows a file held open cannot lose any of its names), both
 * names stay on the one file: nothing is lost, and the next run's move of the copy
 * finishes on the new name (see below).
 */
function undoLink(from: string, to: string, e: unknown): string {
  const why = `the old name cannot be removed: ${errorText(e)}`;
  const held = Deno.build.os === "windows" && isTransient(e);
  const remedy = held ? ": close the program that holds it open, then run again" : "";
  let undone = true;
  try {
    if (sameFile(from, to)) Deno.removeSync(to);
  } catch {
    undone = false;
  }
  // Left at both names, the next run's move of the copy finishes on the new one (the
  // planner takes a name that is certainly the copy's own as free: PlanView.otherNameOf).
  return undone ? `${why}${remedy}` : `${why}; it is now at both names${remedy}`;
}

/** The fallback for filesystems without hard links: check both ends, then rename. */
async function moveByRename(from: string, to: string): Promise<boolean> {
  const src = exists(from);
  const dst = exists(to);
  if (!src) return dst;
  if (dst) throw new Error(`Cannot move '${from}' to '${to}': the target already exists`);
  makeFolders(dirname(to));
  await renameWithRetry(from, to);
  return true;
}

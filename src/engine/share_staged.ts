/**
 * Which stored copy each staged copy of a batch shares its disk blocks with
 * (share_extents.ts does the sharing), done by the batch before its flush (batch.ts): the
 * blocks shared need not stay written twice. A duplicate shares its original's copy, which
 * may be staged in the same batch; a new or changed file the first of the state's stored
 * copies of its content that is still where the state says, or where a batch applied since
 * the last commit moved it. A stored copy found to hold other bytes than its digest says is
 * marked on the action (`storedDiffers`: the batch warns, naming it). It only reads stored
 * copies and remaps staged ones, so an interruption leaves each staged copy whole or
 * sharing blocks that hold its bytes, both correct.
 */
import { nativePath } from "./fs/fsops.ts";
import { shareExtents } from "./fs/share_extents.ts";
import type { Action } from "../core/types.ts";

/** A staged copy to share a stored copy's blocks with (`Batch.add`'s `shareWith`). */
export interface Share {
  action: Action;
  /** A duplicate's: its original's storage path; a new or changed file's: the state's copies. */
  from: string | string[];
}

/**
 * Shares staged copies' blocks with their stored contents' (`shares`, of the batch's
 * `effectful` actions), before the flush. `moved`: the actions applied since the last
 * commit, whose moves the state does not say yet. A duplicate's original placed in this
 * batch is still at its staged name; a stored copy that a new content of its path replaces
 * in this batch (the original changed after the duplicate was planned: its archive comes
 * with the batch's steps) is still in its place, the staged copy at its name holding other
 * bytes. A new or changed file's stored copies are the state's, tried in order: one a batch
 * applied since the last commit archived is looked for where it went, one it replaced is
 * passed over (the state does not say so yet); one this batch archives is still at its
 * place (the moves come after), and keeps its inode where it goes. A stored copy found to
 * hold other bytes is named in a warning (`storedCopyWarning`); the new copy stays whole.
 */
export function shareStaged(
  root: string,
  effectful: Action[],
  shares: Share[],
  moved: Action[],
): void {
  const staged = new Map<string, { tmp: string; digest: string }>();
  for (const a of effectful) {
    if ("content" in a && a.content.tmp) {
      staged.set(a.target, { tmp: a.content.tmp, digest: digestOf(a.content) });
    }
  }
  const at = (p: string) => nativePath(root, p);
  let places: Places | undefined;
  for (const { action: a, from } of shares) {
    if (!("content" in a) || !a.content.tmp) continue;
    if (a.type === "duplicate" && typeof from === "string") {
      const placing = staged.get(from);
      const stagedFrom = placing?.digest === digestOf(a.content) ? placing.tmp : undefined;
      const outcome = shareExtents(
        at(a.content.tmp),
        at(stagedFrom ?? from),
        a.content.entry.size,
      );
      if (outcome === "differs" && stagedFrom === undefined) a.storedDiffers = from;
      continue;
    }
    if ((a.type !== "backup" && a.type !== "modified") || typeof from === "string") continue;
    places ??= placesOf(moved);
    for (const recorded of from) {
      const copy = places.movedTo.get(recorded) ?? recorded;
      if (copy === recorded && places.placed.has(copy)) continue;
      const outcome = shareExtents(at(a.content.tmp), at(copy), a.content.entry.size);
      if (outcome === "differs") a.storedDiffers = copy;
      if (outcome !== "whole") break;
    }
  }
}

/** Where actions applied but not yet committed moved stored copies to, and placed new ones. */
interface Places {
  movedTo: Map<string, string>;
  placed: Set<string>;
}

/**
 * What the batches applied since the last commit did that the state does not say yet: the
 * copies they archived (a deleted file's to `_deleted/`, a changed file's to `versions/`:
 * still the same file, at its new place) and the places they put new copies at.
 */
function placesOf(actions: Action[]): Places {
  const movedTo = new Map<string, string>();
  const placed = new Set<string>();
  for (const a of actions) {
    if (a.type === "delete" && !a.lost && !a.blocked) movedTo.set(a.from, a.to);
    if (a.type === "promote") movedTo.set(a.from, a.to);
    if ("archive" in a && a.archive && !a.archive.lost && !a.archive.blocked) {
      movedTo.set(a.archive.from, a.archive.to);
    }
    if ("target" in a && typeof a.target === "string") placed.add(a.target);
  }
  return { movedTo, placed };
}

/** A content's digest with its algorithm, to tell two staged contents apart. */
function digestOf(content: { hash: string; algo: string }): string {
  return `${content.algo}:${content.hash}`;
}

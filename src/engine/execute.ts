/**
 * The executor: the code that writes into the backup root's browsable tree (with
 * `verify --repair`, which puts damaged copies back, restore/repair.ts). Each
 * action is a short sequence of idempotent steps (see fsops.ts) in an order that keeps
 * every content reachable at every moment: the old copy is archived before the new one is
 * renamed into its place. The same `finishAction` runs normally and during recovery after
 * a crash, so a half-done action is completed, or, when it cannot be, rolled back. A copy
 * found missing from the backup root where it was to be archived is marked `lost` on its
 * action, for the commit to record, instead of failing the action; an unchanged file whose
 * copy is missing is copied again (refresh_copy.ts).
 */
import {
  exists,
  isStoredCopy,
  nativePath,
  removeEmptyParents,
  removeQuietly,
  storedEntry,
} from "./fs/fsops.ts";
import { sameFile } from "./fs/identity.ts";
import { placedUnderOtherSpelling } from "./placed_alias.ts";
import { movedTooLong, placeFailure, withRetry } from "./fs/portability.ts";
import { moveOnce, placeStaged } from "./fs/move.ts";
import { hashCopy, READ_BUFFER_BYTES } from "./stage.ts";
import { removeCopy } from "./copy_in_place.ts";
import { refreshStoredCopy } from "./refresh_copy.ts";
import { parentOf, STATE_DIR } from "../core/layout.ts";
import { loadDigests } from "./digest.ts";
import { faultPoint } from "./fault.ts";
import { errorText } from "./errors.ts";
import type { Action, NewContent } from "../core/types.ts";
import { holdsOtherContent, standingAt } from "./copy_check.ts";
import { commandHint } from "../config/selection.ts";

interface ActionFailure {
  action: Action;
  message: string;
}

/** What an action's steps work with: the backup root and how a batch reaches its copies. */
interface Steps {
  root: string;
  recovering: boolean;
  /** Folders seen to be real so far in this batch (see `storedEntry`). */
  real: Set<string>;
  /** Recovering: whether a name now leads to a copy placed under another spelling. */
  placedAlias?: (storage: string) => boolean;
  at(storage: string): string;
  entryAt(storage: string): ReturnType<typeof storedEntry>;
  /** Moves a stored copy (see `moveStoredCopy`); false when it is lost. */
  moveCopy(from: string, to: string, seen?: (copy: Deno.FileInfo) => void): Promise<boolean>;
}

/**
 * Performs (or completes) one action's file steps. Throws when it cannot be done, after
 * undoing what it did, so the state can simply leave that action out.
 */
export async function finishAction(
  root: string,
  a: Action,
  recovering = false,
  /** Folders seen to be real so far in this batch (see `storedEntry`). */
  real = new Set<string>(),
  /** Recovering: whether a name now leads to a copy placed under another spelling. */
  placedAlias?: (storage: string) => boolean,
  /**
   * A deletion: whether to remove the folders its move left empty now; false where a later
   * deletion of the batch moves a copy out of the same folder, and will.
   */
  tidy = true,
): Promise<void> {
  const entryAt = (p: string) => storedEntry(root, p, real);
  const steps: Steps = {
    root,
    recovering,
    real,
    placedAlias,
    at: (p) => nativePath(root, p),
    entryAt,
    moveCopy: (from, to, seen) => moveStoredCopy(root, entryAt, from, to, placedAlias, seen),
  };
  switch (a.type) {
    case "backup":
    case "duplicate":
    case "modified":
      return await placeNewCopy(steps, a);
    case "delete":
      return await moveToDeleted(steps, a, tidy);
    case "promote":
      return await promoteCopy(steps, a);
    case "prune":
      return await pruneCopy(steps, a);
    case "skip":
      if (a.refresh) await refreshStoredCopy(root, a.refresh, real);
      return;
    case "exclude":
      markExcludedMissing(root, a, real);
      return;
  }
}

/**
 * A new content's copy: the old copy archived first (a file changed), then the staged copy
 * renamed into its place, so that each content stays reachable; the archive put back when
 * the new copy cannot be placed.
 */
async function placeNewCopy(
  s: Steps,
  a: Extract<Action, { type: "backup" | "duplicate" | "modified" }>,
): Promise<void> {
  if (!a.content.tmp) throw new Error(`Cannot place '${a.path}': no staged copy`);
  const tmp = s.at(a.content.tmp);
  const archive = a.type === "backup" ? undefined : a.archive;
  const oldAtTarget = archive?.from === a.target;
  if (s.recovering && await placedAlready(s.entryAt, tmp, s.at(a.target), a, oldAtTarget)) {
    if (archive && !isStoredCopy(s.entryAt(archive.to))) archive.lost = true;
    if (archive && !oldAtTarget) removeEmptyParents(s.root, archive.from, s.real);
    return;
  }
  // A copy missing from the backup root (removed by hand, a disk fault, or replaced by
  // something else) cannot be archived; the new content is placed all the same, and the
  // old one recorded as lost, rather than the file failing on every run from now on.
  // Something else standing there (planned as blocked) is never moved.
  if (archive && (archive.blocked || !(await s.moveCopy(archive.from, archive.to)))) {
    archive.lost = true;
    removeEmptyParents(s.root, archive.to, s.real); // made for it before the batch's flush
  }
  if (archive) faultPoint("archived");
  try {
    if (!(await placeStaged(tmp, s.at(a.target)))) {
      throw new Error(`the staged copy '${tmp}' is missing`);
    }
  } catch (e) {
    const undo = archive && !archive.lost ? await putBack(s.root, archive, s.real) : "";
    delete archive?.lost;
    throw new Error(`Cannot place '${a.target}': ${placeFailure(a.target, e)}${undo}`);
  }
  faultPoint("placed");
  // The old copy's folder, left empty when the new copy went elsewhere (a file changed
  // into a duplicate): it would otherwise stand in the way of a file of its name.
  if (archive && !oldAtTarget) removeEmptyParents(s.root, archive.from, s.real);
}

/**
 * A deleted file's copy moved to `_deleted/`. A copy already missing from the backup root
 * is recorded as lost: the path is gone from the source either way, and failing here would
 * fail it on every run. One that holds other bytes than recorded is moved all the same, and
 * said.
 */
async function moveToDeleted(
  s: Steps,
  a: Extract<Action, { type: "delete" }>,
  tidy: boolean,
): Promise<void> {
  let moved: Deno.FileInfo | undefined;
  if (a.blocked || !(await s.moveCopy(a.from, a.to, (copy) => moved = copy))) {
    a.lost = true;
    removeEmptyParents(s.root, a.to, s.real);
  } else if (a.recorded && moved && await holdsOtherContent(s.at(a.to), moved, a.recorded)) {
    a.damaged = true;
  }
  faultPoint("deleted");
  if (tidy) removeEmptyParents(s.root, a.from, s.real);
}

/**
 * A duplicate's copy moved from `_duplicates/` to its own path. Something put in the
 * copy's place by hand is never moved: it is named instead. Moved as any stored copy: done
 * or not begun, finished by recovery after a crash; one that holds other bytes than
 * recorded is moved all the same, and said.
 */
async function promoteCopy(s: Steps, a: Extract<Action, { type: "promote" }>): Promise<void> {
  const there = s.entryAt(a.from);
  if (there !== undefined && !isStoredCopy(there) && !isStoredCopy(s.entryAt(a.to))) {
    throw new Error(
      `Cannot promote '${a.path}' to its own path: something else is in its copy's place ` +
        `'${a.from}' (a folder, or a symlink on the way): move it out of the backup root, ` +
        "then run again",
    );
  }
  let moved: Deno.FileInfo | undefined;
  if (!(await s.moveCopy(a.from, a.to, (copy) => moved = copy))) {
    removeEmptyParents(s.root, a.to, s.real); // made for it before the batch's flush
    throw new Error(
      `Cannot promote '${a.path}' to its own path: its copy '${a.from}' is missing from ` +
        `the backup root: run '${commandHint("verify --repair")}', then run again`,
    );
  }
  if (a.recorded && moved && await holdsOtherContent(s.at(a.to), moved, a.recorded)) {
    a.damaged = true;
  }
  faultPoint("promoted");
  removeEmptyParents(s.root, a.from, s.real);
}

/**
 * A version retention let go, or a copy `purge` deletes. Only a stored copy reached safely
 * is removed: never anything through a symlink someone put in the backup root, nor a
 * folder put in the copy's place, nor an entry of the other kind (a symlink where a file's
 * copy was, a file where a symlink's was: not ours, left as absent), nor one that holds
 * other bytes, or a symlink another target, than recorded (copies renamed by hand over one
 * another: it may be another content's only copy, which `verify --repair` then finds
 * there). A removal refused for a moment (Windows, while an indexer or a virus scanner has
 * the old version open) is retried, as moves are. Nothing at all at its place: marked
 * `missing` (removed by hand, a disk fault), which `purge` says apart, its record purged all
 * the same.
 */
async function pruneCopy(s: Steps, a: Extract<Action, { type: "prune" }>): Promise<void> {
  const there = s.entryAt(a.storedAt);
  const found = isStoredCopy(there) ? await standingAt(s.at(a.storedAt), there, a) : "none";
  if (found === "foreign") a.absent = true;
  else if (found === "other") a.absent = a.damaged = true;
  else if (found === "copy") await withRetry(() => removeCopy(s.root, a.storedAt));
  // Gone when recovering: the interrupted run deleted it before it was killed (logged as a
  // deletion: that run's own line was lost with it).
  else if (!s.recovering) {
    a.absent = true;
    if (there === undefined) a.missing = true;
  }
  faultPoint("pruned");
  removeEmptyParents(s.root, a.storedAt, s.real);
}

/**
 * Marks a newly excluded file whose copy is not in its place (`missing`). Looked at once,
 * now: from here on no run copies the file again, so a copy already gone (removed by hand,
 * a disk fault) would be noticed by `verify` alone. A plan looks too (it only reads), and
 * so says what the run will.
 */
export function markExcludedMissing(
  root: string,
  a: Extract<Action, { type: "exclude" }>,
  real = new Set<string>(),
): void {
  if (seenMissing(() => isStoredCopy(storedEntry(root, a.storedAt, real)))) a.missing = true;
}

/**
 * Whether a look at a copy's place found no copy there: nothing, or something else (a
 * folder, or a folder on the way swapped for a symlink: `storedEntry`'s "unsafe"). A look
 * that fails (a folder this user may not enter) tells nothing, and must not fail an action
 * that moves nothing.
 */
function seenMissing(isCopy: () => boolean): boolean {
  try {
    return !isCopy();
  } catch {
    return false;
  }
}

/**
 * Puts an archived copy back where it was, after the new copy could not be placed: what a
 * failed step must leave is the state before it. Returns what to add to the step's error
 * when that failed too (the old copy then stays at its archive name, unrecorded there).
 */
async function putBack(
  root: string,
  archive: { from: string; to: string },
  real: Set<string>,
): Promise<string> {
  try {
    // Back the way a staged copy is placed: at its recorded name once linked there, the
    // archive name then removed if it can be (a name left over is the copy's own, which
    // the next run's archiving finishes on), never undone as a stored copy's move is.
    await placeStaged(nativePath(root, archive.to), nativePath(root, archive.from));
    removeEmptyParents(root, archive.to, real); // made for it before the batch's flush
    return "";
  } catch (e) {
    return `; the old copy could not be put back from '${archive.to}': ${errorText(e)}`;
  }
}

/**
 * Moves the stored copy at `from` (a file or a symlink, reached without following a
 * symlink) to `to`; false when no such copy is there: it is lost. Run again after a crash,
 * a copy already at `to` with none left at `from` counts as moved.
 */
async function moveStoredCopy(
  root: string,
  entryAt: (storage: string) => ReturnType<typeof storedEntry>,
  from: string,
  to: string,
  placedAlias?: (storage: string) => boolean,
  /** Told the copy as it was found, when it is moved now (not when moved already). */
  seen?: (copy: Deno.FileInfo) => void,
): Promise<boolean> {
  const entry = entryAt(from);
  // Recovering on a disk that ignores case: `from` may lead to a copy this batch placed
  // under another spelling, the old one moved already (see placed_alias.ts).
  if (placedAlias?.(from) && isStoredCopy(entryAt(to))) return true;
  // Nothing to move (or something that is no copy of ours): done already if the copy is at
  // `to`. After a crash, `from` may even sit below a file placed since (a folder replaced
  // by a file of its name).
  if (!isStoredCopy(entry)) {
    if (isStoredCopy(entryAt(to))) return true;
    // Lost, a lasting verdict: only when the backup root itself is still there (not a disk
    // gone from under its mount point, or a network share failing for a moment).
    if (!exists(nativePath(root, STATE_DIR))) {
      throw new Error(`Cannot reach the backup root '${root}': its state folder is gone`);
    }
    return false;
  }
  seen?.(entry);
  try {
    return await moveOnce(nativePath(root, from), nativePath(root, to));
  } catch (e) {
    removeEmptyParents(root, to); // made for it before the batch's flush; nothing moved
    const tooLong = movedTooLong(to, e);
    if (tooLong) throw new Error(`Cannot move '${from}' to '${to}': ${tooLong}`);
    throw e;
  }
}

/**
 * Whether an interrupted run already placed this copy: both names are links of one inode
 * (the crash fell between link and unlink: the staged name is removed now), or the staged
 * file is gone and the target holds the new content. The content is checked by its digest,
 * not assumed: the target of a modified file is its old copy's own path, which exists
 * before anything is done. Recovery is rare, so reading the file once is cheap enough.
 */
async function placedAlready(
  entryAt: (storage: string) => ReturnType<typeof storedEntry>,
  tmp: string,
  target: string,
  a: { target: string; content: NewContent },
  oldAtTarget: boolean,
): Promise<boolean> {
  const info = entryAt(a.target);
  if (!isStoredCopy(info)) return false;
  if (exists(tmp)) {
    if (!sameFile(tmp, target)) return false;
    removeQuietly(tmp); // in place already; a name that stays is the next cleanup's
    return true;
  }
  // Where nothing was before (a new path), what is there now was placed by this action.
  if (!oldAtTarget) return true;
  await loadDigests();
  const kind = info.isSymlink ? "symlink" : "file";
  const buf = new Uint8Array(READ_BUFFER_BYTES);
  return hashCopy(target, kind, a.content.algo, buf) === a.content.hash;
}

/** Runs actions in order; returns those done and those that failed (and were undone). */
export async function executeActions(
  root: string,
  actions: Action[],
  recovering = false,
): Promise<{ done: Action[]; failed: ActionFailure[] }> {
  const done: Action[] = [];
  const failed: ActionFailure[] = [];
  const real = new Set<string>();
  const placedAlias = recovering ? placedUnderOtherSpelling(root, actions) : undefined;
  const tidying = lastDeletionsFrom(actions);
  for (const a of actions) {
    try {
      await finishAction(
        root,
        a,
        recovering,
        real,
        placedAlias,
        a.type !== "delete" || tidying.has(a),
      );
      done.push(a);
    } catch (e) {
      failed.push({ action: a, message: errorText(e) });
    }
  }
  return { done, failed };
}

/**
 * The deletions that are the batch's last to move a copy out of their folder: only they
 * try to remove the folders left empty. Each removal tried earlier failed (the folder
 * still held the copies deleted after it) and cost an exception: 100,000 deletions spent
 * 3 s on them. A deletion that fails leaves its copy, and so its folder, in place.
 */
function lastDeletionsFrom(actions: Action[]): Set<Action> {
  const last = new Map<string, Action>();
  for (const a of actions) {
    if (a.type === "delete") last.set(parentOf(a.from), a);
  }
  return new Set(last.values());
}

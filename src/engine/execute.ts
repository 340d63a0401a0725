/**
 * The executor: the only code that writes into the backup root's browsable tree. Each
 * action is a short sequence of idempotent steps (see fsops.ts) in an order that keeps
 * every content reachable at every moment: the old copy is archived before the new one is
 * renamed into its place. The same `finishAction` runs normally and during recovery after
 * a crash, so a half-done action is completed, or, when it cannot be, rolled back.
 */
import { exists, moveOnce, nativePath, removeEmptyParents, sameFile } from "./fsops.ts";
import { applyMeta } from "./stage.ts";
import { faultPoint } from "./fault.ts";
import { errorText } from "./errors.ts";
import type { Action } from "./types.ts";

export interface ActionFailure {
  action: Action;
  message: string;
}

/**
 * Performs (or completes) one action's file steps. Throws when it cannot be done, after
 * undoing what it did, so the state can simply leave that action out.
 */
export async function finishAction(root: string, a: Action, recovering = false): Promise<void> {
  const at = (p: string) => nativePath(root, p);
  switch (a.type) {
    case "backup":
    case "duplicate":
    case "modified": {
      if (!a.content.tmp) throw new Error(`Cannot place '${a.path}': no staged copy`);
      const tmp = at(a.content.tmp);
      const archive = a.type === "backup" ? undefined : a.archive;
      // Placed already? Only if the old copy was archived too: the target of a modified
      // file is its old copy's own path, which exists before anything was done.
      const archived = !archive || exists(at(archive.to));
      if (recovering && archived && placedAlready(tmp, at(a.target))) return;
      if (archive && !(await moveOnce(at(archive.from), at(archive.to)))) {
        throw new Error(`Cannot archive '${archive.from}': the stored copy is missing`);
      }
      if (archive) faultPoint("archived");
      try {
        if (!(await moveOnce(tmp, at(a.target)))) {
          throw new Error(`the staged copy '${tmp}' is missing`);
        }
      } catch (e) {
        if (archive) await moveOnce(at(archive.to), at(archive.from));
        throw new Error(`Cannot place '${a.target}': ${errorText(e)}`);
      }
      faultPoint("placed");
      return;
    }
    case "delete":
      if (!(await moveOnce(at(a.from), at(a.to)))) {
        throw new Error(`Cannot archive deleted '${a.from}': the stored copy is missing`);
      }
      faultPoint("deleted");
      removeEmptyParents(root, a.from);
      return;
    case "prune":
      if (exists(at(a.storedAt))) Deno.removeSync(at(a.storedAt));
      faultPoint("pruned");
      removeEmptyParents(root, a.storedAt);
      return;
    case "skip":
      if (a.refresh && a.refresh.entry.kind === "file") {
        applyMeta(at(a.refresh.storedAt), a.refresh.entry);
      }
      return;
    case "exclude":
      return;
  }
}

/**
 * Whether an interrupted run already placed this copy: the staged file is gone and the
 * target exists, or both names are links of one inode (the crash fell between link and
 * unlink), in which case the staged name is removed now.
 */
function placedAlready(tmp: string, target: string): boolean {
  if (!exists(tmp)) return exists(target);
  if (!sameFile(tmp, target)) return false;
  Deno.removeSync(tmp);
  return true;
}

/** Runs actions in order; returns those done and those that failed (and were undone). */
export async function executeActions(
  root: string,
  actions: Action[],
  recovering = false,
): Promise<{ done: Action[]; failed: ActionFailure[] }> {
  const done: Action[] = [];
  const failed: ActionFailure[] = [];
  for (const a of actions) {
    try {
      await finishAction(root, a, recovering);
      done.push(a);
    } catch (e) {
      failed.push({ action: a, message: errorText(e) });
    }
  }
  return { done, failed };
}

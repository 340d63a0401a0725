/**
 * Crash recovery, run under the lock at the start of every session. A journaled batch
 * (an intent) whose commit never happened is replayed: each action's idempotent steps are
 * finished (or, when impossible, undone) and the actions that completed are logged as the
 * interrupted run would have logged them (its log lost the lines it had not flushed yet),
 * then committed, as that run would have: each intent's lines are written before its
 * commit, so a recovery killed between the two leaves them for the next one to log again.
 * Then the temporary folder is emptied: what is left there was staged but never journaled,
 * so the next pass simply reads those files again.
 */
import { basename, join } from "node:path";
import type { RunLog } from "../log/runlog.ts";
import type { StateStore } from "../state/store.ts";
import { executeActions } from "./execute.ts";
import { formatAction, storedCopyWarning } from "../core/describe.ts";
import { errorText, PreflightError } from "./errors.ts";
import { flushMoves } from "./move_flush.ts";
import { lstatOrNone } from "./fs/fsops.ts";
import type { SyncFs } from "./fs/syncfs.ts";
import type { Action } from "../core/types.ts";
import { recordedContent } from "../core/plan.ts";
import { faultPoint } from "./fault.ts";
import { commandHint } from "../config/selection.ts";

/** Finishes the interrupted batches; returns a warning per stored copy found missing. */
export async function recoverInterrupted(
  root: string,
  tmpDir: string,
  store: StateStore,
  log: RunLog,
  /** Whether the state folder is still the one locked (not swapped for a symlink since). */
  stillOurs: () => boolean,
  syncFs?: SyncFs,
): Promise<{ path: string; message: string }[]> {
  const warnings: { path: string; message: string }[] = [];
  for (const intent of store.pendingIntents()) {
    const { done, failed } = await executeActions(root, withRecorded(store, intent.actions), true);
    log.line(
      `RECOVER: completed ${done.length} action(s) of interrupted run ${intent.runId}` +
        (failed.length ? `, undid ${failed.length}` : "") + (done.length ? ":" : ""),
    );
    // Each one as that run would have logged it: its own log lost the lines still buffered
    // when it was killed, and every copy moved or deleted is named in some log.
    for (const a of done) {
      for (const line of formatAction(a, basename(root))) log.line(line);
    }
    for (const f of failed) log.line(`RECOVER undone: ${f.action.path}: ${f.message}`);
    for (const a of done) {
      const lost = storedCopyWarning(a, commandHint);
      if (lost) {
        log.line(`WARNING: ${a.path}: ${lost}`);
        warnings.push({ path: a.path, message: lost });
      }
    }
    // Its moves made durable, then logged, before the commit drops the intent, as a run's
    // batches are (see batch.ts): a recovery killed, or whose log cannot be written, leaves
    // it for the next one.
    await flushMoves(root, intent.actions, { syncFs, done: false });
    log.sync();
    faultPoint("logged");
    // trustBefore 0: fingerprints recorded during recovery are re-checked by the next pass.
    store.commitBatch(
      done,
      { runId: intent.runId, time: intent.createdAt, trustBefore: 0 },
      [intent.id],
    );
  }
  const removed = emptyTmpDir(tmpDir, log, stillOurs);
  if (removed > 0) log.line(`CLEANUP: removed ${removed} temporary file(s) of an interrupted run`);
  return warnings;
}

/**
 * The journaled actions, a prune given the content its copy holds as recorded where the
 * journal does not say it (written by a version before 2026-12-05), from the state, which
 * the interrupted batch did not change: recovery then never deletes a copy that holds other
 * bytes (versions renamed by hand over one another), as the run would not have
 * (execute.ts `pruneCopy`).
 */
function withRecorded(store: StateStore, actions: Action[]): Action[] {
  for (const a of actions) {
    if (a.type !== "prune" || a.recorded !== undefined) continue;
    const c = store.copiesOf(a.path).find((c) => c.id === a.copyId);
    if (c?.kind !== "file" || c.location !== "version" || c.storedAt !== a.storedAt) continue;
    a.recorded = recordedContent(c);
  }
  return actions;
}

/**
 * Removes what the temporary folder holds; returns how many it removed. One that cannot be
 * removed (on Windows, while another program holds it open) is logged and left for the
 * next session: every run stages under names of its own, so it is in nobody's way.
 */
function emptyTmpDir(tmpDir: string, log: RunLog, stillOurs: () => boolean): number {
  let removed = 0;
  // Never a folder elsewhere, reached through a symlink put in the place of it or of the
  // state folder (state_folder.ts refuses one at the start; this closes the moment between).
  if (!lstatOrNone(tmpDir)?.isDirectory || !stillOurs()) {
    throw new PreflightError(
      `Cannot empty the temporary folder '${tmpDir}': it, the state folder holding it or ` +
        "the lock file was replaced since the run locked it (by a symlink, or by another " +
        "program): nothing in it was removed; check the backup root, then run again",
    );
  }
  for (const e of Deno.readDirSync(tmpDir)) {
    const path = join(tmpDir, e.name);
    try {
      Deno.removeSync(path, { recursive: true });
      removed++;
    } catch (err) {
      log.line(`CLEANUP: cannot remove '${path}': ${errorText(err)} (left for next time)`);
    }
  }
  return removed;
}

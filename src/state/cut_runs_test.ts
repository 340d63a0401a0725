/**
 * Which runs the latest state holds unfinished work of (`cutRuns`): a run that did not
 * finish (killed, stopped by a signal, failed) after one of its commits, since the last run
 * that finished. Real SQLite databases in temporary folders, sessions recorded as the
 * engine records them: begun, committed batch by batch, finished with a status.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { StateStore } from "./store.ts";
import { backupAction, withStore } from "./test_util.ts";
import type { Action } from "../core/types.ts";

const SOURCES = [{ name: "src", path: "/data/src" }];
let clock = 1_000;

/** One session: begun, `commits` batches committed, then ended with `status` (or killed). */
function session(
  store: StateStore,
  command: string,
  commits: number,
  status?: string,
): { id: number; startedAt: number } {
  const startedAt = ++clock;
  const { runId } = store.beginRun(command, SOURCES, startedAt);
  for (let i = 0; i < commits; i++) {
    const action: Action = { type: "exclude", path: `src/f${runId}-${i}`, storedAt: "x" };
    store.commitBatch([action], { runId, time: ++clock, trustBefore: 0 });
  }
  if (status !== undefined) store.finishRun(runId, status, {}, ++clock);
  return { id: runId, startedAt };
}

/** A session that committed `actions` in one batch, then ended with `status` (or was killed). */
function sessionOf(store: StateStore, actions: Action[], status?: string): number {
  const { runId } = store.beginRun("run", SOURCES, ++clock);
  store.commitBatch(actions, { runId, time: ++clock, trustBefore: 0 });
  if (status !== undefined) store.finishRun(runId, status, {}, ++clock);
  return runId;
}

/** The deletion of a's copy (archived to `_deleted/`). */
const deleteA = (store: StateStore): Action => {
  const copyId = store.copiesOf("src/a")[0].id;
  return { type: "delete", path: "src/a", copyId, from: "a", to: "_deleted/a" };
};

Deno.test("cutRuns: none after runs that finished, or were cut before any commit", () =>
  withStore((store) => {
    session(store, "run", 2, "ok");
    assert.equal(store.cutRuns(), undefined);
    session(store, "run", 1, "partial"); // some files failed: it went through everything
    session(store, "run", 0); // killed during its walk: recorded nothing
    session(store, "run", 0, "stopped");
    assert.equal(store.cutRuns(), undefined);
  }));

Deno.test("cutRuns: killed, stopped or failed after a commit, back to the last finished run", () =>
  withStore((store) => {
    session(store, "run", 3, "ok");
    const killed = session(store, "run", 1);
    assert.deepEqual(store.cutRuns(), {
      last: killed,
      earliest: killed,
      count: 1,
      noneFinished: false,
    });
    session(store, "verify", 1, "ok"); // verify --repair finished its journal only
    session(store, "run", 0); // and the next run killed before recording anything
    session(store, "run", 2, "stopped");
    const failed = session(store, "run", 1, "failed");
    assert.deepEqual(store.cutRuns(), {
      last: failed,
      earliest: killed,
      count: 3,
      noneFinished: false,
    });
    session(store, "run", 1, "ok");
    assert.equal(store.cutRuns(), undefined, "a run that finished makes the backup whole");
  }));

Deno.test("cutRuns: a run that failed before its commit is cut short once recovery records its batch", () =>
  withStore((store) => {
    session(store, "run", 1, "ok");
    const failed = session(store, "run", 0, "failed"); // its batch left journaled
    assert.equal(store.cutRuns(), undefined, "nothing of it recorded yet");
    const recovery = { type: "exclude", path: "src/recovered", storedAt: "x" } as const;
    store.commitBatch([recovery], { runId: failed.id, time: ++clock, trustBefore: 0 });
    assert.deepEqual(store.cutRuns()?.last, failed);
  }));

Deno.test("cutRuns: a first backup cut short has nothing whole before it; a watch is whole once a full pass is done", () =>
  withStore((store) => {
    const first = session(store, "run", 1);
    assert.deepEqual(store.cutRuns(), {
      last: first,
      earliest: first,
      count: 1,
      noneFinished: true,
    });
    // A watch stopped in its first pass went through part of the sources too.
    const watch = session(store, "watch", 2, "stopped");
    assert.deepEqual(store.cutRuns(), {
      last: watch,
      earliest: first,
      count: 2,
      noneFinished: true,
    });
    // One whose first full pass was done is whole from then on, even killed later.
    const following = session(store, "watch", 1);
    store.markFollowing(following.id);
    store.commitBatch([{ type: "exclude", path: "src/later", storedAt: "x" }], {
      runId: following.id,
      time: ++clock,
      trustBefore: 0,
    });
    assert.equal(store.cutRuns(), undefined);
    // As of a moment before it began, the cut sessions before it still are.
    assert.equal(store.cutRuns(following.startedAt)?.count, 2);
  }));

Deno.test("cutRuns: a run killed before any commit is not counted for what a later one recorded", () =>
  withStore((store) => {
    sessionOf(store, [backupAction("src/a", "0".repeat(64))], "ok");
    session(store, "run", 0); // killed in its walk: 'running', nothing of its own recorded
    const cut = sessionOf(store, [deleteA(store)]); // archives a's copy, killed
    assert.equal(store.cutRuns()?.count, 1, "only the run that recorded something");
    assert.equal(store.cutRuns()?.last.id, cut);
  }));

Deno.test("cutRuns and recordedRuns: sessions marked running by a version that did not mark commits are told apart by what they recorded", () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-store-" });
  const file = join(dir, "state.db");
  try {
    let store = StateStore.open(file);
    const ok = sessionOf(store, [backupAction("src/a", "0".repeat(64))], "ok");
    // Killed after recording a copy of its own (its id on the copy).
    const copied = sessionOf(store, [backupAction("src/b", "1".repeat(64))]);
    const nothing = session(store, "run", 0).id; // killed before recording anything
    // Killed after archiving a's copy only (a time within its span on the copy).
    const archived = sessionOf(store, [deleteA(store)]);
    const last = session(store, "watch", 0).id; // killed too, nothing recorded
    store.close();
    // As an older version left them: no mark of their commits.
    const db = new DatabaseSync(file);
    db.prepare("UPDATE runs SET status = 'running' WHERE id IN (?, ?)").run(copied, archived);
    db.close();
    store = StateStore.open(file);
    try {
      const cut = new Map(store.recordedRuns().map((r) => [r.id, r.cutShort]));
      assert.deepEqual(
        [ok, copied, nothing, archived, last].map((id) => cut.get(id)),
        [false, true, false, true, false],
      );
      const runs = store.cutRuns();
      assert.equal(runs?.count, 2);
      assert.equal(runs?.earliest.id, copied);
      assert.equal(runs?.last.id, archived);
    } finally {
      store.close();
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

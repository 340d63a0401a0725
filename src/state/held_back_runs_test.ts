/**
 * Which runs and watch sessions still hold deletions back (`heldBackRuns`): those whose
 * summary records some held by the mass-deletion guard, since the last one that went
 * through every source and archived every deletion it met, as of a moment. Real SQLite
 * databases in temporary folders, runs recorded as the engine records them.
 */
import assert from "node:assert/strict";
import type { StateStore } from "./store.ts";
import { withStore } from "./test_util.ts";

const SOURCES = [{ name: "src", path: "/data/src" }];
let clock = 1_000;

/** A session begun and ended with `status` and `summary`; its start time. */
function run(store: StateStore, status: string, summary: unknown, command = "run"): number {
  const startedAt = ++clock;
  const { runId } = store.beginRun(command, SOURCES, startedAt);
  store.finishRun(runId, status, summary, ++clock);
  return startedAt;
}

const ids = (store: StateStore, at?: number) => store.heldBackRuns(at).map((r) => r.id);

Deno.test("heldBackRuns: the runs that held deletions back since the last that archived all", () =>
  withStore((store) => {
    run(store, "ok", { heldBack: 0 });
    const second = run(store, "partial", { heldBack: 3 });
    run(store, "partial", { heldBack: 4 });
    assert.deepEqual(store.heldBackRuns().map((r) => [r.id, r.heldBack]), [[2, 3], [3, 4]]);
    // As of a moment: only runs begun before it.
    assert.deepEqual(ids(store, second), []);
    assert.deepEqual(ids(store, second + 1), [2]);
    // A run stopped or failed, or a watch session of an earlier version (no count), archives
    // nothing for sure: they stand.
    run(store, "stopped", { heldBack: 0 });
    run(store, "ok", {}, "watch");
    assert.deepEqual(ids(store), [2, 3]);
    // One with problems but none held back (a file failed) went through them all: none stand.
    run(store, "partial", { heldBack: 0 });
    assert.deepEqual(ids(store), []);
  }));

Deno.test("heldBackRuns: a run of a version that recorded no count is taken for neither", () =>
  withStore((store) => {
    run(store, "partial", { heldBack: 2 });
    run(store, "partial", { counts: {} }); // before 2026-12-05: a failed file, or the guard
    assert.deepEqual(ids(store), [1]);
    run(store, "ok", { counts: {} }); // it held nothing: it would have finished with problems
    assert.deepEqual(ids(store), []);
  }));

Deno.test("heldBackRuns: a watch session holds deletions back, or ends them, as a run does", () =>
  withStore((store) => {
    run(store, "partial", { heldBack: 3 });
    // A watch session ends 'ok' even where its guard held some: its count says.
    run(store, "ok", { passes: 2, heldBack: 2 }, "watch");
    assert.deepEqual(ids(store), [1, 2]);
    // One whose full passes went through every source holding none: they are archived.
    run(store, "ok", { passes: 1, heldBack: 0 }, "watch");
    assert.deepEqual(ids(store), []);
    // A session of a version that recorded no count, or stopped in its first pass: neither.
    run(store, "partial", { heldBack: 1 });
    run(store, "ok", { passes: 1 }, "watch");
    run(store, "stopped", { passes: 1, heldBack: 0 }, "watch");
    assert.deepEqual(ids(store), [4]);
  }));

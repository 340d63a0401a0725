/**
 * Which run a `run` compares the sources it finds left out of its config with
 * (`lastLeftSources`): the last one of the same config file. Real SQLite states in
 * temporary folders, runs recorded as the engine records them.
 */
import assert from "node:assert/strict";
import type { StateStore } from "./store.ts";
import { withStore } from "./test_util.ts";

const SOURCES = [{ name: "alpha", path: "/data/alpha" }];
let clock = 1_000;

/** A run of `config` (none: a version before 2026-12-05) that found `left` left out. */
function run(store: StateStore, left: string[], config?: string): number {
  const { runId } = store.beginRun("run", SOURCES, ++clock);
  store.finishRun(runId, "ok", { left, ...config === undefined ? {} : { config } }, ++clock);
  return runId;
}

Deno.test("lastLeftSources: the last run of the same config file, however many of another's ran since", () => {
  withStore((store) => {
    run(store, ["beta"], "/etc/a.jsonc");
    // A job of another config sharing the backup root, run far more often (every few
    // minutes, beside a daily one).
    for (let i = 0; i < 150; i++) run(store, ["alpha"], "/etc/b.jsonc");
    const now = store.beginRun("run", SOURCES, ++clock).runId;
    assert.deepEqual(store.lastLeftSources(now, "/etc/a.jsonc"), ["beta"]);
    assert.deepEqual(store.lastLeftSources(now, "/etc/b.jsonc"), ["alpha"]);
    assert.equal(store.lastLeftSources(now, "/etc/c.jsonc"), undefined);
  });
});

Deno.test("lastLeftSources: a run from before config files were recorded counts as this job's", () => {
  withStore((store) => {
    run(store, ["beta"]);
    run(store, ["alpha"], "/etc/b.jsonc");
    const now = store.beginRun("run", SOURCES, ++clock).runId;
    assert.deepEqual(store.lastLeftSources(now, "/etc/a.jsonc"), ["beta"]);
  });
});

Deno.test("lastLeftSources: a run from before config files were recorded that found this job's own sources left out was another job's", () => {
  withStore((store) => {
    // Before the upgrade: alpha's job, then beta's, each finding the other's source left.
    run(store, ["beta"]);
    run(store, ["alpha"]);
    const now = store.beginRun("run", SOURCES, ++clock).runId;
    assert.deepEqual(store.lastLeftSources(now, "/etc/a.jsonc", ["alpha"]), ["beta"]);
  });
});

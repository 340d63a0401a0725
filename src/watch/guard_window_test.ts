import assert from "node:assert/strict";
import { type GuardWindow, WINDOW_MAX_MS, windowFor } from "./guard_window.ts";
import type { Job } from "./scheduler.ts";

const full = (reason: string): Job => ({ kind: "full", reason });
const paths: Job = { kind: "paths", paths: ["/src/a"] };
const MIN = 60_000;

Deno.test("windowFor: passes the session asks for mid-way count on in the same window", () => {
  const w: GuardWindow = {};
  const first = windowFor(w, full("start"), 0, 10 * MIN);
  first.tracked = 29_400; // what the first deletions met
  for (
    const [job, at] of [
      [paths, 1 * MIN],
      [full("events lost: queue overflow"), 2 * MIN],
      [full("events lost: queue overflow"), 2 * MIN + 1],
      [full("the watcher was reopened"), 3 * MIN],
      [full("retry after an error"), 9 * MIN],
    ] as const
  ) {
    assert.equal(windowFor(w, job, at, 10 * MIN), first, `${JSON.stringify(job)} at ${at}`);
  }
  assert.equal(w.started, 0);
});

Deno.test("windowFor: the start and each periodic rescan begin a new window", () => {
  const w: GuardWindow = {};
  const first = windowFor(w, full("start"), 0, 10 * MIN);
  first.tracked = 100;
  const second = windowFor(w, full("periodic rescan"), MIN, 10 * MIN);
  assert.notEqual(second, first);
  assert.deepEqual(second, { tracked: 0 });
  assert.equal(w.started, MIN);
  // A watch's first job can be a path job (the start pass was stopped): it opens one too.
  const fresh: GuardWindow = {};
  assert.deepEqual(windowFor(fresh, paths, 5, 10 * MIN), { tracked: 0 });
  assert.equal(fresh.started, 5);
});

Deno.test("windowFor: a window older than a rescan interval ends at the next full pass", () => {
  const w: GuardWindow = {};
  const first = windowFor(w, full("start"), 0, 10 * MIN);
  // Path jobs never end it, however late.
  assert.equal(windowFor(w, paths, 30 * MIN, 10 * MIN), first);
  const late = windowFor(w, full("events lost: queue overflow"), 10 * MIN + 1, 10 * MIN);
  assert.notEqual(late, first);
  assert.equal(w.started, 10 * MIN + 1);
  // Without a periodic rescan (0), an hour.
  const h: GuardWindow = {};
  const hour = windowFor(h, full("start"), 0, 0);
  assert.equal(windowFor(h, full("retry after an error"), WINDOW_MAX_MS, 0), hour);
  assert.notEqual(windowFor(h, full("retry after an error"), WINDOW_MAX_MS + 1, 0), hour);
});

/**
 * Unit tests of watch_events.ts: once a burst of events has settled, folders no watch
 * follows (their making lost in the burst: here a stand-in for `Deno.watchFs` that follows
 * the source's own entries only, as Deno does after losing those events) ask for a full
 * rescan; followed whole, none is asked for. Linux only (the kernel's count of watches).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { poll } from "../../tests/helpers.ts";
import { type Job, Scheduler } from "./scheduler.ts";
import { BURST_EVENTS, WatchEvents } from "./watch_events.ts";

/** A source with three folders, a burst of files written in it, and the jobs it made. */
async function burst(watchFs: typeof Deno.watchFs) {
  const dir = Deno.makeTempDirSync();
  for (const sub of ["a", "b", "c/d"]) Deno.mkdirSync(join(dir, sub), { recursive: true });
  const jobs: Job[] = [];
  const scheduler = new Scheduler({
    debounceMs: 50,
    maxWaitMs: 500,
    rescanIntervalMs: 0,
    retryMs: 60_000,
    run: (job) => Promise.resolve(void jobs.push(job)),
    onError: (e) => assert.fail(String(e)),
  });
  const events = new WatchEvents(
    new Set([dir]),
    join(dir, "..", "backup-elsewhere"), // not in the source: nothing left out
    () => undefined, // nothing tracked
    () => true,
    scheduler,
    (message) => assert.fail(message),
    () => assert.fail("stuck"),
    () => ({ logFile: "/dev/null", code: 1 }),
    watchFs,
  );
  const close = async () => {
    await scheduler.stop();
    await events.follower.close();
    Deno.removeSync(dir, { recursive: true });
  };
  try {
    // Written a few at a time: Deno drops the events it cannot hand on at once (a rescan said).
    for (let i = 0; i < BURST_EVENTS; i++) {
      Deno.writeTextFileSync(join(dir, `f${i}.txt`), `${i}\n`);
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    // Counted once every event is in and nothing waits: undefined until then.
    const counted = await poll(
      "the burst counted",
      () => scheduler.idle && events.afterPass(true),
      30_000,
    );
    return { counted, scheduler, jobs, close };
  } catch (e) {
    await close();
    throw e;
  }
}

const full = (jobs: Job[]) => jobs.filter((j) => j.kind === "full").map((j) => j.reason);

Deno.test({
  name: "watch events: folders followed by no watch once a burst settled ask for a full rescan",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const { counted, jobs, close } = await burst((paths) =>
      Deno.watchFs(paths, { recursive: false })
    );
    try {
      assert.equal(counted, 4);
      const reason = "events lost: 4 folders followed by no watch";
      await poll("the full rescan asked for", () => full(jobs).includes(reason), 30_000);
    } finally {
      await close();
    }
  },
});

Deno.test({
  name: "watch events: a burst settled with every folder followed asks for no rescan",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const { counted, scheduler, jobs, close } = await burst(Deno.watchFs);
    try {
      assert.equal(counted, 0);
      await poll("the scheduler idle", () => scheduler.idle, 30_000);
      assert.ok(!full(jobs).some((reason) => reason.includes("followed by no watch")));
    } finally {
      await close();
    }
  },
});

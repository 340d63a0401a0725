/**
 * Unit tests of the Scheduler with recorded jobs and short real timers: one job per burst,
 * no overlap, retry after a failure, periodic rescans, and a stop that waits.
 */
import assert from "node:assert/strict";
import { type Job, Scheduler, type SchedulerOptions } from "./scheduler.ts";

/** A scheduler whose jobs are recorded; each job takes `hold` ms, or until it settles. */
function recorder(opts: Partial<SchedulerOptions> = {}, hold: number | Promise<void> = 0) {
  const jobs: Job[] = [];
  const errors: unknown[] = [];
  let active = 0;
  let finished = 0;
  let overlapped = false;
  const scheduler = new Scheduler({
    debounceMs: 30,
    maxWaitMs: 300,
    rescanIntervalMs: 0,
    retryMs: 50,
    run: async (job) => {
      overlapped ||= active > 0;
      active++;
      jobs.push(job);
      if (typeof hold !== "number") await hold;
      else if (hold > 0) await new Promise((r) => setTimeout(r, hold));
      active--;
      finished++;
    },
    onError: (e) => errors.push(e),
    ...opts,
  });
  return { scheduler, jobs, errors, overlapped: () => overlapped, finished: () => finished };
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("scheduler: a burst of events gives one job with each path once", async () => {
  const r = recorder();
  for (let i = 0; i < 100; i++) r.scheduler.add([`/s/f${i % 10}`]);
  await until("a job", () => r.jobs.length > 0);
  await until("idle", () => r.scheduler.idle);
  await r.scheduler.stop();
  const paths = r.jobs.flatMap((j) => (j.kind === "paths" ? j.paths : []));
  assert.equal(paths.length, 10);
  assert.equal(new Set(paths).size, 10);
});

Deno.test("scheduler: jobs never overlap; events during a job wait for it", async () => {
  // The first job lasts until the events are in (not a time a late poll may outlast).
  const release = Promise.withResolvers<void>();
  const r = recorder({}, release.promise);
  r.scheduler.add(["/s/a"]);
  await until("the first job", () => r.jobs.length === 1);
  r.scheduler.add(["/s/b"]);
  r.scheduler.requestFull("test");
  await new Promise((res) => setTimeout(res, 50));
  assert.equal(r.jobs.length, 1, "a job started while another ran");
  release.resolve();
  await until("two jobs", () => r.jobs.length >= 2 && r.scheduler.idle);
  await r.scheduler.stop();
  assert.ok(!r.overlapped());
  assert.deepEqual(r.jobs, [
    { kind: "paths", paths: ["/s/a"] },
    { kind: "full", reason: "test" }, // a full rescan replaces the pending /s/b
  ]);
});

Deno.test("scheduler: a job that throws is reported and retried as a full rescan", async () => {
  let calls = 0;
  const errors: unknown[] = [];
  const jobs: Job[] = [];
  const scheduler = new Scheduler({
    debounceMs: 10,
    maxWaitMs: 100,
    rescanIntervalMs: 0,
    retryMs: 30,
    run: (job) => {
      jobs.push(job);
      return ++calls === 1 ? Promise.reject(new Error("disk gone")) : Promise.resolve();
    },
    onError: (e) => errors.push(e),
  });
  scheduler.add(["/s/a"]);
  await until("the retry", () => jobs.length === 2);
  await scheduler.stop();
  assert.equal((errors[0] as Error).message, "disk gone");
  assert.deepEqual(jobs[1], { kind: "full", reason: "retry after an error" });
});

Deno.test("scheduler: after two jobs in a row threw, event paths wait for the retry's rescan", async () => {
  const jobs: Job[] = [];
  const errors: unknown[] = [];
  const scheduler = new Scheduler({
    debounceMs: 10,
    maxWaitMs: 100,
    rescanIntervalMs: 0,
    retryMs: 400,
    run: (job) => {
      jobs.push(job);
      return job.kind === "paths" ? Promise.reject(new Error("disk full")) : Promise.resolve();
    },
    onError: (e) => errors.push(e),
  });
  scheduler.add(["/s/a"]);
  await until("the first failure", () => errors.length === 1);
  scheduler.add(["/s/b"]); // may still fail: one failure may be the pass's own
  await until("the second failure", () => errors.length === 2);
  // A full disk: every pass would fail; these wait for the rescan, which covers them.
  for (let i = 0; i < 5; i++) {
    scheduler.add([`/s/c${i}`]);
    await new Promise((r) => setTimeout(r, 30));
  }
  await until("the retry", () => jobs.some((j) => j.kind === "full"));
  await scheduler.stop();
  assert.equal(errors.length, 2, "no pass ran while waiting for the retry");
  assert.deepEqual(jobs.slice(2), [{ kind: "full", reason: "retry after an error" }]);
});

Deno.test("scheduler: periodic rescan after each full pass", async () => {
  const r = recorder({ rescanIntervalMs: 40 });
  r.scheduler.requestFull("start");
  await until("two rescans", () => r.jobs.length >= 3);
  await r.scheduler.stop();
  assert.deepEqual(r.jobs.slice(0, 3).map((j) => j.kind === "full" && j.reason), [
    "start",
    "periodic rescan",
    "periodic rescan",
  ]);
});

Deno.test("scheduler: stop waits for the job in progress and drops pending paths", async () => {
  // The job ends when the test lets it, not after a time: a poll late by more than a
  // job's 100 ms (a loaded machine) found it ended before the stop was even asked.
  const release = Promise.withResolvers<void>();
  const r = recorder({ debounceMs: 5 }, release.promise);
  r.scheduler.add(["/s/a"]);
  await until("the job", () => r.jobs.length === 1);
  r.scheduler.add(["/s/b"]);
  assert.equal(r.finished(), 0);
  let stopped = false;
  const stopping = r.scheduler.stop().then(() => stopped = true);
  await new Promise((res) => setTimeout(res, 50));
  assert.equal(stopped, false, "stop returned while the job still ran");
  release.resolve();
  await stopping;
  assert.equal(r.finished(), 1, "stop returned before the job ended");
  assert.equal(r.jobs.length, 1);
  r.scheduler.add(["/s/c"]); // ignored after stop
  r.scheduler.requestFull("ignored");
  assert.ok(r.scheduler.idle);
});

Deno.test("scheduler: a wall clock stepped back an hour holds no change back", async () => {
  const realNow = Date.now;
  const r = recorder();
  try {
    r.scheduler.add(["/s/a"]);
    Date.now = () => realNow() - 3_600_000; // an hour behind from here on
    await until("the job", () => r.jobs.length === 1, 5_000);
    r.scheduler.add(["/s/b"]);
    await until("a second job", () => r.jobs.length === 2, 5_000);
  } finally {
    Date.now = realNow;
    await r.scheduler.stop();
  }
  assert.deepEqual(r.jobs, [{ kind: "paths", paths: ["/s/a"] }, {
    kind: "paths",
    paths: ["/s/b"],
  }]);
});

Deno.test("scheduler: a retry asked for is a full rescan now, unless the retry is armed", async () => {
  const jobs: Job[] = [];
  const at: number[] = [];
  const scheduler = new Scheduler({
    debounceMs: 10,
    maxWaitMs: 100,
    rescanIntervalMs: 0,
    retryMs: 300,
    run: (job) => {
      jobs.push(job);
      at.push(Date.now());
      return jobs.length === 1 ? Promise.reject(new Error("disk full")) : Promise.resolve();
    },
    onError: () => {},
  });
  scheduler.add(["/s/a"]);
  await until("the failure", () => jobs.length === 1);
  scheduler.requestRetry(); // armed: the retry's own rescan, not one more now
  await until("the retry", () => jobs.length === 2);
  assert.ok(at[1] - at[0] >= 250, `the retry came ${at[1] - at[0]} ms after the failure`);
  scheduler.requestRetry(); // the retry ran: one now
  await until("the retry asked for", () => jobs.length === 3);
  await until("idle", () => scheduler.idle);
  await scheduler.stop();
  const retry = { kind: "full", reason: "retry after an error" };
  assert.deepEqual(jobs.slice(1), [retry, retry]);
});

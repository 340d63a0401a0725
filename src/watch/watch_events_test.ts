/**
 * Unit tests of watch_events.ts: once a burst of events has settled, folders no watch
 * follows (their making lost in the burst: here a stand-in for `Deno.watchFs` that follows
 * the source's own entries only, as Deno does after losing those events) ask for a full
 * rescan; followed whole, none is asked for; events a few at a time, each lot settled, are
 * no burst. Linux only (the kernel's watches).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { poll } from "../../tests/helpers.ts";
import { type Job, Scheduler } from "./scheduler.ts";
import { BURST_EVENTS, WatchEvents } from "./watch_events.ts";
import { QUEUE_LIMIT_FILE, readWatchLimit } from "./limits.ts";

/**
 * A source with three folders followed by `watchFs`, and a scheduler that, as the session
 * does, has the folders followed by no watch counted after each pass (`afterPass`: the
 * counts, undefined where none was made).
 */
function session(watchFs: typeof Deno.watchFs) {
  const dir = Deno.makeTempDirSync();
  for (const sub of ["a", "b", "c/d"]) Deno.mkdirSync(join(dir, sub), { recursive: true });
  const jobs: Job[] = [];
  const counts: (number | undefined)[] = [];
  const scheduler: Scheduler = new Scheduler({
    // A pass amid a burst, after a pause of the writes this long, would count from there.
    debounceMs: 300,
    maxWaitMs: 3000,
    rescanIntervalMs: 0,
    retryMs: 60_000,
    run: (job) => {
      jobs.push(job);
      counts.push(events.afterPass(!scheduler.waiting));
      return Promise.resolve();
    },
    onError: (e) => assert.fail(String(e)),
  });
  const events: WatchEvents = new WatchEvents(
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
  return { dir, scheduler, jobs, counts, close };
}

/** Files `from` to `to` (not included) written in `dir`, a few at a time. */
async function writeFiles(dir: string, from: number, to: number): Promise<void> {
  // A few at a time: Deno drops the events it cannot hand on at once (a rescan said).
  for (let i = from; i < to; i++) {
    Deno.writeTextFileSync(join(dir, `f${i}.txt`), `${i}\n`);
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1));
  }
}

/** A session (see `session`) after a burst of files written in its source, and its count. */
async function burst(watchFs: typeof Deno.watchFs) {
  const s = session(watchFs);
  try {
    await writeFiles(s.dir, 0, BURST_EVENTS);
    // Counted after the pass that leaves nothing waiting once every event is in.
    const counted = await poll(
      "the burst counted",
      () => s.counts.find((count) => count !== undefined),
      30_000,
    );
    return { ...s, counted };
  } catch (e) {
    await s.close();
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

Deno.test({
  name:
    "watch events: events that come a few at a time, each lot settled, count no folders however many they add up to",
  ignore: Deno.build.os !== "linux",
  async fn() {
    // Followed flat: a count, were one made, would find 4 folders and ask for a rescan.
    const s = session((paths) => Deno.watchFs(paths, { recursive: false }));
    try {
      // 10 lots of 50 files (about 150 events each, 1,500 in all), each passed and settled.
      for (let lot = 0; lot < 10; lot++) {
        await writeFiles(s.dir, lot * 50, lot * 50 + 50);
        const last = join(s.dir, `f${lot * 50 + 49}.txt`);
        await poll("the lot passed", () =>
          s.scheduler.idle &&
          s.jobs.some((j) => j.kind === "paths" && j.paths.includes(last)), 30_000);
      }
      assert.deepEqual(s.counts.filter((count) => count !== undefined), []);
      assert.deepEqual(full(s.jobs), []);
    } finally {
      await s.close();
    }
  },
});

/**
 * A session (see `session`) after folders `made` (each with a file) once its watchers are
 * open, and the count after the pass that saw them.
 */
async function foldersMade(watchFs: typeof Deno.watchFs, made: string[]) {
  const s = session(watchFs);
  try {
    // The watchers open: a file written is passed.
    Deno.writeTextFileSync(join(s.dir, "first.txt"), "first\n");
    await poll("the first file passed", () => s.jobs.length > 0, 30_000);
    const counted = s.counts.length;
    for (const folder of made) {
      Deno.mkdirSync(join(s.dir, folder), { recursive: true });
      Deno.writeTextFileSync(join(s.dir, folder, "x.txt"), "x\n");
    }
    const count = await poll(
      "the folders made counted",
      () => s.counts.slice(counted).find((count) => count !== undefined),
      30_000,
    );
    return { ...s, count };
  } catch (e) {
    await s.close();
    throw e;
  }
}

Deno.test({
  name:
    "watch events: a folder made, a few events only, that no watch follows asks for a full rescan",
  ignore: Deno.build.os !== "linux",
  async fn() {
    // Followed flat: the folders made (and those the source had) have no watch; only those
    // made are counted.
    const { count, jobs, close } = await foldersMade(
      (paths) => Deno.watchFs(paths, { recursive: false }),
      ["new/inner", "other"],
    );
    try {
      assert.equal(count, 3);
      const reason = "events lost: 3 folders followed by no watch";
      await poll("the full rescan asked for", () => full(jobs).includes(reason), 30_000);
    } finally {
      await close();
    }
  },
});

Deno.test({
  name: "watch events: folders made and followed ask for no rescan",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const { count, scheduler, jobs, close } = await foldersMade(Deno.watchFs, ["new/inner"]);
    try {
      assert.equal(count, 0);
      await poll("the scheduler idle", () => scheduler.idle, 30_000);
      assert.ok(!full(jobs).some((reason) => reason.includes("followed by no watch")));
    } finally {
      await close();
    }
  },
});

/**
 * `Deno.watchFs`, but its first watcher gives `count` events of `file` modified before the
 * real ones: a burst as the kernel's queue delivers it, its notice of an overflow dropped
 * by Deno (an event naming no path), as a `touch` of 10,000 files made it.
 */
function burstFirst(count: number, file: string): typeof Deno.watchFs {
  let given = false;
  return (paths, options) => {
    const real = Deno.watchFs(paths, options);
    if (given) return real;
    given = true;
    const events = real[Symbol.asyncIterator]();
    let left = count;
    const iterator: AsyncIterableIterator<Deno.FsEvent> = {
      next: () =>
        left-- > 0
          ? Promise.resolve({ done: false, value: { kind: "modify", paths: [file] } })
          : events.next(),
      [Symbol.asyncIterator]: () => iterator,
    };
    return {
      close: () => real.close(),
      [Symbol.asyncIterator]: () => iterator,
      [Symbol.dispose]: () => real.close(),
    } as Deno.FsWatcher;
  };
}

Deno.test({
  name:
    "watch events: a burst of half as many events as the kernel queues asks for a full rescan, no folder counted",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const queued = readWatchLimit(QUEUE_LIMIT_FILE)!;
    const dir = Deno.makeTempDirSync();
    try {
      const s = session(burstFirst(queued / 2, join(dir, "touched.txt")));
      try {
        const reason = `events may have been lost: a burst of ${queued / 2} events (the ` +
          `kernel queues ${queued})`;
        await poll("the full rescan asked for", () => full(s.jobs).includes(reason), 30_000);
        assert.deepEqual(s.counts.filter((count) => count !== undefined), []);
      } finally {
        await s.close();
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "watch events: a burst one event short of half the kernel's queue asks for no rescan",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const queued = readWatchLimit(QUEUE_LIMIT_FILE)!;
    const dir = Deno.makeTempDirSync();
    try {
      const s = session(burstFirst(queued / 2 - 1, join(dir, "touched.txt")));
      try {
        await poll(
          "the burst passed and counted",
          () => s.counts.some((c) => c !== undefined),
          30_000,
        );
        await poll("the scheduler idle", () => s.scheduler.idle, 30_000);
        assert.deepEqual(full(s.jobs), []);
      } finally {
        await s.close();
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

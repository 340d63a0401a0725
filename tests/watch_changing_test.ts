/**
 * `watch` and a file that keeps changing while it is read (a log appended to without
 * pause): not a failure of the session as long as a later pass stores it; a failure when
 * the session stops before one does. The appends come every millisecond or so to a 16 MiB
 * file, which takes longer than that to read: every read sees it change.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { exists } from "../src/engine/fs/fsops.ts";
import { makeFixture, poll, runCli, signalTaken } from "./helpers.ts";
import { backedUp, DEADLINE_MS, filler, WatchProcess } from "./watch_helpers.ts";
import { CHANGING_ATTEMPTS } from "../src/watch/changing.ts";

const WATCH = { watch: { debounce_ms: 200, rescan_interval: 0 } };

/** Appends a line to `file` about every millisecond until `stop()`; returns its text then. */
function appender(file: string) {
  let running = true;
  const done = (async () => {
    using f = Deno.openSync(file, { append: true });
    for (let i = 0; running; i++) {
      f.writeSync(new TextEncoder().encode(`line ${i}\n`));
      await new Promise((r) => setTimeout(r, 1));
    }
  })();
  return {
    async stop(): Promise<string> {
      running = false;
      await done;
      return Deno.readTextFileSync(file);
    },
  };
}

/** The session's row in `history --json`. */
async function lastRun(config: string) {
  const r = await runCli(["history", "--json", "--config", config]);
  const runs = JSON.parse(r.stdout).runs;
  return runs[runs.length - 1];
}

const BIG = "x".repeat(16 << 20) + "\n";

Deno.test("watch: a file that keeps changing while read is read again once quiet, not a failure", async () => {
  using fx = makeFixture({ ...filler(), "app.log": BIG }, WATCH);
  await using w = new WatchProcess(fx);
  await w.ready();
  const log = appender(join(fx.source, "app.log"));
  let text;
  try {
    // Written to without pause, it is read every 10 debounce periods, and seen changing.
    await poll(
      "a batch that found it changing",
      () => /changing while read|failed/.test(w.stdout),
      DEADLINE_MS,
    );
  } finally {
    text = await log.stop(); // never waits: a failure above is the one reported
  }
  await backedUp(fx.backup, "app.log", text);
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  assert.doesNotMatch(exit.stderr, /ERROR/);
  assert.ok(
    fx.logLines().includes(
      "SKIP CHANGING: source/app.log (it kept changing while being read: read again once it " +
        "has been quiet for watch.debounce_ms)",
    ),
    fx.logLines().join("\n"),
  );
  const run = await lastRun(fx.config);
  assert.equal(run.outcome, "finished");
  assert.equal(run.counts.failed, 0);
});

Deno.test("watch: a file still changing when the watch stops is a failure of the session", async () => {
  using fx = makeFixture({ ...filler(), "app.log": BIG }, WATCH);
  await using w = new WatchProcess(fx);
  await w.ready();
  const log = appender(join(fx.source, "app.log"));
  let exit;
  try {
    await poll("'SKIP CHANGING' in the log", () => {
      return fx.logLines().some((l) => l.startsWith("SKIP CHANGING: source/app.log"));
    }, DEADLINE_MS);
    exit = await w.stop();
  } finally {
    await log.stop();
  }
  assert.equal(exit.code, 0, exit.stderr);
  const file = join(fx.source, "app.log");
  const line = `ERROR: source/app.log: Cannot back up '${file}': it kept changing while being ` +
    "read, and the watch stopped before a pass could read it: the next run or watch backs it up";
  assert.ok(exit.stderr.includes(line), exit.stderr);
  assert.ok(fx.logLines().includes(line), fx.logLines().join("\n"));
  const run = await lastRun(fx.config);
  assert.equal(run.outcome, "finished with problems");
  assert.equal(run.counts.failed, 1);
});

Deno.test("watch: a file stored by the pass a stop cut short is no failure of the session", async () => {
  using fx = makeFixture({ ...filler(), "app.log": BIG }, WATCH);
  const marker = join(fx.dir, "paused");
  // The first pass applies one batch; those that find the file changing apply none: the
  // second is the one that stores it, once it is quiet.
  await using w = new WatchProcess(fx, [], { BACKUP_TOOL_PAUSE: `applying:2:${marker}` });
  await w.ready();
  const log = appender(join(fx.source, "app.log"));
  let text;
  try {
    await poll("'SKIP CHANGING' in the log", () => {
      return fx.logLines().some((l) => l.startsWith("SKIP CHANGING: source/app.log"));
    }, DEADLINE_MS);
  } finally {
    text = await log.stop();
  }
  await poll("the batch that stores it to be held", () => exists(marker), DEADLINE_MS);
  const exit = w.stop(); // heard in that pass, which ends after this batch
  exit.catch(() => {}); // awaited below
  await signalTaken(w.pid, "SIGTERM");
  Deno.removeSync(marker);
  const e = await exit;
  assert.equal(e.code, 0, e.stderr);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "app.log")), text);
  assert.doesNotMatch(e.stderr, /ERROR/);
  const run = await lastRun(fx.config);
  assert.equal(run.outcome, "finished");
  assert.equal(run.counts.failed, 0);
});

Deno.test("watch: a file found changing by six passes in a row is a failure at the sixth, said with when it is read again", async () => {
  using fx = makeFixture({ ...filler(), "app.log": BIG }, WATCH);
  await using w = new WatchProcess(fx);
  await w.ready();
  const log = appender(join(fx.source, "app.log"));
  const file = join(fx.source, "app.log");
  // Not its next batch: after the sixth, a file written through a memory mapping has none.
  const line = `ERROR: source/app.log: Cannot back up '${file}': it kept changing while being ` +
    "read: it will be retried by the next run (a watch: at the next change the system " +
    "reports for it, or at the next full rescan)";
  try {
    // Read every ten debounce periods (2 s) while written to: the sixth pass about 12 s on.
    await poll("the sixth pass's ERROR", () => w.stderr.includes("ERROR:"), 2 * DEADLINE_MS);
  } finally {
    await log.stop();
  }
  assert.ok(w.stderr.includes(`${line}\n`), w.stderr);
  const skips = fx.logLines().filter((l) => l.startsWith("SKIP CHANGING: source/app.log"));
  assert.equal(skips.length, CHANGING_ATTEMPTS - 1);
  assert.ok(fx.logLines().includes(line), fx.logLines().join("\n"));
  assert.equal((await w.stop()).code, 0);
  assert.equal((await lastRun(fx.config)).outcome, "finished with problems");
});

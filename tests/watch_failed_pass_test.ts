/**
 * `watch` and a pass that fails as a whole (here its staged copy taken away while it is
 * read, as a failing backup disk would lose it): the session says so, and is recorded as
 * having problems, not as finished, whether or not a later pass made up for it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { exists } from "../src/engine/fs/fsops.ts";
import { type Fixture, makeFixture, poll, runCli } from "./helpers.ts";
import { backedUp, DEADLINE_MS, WatchProcess } from "./watch_helpers.ts";

const WATCH = { watch: { debounce_ms: 200, rescan_interval: 0 } };

/** The session's row in `history --json`. */
async function lastRun(config: string) {
  const r = await runCli(["history", "--json", "--config", config]);
  const runs = JSON.parse(r.stdout).runs;
  return runs[runs.length - 1];
}

/**
 * A watch whose first read (the new file a.txt's) is held while its staged copy is removed
 * from the temporary folder, then let go: the batch's flush fails, and the pass with it.
 */
async function failedPass(fx: Fixture): Promise<WatchProcess> {
  const marker = join(fx.dir, "paused");
  const w = new WatchProcess(fx, [], { BACKUP_TOOL_PAUSE: `reading:1:${marker}` });
  await w.ready();
  Deno.writeTextFileSync(join(fx.source, "a.txt"), "a\n");
  await poll("the new file's read to be held", () => exists(marker), DEADLINE_MS);
  const tmp = join(fx.backup, ".backup-tool", "tmp");
  for (const e of Deno.readDirSync(tmp)) Deno.removeSync(join(tmp, e.name));
  Deno.removeSync(marker);
  await poll("the pass to fail", () => w.stderr.includes("Backup pass failed"), DEADLINE_MS);
  return w;
}

Deno.test("watch: a pass that failed makes the session 'finished with problems' when it stops before the retry", async () => {
  // Nothing to read in the first pass: the first read of the session is the new file's.
  using fx = makeFixture({}, WATCH);
  await using w = await failedPass(fx);
  // Stopped before the retry (30 s later), nothing else written meanwhile.
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  assert.match(
    exit.stderr,
    /WARNING: Backup pass failed: Cannot flush '.*': .*a full rescan follows in 30 s/,
  );
  assert.ok(!fx.lastLog().some((l) => l.startsWith("RESCAN")), "no retry ran");
  assert.ok(!exit.stderr.includes("Backups work again"), "no pass went through");
  const run = await lastRun(fx.config);
  assert.equal(run.outcome, "finished with problems");
  // The next run backs the file up.
  assert.equal((await fx.cli("run", "-q")).code, 0);
  await backedUp(fx.backup, "a.txt", "a\n");
});

Deno.test("watch: a pass that failed makes the session 'finished with problems' even when a later pass stored its file", async () => {
  using fx = makeFixture({}, WATCH);
  await using w = await failedPass(fx);
  // Written again, the file is stored by the next batch: the backup is whole again.
  Deno.writeTextFileSync(join(fx.source, "a.txt"), "a2\n");
  await backedUp(fx.backup, "a.txt", "a2\n");
  // Said so, and that the retry's full rescan catches up what the failed pass was given.
  const again = "NOTE: Backups work again: a pass went through after 1 failed pass; a full " +
    "rescan within 30 s catches up the changes made meanwhile";
  await poll("backups said to work again", () => fx.lastLog().includes(again), DEADLINE_MS);
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  assert.equal(exit.stderr.split("\n").filter((l) => l === again).length, 1, exit.stderr);
  const run = await lastRun(fx.config);
  assert.equal(run.outcome, "finished with problems");
  assert.equal(run.counts.failed, 0, "no file is counted as failed");
});

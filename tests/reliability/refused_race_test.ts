/**
 * A session refused after it took the lock removes what it made itself, and nothing more:
 * a first backup that another run began and finished while it waited for the lock (held
 * at a pause point, BACKUP_TOOL_PAUSE) keeps its state, and the next run copies nothing;
 * one that another run began and was killed in (BACKUP_TOOL_FAULT) keeps its lock file and
 * the dead run's record in it, which the next run logs as a stale lock taken over.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture, poll, runCli, writeConfig } from "../helpers.ts";
import { exists, runTool } from "./util.ts";

/**
 * A run of the fixture's backup root with logs of its own, held where it is about to take
 * the lock; `release` makes those logs unusable (a file in their place), lets it go on,
 * and gives its result, refused.
 */
async function lateRun(fx: Fixture) {
  const late = join(fx.dir, "late.jsonc");
  writeConfig(late, { sources: ["./source"], backup_root: "./backup", log_dir: "./late-logs" });
  const pause = join(fx.dir, "pause");
  // It looks for what it will make before the other run makes anything.
  const waiting = runTool(["run", "--config", late], {
    env: { BACKUP_TOOL_PAUSE: `locking:1:${pause}` },
  });
  await poll("the late run to reach the lock", () => exists(pause));
  return {
    async release() {
      Deno.writeTextFileSync(join(fx.dir, "late-logs"), "not a folder\n");
      Deno.removeSync(pause);
      const refused = await waiting;
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /Cannot write a log file in log_dir/);
    },
  };
}

Deno.test("a run refused after waiting for the lock leaves another run's new state in place", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n" });
  const late = await lateRun(fx);
  const first = await runCli(["run", "--config", fx.config]);
  assert.equal(first.code, 0, first.stderr);
  const db = join(fx.backup, ".backup-tool", "state.db");
  assert.ok(exists(db));
  await late.release();
  assert.ok(exists(db), "the refused run removed the state another run made");
  const again = await runCli(["run", "--config", fx.config]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /0 new, 0 updated, 0 duplicate, 2 unchanged/);
});

Deno.test("a run refused after waiting for the lock leaves a killed run's lock record for the next run to log", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n" });
  const late = await lateRun(fx);
  // A first backup killed once it committed, as SIGKILL leaves it: its record in the lock.
  const killed = await runTool(["run", "--config", fx.config], {
    env: { BACKUP_TOOL_FAULT: "committed:1" },
  });
  assert.equal(killed.code, 137, killed.stderr);
  const lock = join(fx.backup, ".backup-tool", "lock");
  const record = Deno.readTextFileSync(lock);
  assert.match(record, /"pid":/);
  await late.release();
  assert.ok(exists(lock), "the refused run removed the lock file another run made");
  assert.equal(Deno.readTextFileSync(lock), record);
  const next = await runCli(["run", "--config", fx.config]);
  assert.equal(next.code, 0, next.stderr);
  assert.ok(
    fx.lastLog().includes(`LOCK: took over a stale lock left by ${record.trim()}`),
    fx.lastLog().join("\n"),
  );
});

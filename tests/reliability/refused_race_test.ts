/**
 * A session refused after it took the lock removes what it made itself, and nothing more:
 * a first backup that another run began and finished while it waited for the lock (held
 * at a pause point, BACKUP_TOOL_PAUSE) keeps its state, and the next run copies nothing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, poll, runCli, writeConfig } from "../helpers.ts";
import { exists, runTool } from "./util.ts";

Deno.test("a run refused after waiting for the lock leaves another run's new state in place", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n" });
  // The same backup root, logs of its own: made unusable while it waits.
  const late = join(fx.dir, "late.jsonc");
  writeConfig(late, { sources: ["./source"], backup_root: "./backup", log_dir: "./late-logs" });
  const pause = join(fx.dir, "pause");
  const waiting = runTool(["run", "--config", late], {
    env: { BACKUP_TOOL_PAUSE: `locking:1:${pause}` },
  });
  await poll("the late run to reach the lock", () => exists(pause));
  const first = await runCli(["run", "--config", fx.config]);
  assert.equal(first.code, 0, first.stderr);
  const db = join(fx.backup, ".backup-tool", "state.db");
  assert.ok(exists(db));
  Deno.writeTextFileSync(join(fx.dir, "late-logs"), "not a folder\n");
  Deno.removeSync(pause);
  const refused = await waiting;
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /Cannot write a log file in log_dir/);
  assert.ok(exists(db), "the refused run removed the state another run made");
  const again = await runCli(["run", "--config", fx.config]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /0 new, 0 updated, 0 duplicate, 2 unchanged/);
});

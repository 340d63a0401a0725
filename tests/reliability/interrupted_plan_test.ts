/**
 * `plan` after a crash: the interrupted run's journaled work, which the next run's
 * recovery finishes first, is taken as done (planned against a private copy of the state
 * with it recorded), so the plan shows what the next run does after it, and the copies
 * that run placed are not taken for someone else's files (`.~2` names).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, writeTree } from "../helpers.ts";
import { runTool, snapshot } from "./util.ts";

Deno.test("plan after a crash plans what follows the interrupted run's journaled work", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "f1": "1\n", "f2": "2\n", "f3": "3\n", "f5": "5\n" });
  const run = (...args: string[]) => runTool([...args, "--config", fx.config]);
  assert.equal((await run("run")).code, 0);
  writeTree(fx.source, { "a.txt": "a, changed\n", "g.txt": "new\n" });
  Deno.removeSync(join(fx.source, "f5"));
  const killed = await runTool(["run", "--config", fx.config], {
    env: { BACKUP_TOOL_FAULT: "executed:1" }, // its files placed, its commit not made
  });
  assert.equal(killed.code, 137, killed.stderr);
  // SQLite's shared-memory index of the write-ahead log a crash left (-shm) included.
  const before = snapshot(fx.backup);

  const plan = await run("plan");
  assert.equal(plan.code, 0, plan.stdout + plan.stderr);
  assert.match(plan.stdout, /Plan: 0 new, 0 updated, 0 duplicate, 5 unchanged, 0 deleted/);
  assert.doesNotMatch(plan.stdout, /\.~2/);
  assert.match(plan.stdout + plan.stderr, /left 3 journaled action\(s\)/);
  assert.deepEqual(snapshot(fx.backup), before, "plan changed nothing in the backup root");

  const next = await run("run", "--json");
  assert.equal(next.code, 0, next.stderr);
  assert.deepEqual(
    [JSON.parse(next.stdout).counts].map((c) => [c.backup, c.modified, c.delete]),
    [[0, 0, 0]],
  );
});

/**
 * What a killed run did is in the logs: recovery finishes its journaled actions and logs
 * each as that run would have (its own log lost the lines it had not flushed), so every
 * copy deleted by retention is named in some log; and a killed run's log shows at least
 * that it started.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { listFiles, makeFixture, writeConfig, writeTree } from "../helpers.ts";
import { runTool } from "./util.ts";

Deno.test("retention deletions finished by recovery are each logged", async () => {
  using fx = makeFixture({});
  const config = (max: number) =>
    writeConfig(fx.config, {
      sources: ["./source"],
      backup_root: "./backup",
      log_dir: "./logs",
      retention: { max_versions_per_file: max },
    });
  config(5);
  for (const v of [1, 2, 3, 4]) {
    writeTree(fx.source, { f1: `v${v} 1\n`, f2: `v${v} 2\n`, f3: `v${v} 3\n` });
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
  }
  const versions = () => new Set(listFiles(join(fx.backup, "versions")));
  const before = versions();
  assert.equal(before.size, 9);
  config(1);
  // Killed right after the first version is deleted (as SIGKILL would).
  const killed = await runTool(["run", "--config", fx.config], {
    env: { BACKUP_TOOL_FAULT: "pruned:1" },
  });
  assert.equal(killed.code, 137, killed.stderr);
  assert.ok(fx.lastLog()[0]?.startsWith("Run started: run"), "the killed run's log says so");
  assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
  const deleted = [...before].filter((v) => !versions().has(v)).map((v) => `versions/${v}`);
  assert.equal(deleted.length, 6);
  const logged = fx.logLines().filter((l) => l.startsWith("RETENTION delete: "))
    .map((l) => l.slice("RETENTION delete: ".length));
  assert.deepEqual([...new Set(logged)].sort(), deleted.sort());
  assert.ok(
    fx.logLines().some((l) => /^RECOVER: completed 6 action\(s\) of interrupted run/.test(l)),
  );
});

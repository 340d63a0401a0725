/**
 * `purge --yes` killed (SIGKILL) while it is held between writing its `PURGE record:` lines
 * and marking those records purged (BACKUP_TOOL_PAUSE `marking`): the log names them, the
 * records are left as they were, and the same purge again marks them and logs them again.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, writeConfig } from "../helpers.ts";
import { allLogLines, pausedRun, runTool } from "./util.ts";

Deno.test({
  name:
    "purge --yes killed before its records are marked purged: the log has their lines, the same purge again marks and logs them",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    using fx = makeFixture({ "a.txt": "one\n", "b.txt": "b\n" });
    const cfg = ["--config", fx.config];
    const run = async (code = 0) => {
      const r = await runTool(["run", ...cfg]);
      assert.equal(r.code, code, r.stdout + r.stderr);
    };
    await run();
    Deno.removeSync(join(fx.backup, "a.txt")); // v1's copy, by hand: recorded lost
    Deno.writeTextFileSync(join(fx.source, "a.txt"), "two\n");
    await run(1);
    writeConfig(fx.config, {
      sources: ["./source"],
      backup_root: "./backup",
      log_dir: "./logs",
      exclude: ["a.txt"],
    });
    await run();
    const line = "PURGE record: source/a.txt v1 (lost)";
    const records = () => allLogLines(fx.logs).filter((l) => l === line).length;
    {
      const args = ["purge", "a.txt", "--yes", ...cfg];
      await using paused = await pausedRun(args, "marking:1", fx.dir);
      paused.child.kill("SIGKILL");
      const out = await paused.child.output();
      assert.equal(out.signal, "SIGKILL");
    }
    // Before, the records were marked purged first: killed there, no log named them.
    assert.equal(records(), 1, allLogLines(fx.logs).join("\n"));
    const listed = await runTool(["purge", "a.txt", ...cfg]);
    assert.equal(listed.code, 0, listed.stdout + listed.stderr);
    assert.match(listed.stdout, /^PURGE record: source\/a\.txt v1 \(lost\)$/m);
    const again = await runTool(["purge", "a.txt", "--yes", ...cfg]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /1 record of a copy gone before marked purged, 0 failed/);
    assert.equal(records(), 2);
    const history = await runTool(["history", "a.txt", ...cfg]);
    assert.equal(history.stdout.match(/purged by 'purge' at /g)?.length, 2, history.stdout);
    const verify = await runTool(["verify", ...cfg]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  },
});

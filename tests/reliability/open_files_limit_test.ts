/**
 * A low open files limit (`ulimit -n 64`, a container's default on some systems): the
 * staged copies are flushed a few at a time, never more at once than the limit allows.
 */
import assert from "node:assert/strict";
import { makeFixture, readTree } from "../helpers.ts";
import { runTool } from "./util.ts";

Deno.test({
  name: "with ulimit -n 64, a batch of new files is flushed and backed up, run after run",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const tree: Record<string, string> = {};
    // Fewer than syncfs is used for: each staged copy gets its own fdatasync.
    for (let i = 0; i < 60; i++) tree[`f${i}.txt`] = `file ${i}\n`;
    using fx = makeFixture(tree);
    for (const round of [1, 2]) {
      const r = await runTool(["run", "--config", fx.config], {
        prefix: ["bash", "-c", 'ulimit -n 64 && exec "$0" "$@"'],
      });
      assert.equal(r.code, 0, `round ${round}: ${r.stdout}\n${r.stderr}`);
    }
    assert.deepEqual(readTree(fx.backup), readTree(fx.source));
  },
});

Deno.test({
  name: "with ulimit -n 64, a restore through many folders keeps few of them open",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const tree: Record<string, string> = {};
    // Batches of under 64 files (fdatasyncs each) and of more (syncfs), across 120 folders.
    for (let d = 0; d < 120; d++) {
      for (let f = 0; f < 6; f++) tree[`g${d % 7}/d${d}/f${f}.txt`] = `file ${d} ${f}\n`;
    }
    using fx = makeFixture(tree);
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
    const out = `${fx.dir}/out`;
    const r = await runTool(["restore", "--to", out, "--config", fx.config], {
      prefix: ["bash", "-c", 'ulimit -n 64 && exec "$0" "$@"'],
    });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.deepEqual(readTree(out), readTree(fx.source));
  },
});

/**
 * A symlink whose target is not valid UTF-8 cannot be stored (Deno reads a target as a
 * string): the run names it with what to do, and exits 1; the other files are backed up.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture } from "./helpers.ts";

Deno.test({
  name: "a symlink whose target is not valid UTF-8 is named with a remedy, never skipped silently",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a" });
    const made = new Deno.Command("bash", {
      args: ["-c", `ln -s $'tar\\xffget' ${JSON.stringify(join(fx.source, "badlink"))}`],
    }).outputSync();
    assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
    const run = await fx.cli("run", "-q");
    assert.equal(run.code, 1, run.stderr);
    const line = `ERROR: source/badlink: Cannot read link '${join(fx.source, "badlink")}': ` +
      "its target is not valid UTF-8, which this tool cannot store: point the link at a path " +
      "of valid UTF-8, or exclude it";
    assert.equal(run.stderr, `${line}\n`);
    assert.ok(fx.lastLog().includes(line), fx.lastLog().join("\n"));
    assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "a");
  },
});

/**
 * A restore where renameat2(2) is refused with EPERM, as a seccomp filter that does not
 * know the call refuses it (older container runtimes and sandboxes): the files are linked
 * into place as before renameat2 was used, each restored, no temporary file left. The
 * refusal is strace's fault injection (Linux with strace installed, else skipped).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, readTree, runProgram, toolCommand } from "./helpers.ts";
import { listHidden, ok, put } from "./restore_helpers.ts";
import { has } from "./reliability/fat_disks.ts";

Deno.test({
  name:
    "a restore where renameat2 is refused (EPERM): each file linked into place instead, none left as a temporary file",
  ignore: Deno.build.os !== "linux" || !has("strace"),
  async fn() {
    using fx = makeFixture({});
    put(fx.source, { "a.txt": "A\n", "d/b.txt": "B\n" });
    await ok(fx, "run");
    const to = join(fx.dir, "restored");
    const { cmd, args } = toolCommand(["restore", "--to", to, "--config", fx.config]);
    const refused = ["-f", "-qq", "-o", "/dev/null", "-e", "trace=renameat2"];
    const r = await runProgram("strace", [
      ...refused,
      "-e",
      "inject=renameat2:error=EPERM",
      cmd,
      ...args,
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Restore complete: 2 restored/);
    assert.deepEqual(readTree(to), { "a.txt": "A\n", "d/b.txt": "B\n" });
    assert.deepEqual([...listHidden(to), ...listHidden(join(to, "d"))], []);
  },
});

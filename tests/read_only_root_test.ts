/**
 * A backup root whose disk is mounted read-only (a small tmpfs of its own, remounted so:
 * root on Linux only, ignored elsewhere), as the kernel remounts a disk it found errors on:
 * a run is refused (exit 2, nothing changed) with that disk's remedy, not told to make the
 * root writable by its user, which no chmod or chown could do; what only reads (`ls`,
 * `verify`) still works. Every mount is undone by the test that made it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture } from "./helpers.ts";
import { canMountTmpfs, withTmpfs } from "./tmpfs.ts";
import { succeeds } from "./fstab_namespace.ts";

const TMPFS = await canMountTmpfs();

Deno.test({
  name: "a backup root on a disk mounted read-only: a run is refused with that remedy; reads work",
  ignore: !TMPFS,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" });
    await withTmpfs(fx.backup, "size=16m", async () => {
      assert.equal((await fx.cli("run", "-q")).code, 0);
      assert.ok(await succeeds("mount", "-o", "remount,ro", fx.backup));
      Deno.writeTextFileSync(join(fx.source, "a.txt"), "a2\n");
      for (const command of [["run"], ["verify", "--repair"]]) {
        const r = await fx.cli(...command);
        assert.equal(r.code, 2, r.stderr);
        assert.match(
          r.stderr,
          /^Cannot lock backup root: cannot open '.*lock' to write: Read-only file system .*: its disk is mounted read-only \(as a disk found with errors is remounted: the system's log says why\): mount it read-write, then run again\n$/,
        );
      }
      assert.equal((await fx.cli("ls")).code, 0);
      assert.equal((await fx.cli("verify")).code, 0);
    });
  },
});

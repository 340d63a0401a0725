/**
 * A source that is, by another path, the backup root, a folder in it or another source
 * (a bind mount on its mount point, or a source folder swapped for a symlink during a
 * watch): `run` refuses to start with nothing changed, and a watch leaves that source
 * unwalked, saying why, instead of backing the backup up into itself without end or taking
 * one source's files for another's. The bind mounts need root.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { listFiles, makeFixture, poll, runCli, writeTree } from "./helpers.ts";
import { DEADLINE_MS, WatchProcess } from "./watch_helpers.ts";

const WATCH = { watch: { debounce_ms: 200, rescan_interval: 0 } };
const command = (...args: string[]) =>
  new Deno.Command(args[0], { args: args.slice(1), stderr: "null" }).outputSync();
const stored = (root: string) => listFiles(root).filter((p) => !p.startsWith(".backup-tool/"));

Deno.test("watch: a source swapped for a symlink to the backup root is not backed up into it", async () => {
  using fx = makeFixture({ "a.txt": "a\n" }, WATCH);
  await using w = new WatchProcess(fx);
  await w.ready();
  const before = stored(fx.backup);
  Deno.renameSync(fx.source, `${fx.source}.old`);
  Deno.symlinkSync(fx.backup, fx.source);
  // Said within the root check's half minute at most (events usually say it at once).
  await poll(
    "the clash to be said",
    () => w.stderr.includes("it is the backup root"),
    2 * DEADLINE_MS,
  );
  assert.match(
    w.stderr,
    /Cannot back up source '.*source': it is the backup root '.*backup' by another path .*; its files are kept as they are/,
  );
  const exit = await w.stop();
  assert.deepEqual(stored(fx.backup), before, "nothing copied into the backup root");
  assert.ok(!fx.logLines().some((l) => /ARCHIVE DELETE|\.backup-tool~/.test(l)), exit.stderr);
});

Deno.test("watch: a source swapped for a symlink to another source is not taken for it", async () => {
  using fx = makeFixture({}, { ...WATCH, sources: ["./a", "./b"] });
  writeTree(join(fx.dir, "a"), { "f1.txt": "1\n" });
  writeTree(join(fx.dir, "b"), { "g1.txt": "g\n" });
  await using w = new WatchProcess(fx);
  await w.ready();
  Deno.renameSync(join(fx.dir, "b"), join(fx.dir, "b.old"));
  Deno.symlinkSync(join(fx.dir, "a"), join(fx.dir, "b"));
  await poll(
    "the clash to be said",
    () => w.stderr.includes("it is the same folder as source"),
    2 * DEADLINE_MS,
  );
  const passes = () => w.stdout.split("\n").filter((l) => l.includes(" failed")).length;
  const said = await poll("the clash's pass to end", () => passes() || undefined, DEADLINE_MS);
  writeTree(join(fx.dir, "a"), { "f2.txt": "2\n" });
  // Both are named (which one was swapped cannot be told), and neither is walked.
  await poll("a pass after the new file", () => passes() > said, DEADLINE_MS);
  const exit = await w.stop();
  const lines = fx.logLines();
  assert.ok(!lines.some((l) => /b\/f[12]\.txt/.test(l)), lines.join("\n"));
  assert.ok(!lines.some((l) => l.includes("ARCHIVE DELETE")), lines.join("\n"));
  assert.ok(listFiles(fx.backup).includes("_sources/b/g1.txt"), "b's copy is kept");
  assert.match(exit.stderr, /Cannot back up source '.*[/\\]a': it is the same folder as source/);
});

Deno.test({
  name:
    "run: a source that is the backup root or another source by a bind mount is refused, nothing changed",
  ignore: Deno.build.os !== "linux" || Deno.uid() !== 0, // mount --bind needs root
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" });
    assert.equal((await fx.cli("run", "-q")).code, 0);
    const before = listFiles(fx.backup);
    const logs = listFiles(fx.logs);
    assert.equal(command("mount", "--bind", fx.backup, fx.source).code, 0);
    try {
      for (const cmd of ["run", "plan"]) {
        const r = await fx.cli(cmd);
        assert.equal(r.code, 2, r.stdout + r.stderr);
        assert.match(
          r.stderr,
          /^Cannot back up source '.*source': it is the backup root '.*backup' by another path .*: unmount it or correct the config in '.*config\.jsonc'\n$/,
        );
      }
    } finally {
      command("umount", fx.source);
    }
    assert.deepEqual(listFiles(fx.backup), before);
    assert.deepEqual(listFiles(fx.logs), logs);
    // Two sources, one bind-mounted on the other's folder: refused before the backup root
    // is made.
    const [d, dm] = [join(fx.dir, "d"), join(fx.dir, "dm")];
    writeTree(d, { "q.txt": "q\n" });
    Deno.mkdirSync(dm);
    const config = join(fx.dir, "two.jsonc");
    Deno.writeTextFileSync(
      config,
      JSON.stringify({ sources: ["./d", "./dm"], backup_root: "./bk2" }),
    );
    assert.equal(command("mount", "--bind", d, dm).code, 0);
    try {
      const r = await runCli(["run", "--config", config]);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /it is the same folder as source '.*[/\\]d' by another path/);
    } finally {
      command("umount", dm);
    }
    assert.throws(() => Deno.statSync(join(fx.dir, "bk2")), Deno.errors.NotFound);
  },
});

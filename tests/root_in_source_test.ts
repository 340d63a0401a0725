/**
 * The backup root inside a source by another path (a bind mount of it there): never
 * backed up into itself, on a first backup (the staging worker walks that part) and on
 * the runs after it (the main thread's walk), each skip said in the log. Needs root for
 * `mount --bind`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { listFiles, makeFixture, writeTree } from "./helpers.ts";

const command = (...args: string[]) =>
  new Deno.Command(args[0], { args: args.slice(1), stderr: "null" }).outputSync();

Deno.test({
  name: "the backup root bind-mounted inside a source is never backed up into itself",
  ignore: Deno.build.os !== "linux" || Deno.uid() !== 0, // mount --bind needs root
  fn: async () => {
    const tree: Record<string, string> = {};
    // More files than the main thread handles before the staging worker takes over (1024).
    for (let i = 0; i < 1100; i++) tree[`a/f${i}.txt`] = `file ${i}\n`;
    using fx = makeFixture(tree);
    const view = join(fx.source, "view");
    Deno.mkdirSync(view);
    Deno.mkdirSync(fx.backup, { recursive: true });
    assert.equal(command("mount", "--bind", fx.backup, view).code, 0);
    try {
      const first = await fx.cli("run");
      assert.equal(first.code, 0, first.stdout + first.stderr);
      writeTree(fx.source, { "b.txt": "new\n" });
      const second = await fx.cli("run");
      assert.equal(second.code, 0, second.stdout + second.stderr);
      const stored = listFiles(fx.backup).filter((p) => !p.startsWith(".backup-tool/"));
      assert.deepEqual(stored.filter((p) => !p.startsWith("a/")), ["b.txt"]);
      assert.equal(stored.length, 1101);
      const logs = [...Deno.readDirSync(fx.logs)].map((e) => e.name).sort();
      assert.equal(logs.length, 2);
      for (const log of logs) {
        const text = Deno.readTextFileSync(join(fx.logs, log));
        assert.match(text, /SKIP BACKUP ROOT: .*view \(the backup root, by another path\)/);
      }
    } finally {
      command("umount", view);
    }
  },
});

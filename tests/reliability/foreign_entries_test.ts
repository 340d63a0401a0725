/**
 * Files and folders in the backup root that the tool did not put there (someone copied
 * them in, or the root was not empty to begin with) are never replaced and never block a
 * backup: a copy whose path one of them holds gets the next free name (`.~2`), `plan`
 * predicts that name, the foreign entries stay byte for byte as they were, `verify` names
 * them, and `restore` brings every copy back to its own source path.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, readTree, writeTree } from "../helpers.ts";
import { runTool } from "./util.ts";

const FOREIGN = {
  "a/y.txt": "someone else's y\n", // where a new file of a tracked folder goes
  "n/m/z.txt": "someone else's z\n", // in folders the state knows nothing of
  "q": "a file where a folder is needed\n",
  "w/inner.txt": "a folder where a file goes\n",
};

Deno.test("foreign entries in the backup root are left alone and never block a copy", async () => {
  using fx = makeFixture({ "a/x.txt": "x\n" });
  const run = (...args: string[]) => runTool([...args, "--config", fx.config]);
  assert.equal((await run("run")).code, 0);
  writeTree(fx.backup, FOREIGN);
  writeTree(fx.source, {
    "a/y.txt": "my y\n",
    "n/m/z.txt": "my z\n",
    "q/w.txt": "my q/w\n",
    "w": "my w\n",
  });

  const plan = await run("plan", "--json");
  assert.equal(plan.code, 0, plan.stderr);
  const targets = Object.fromEntries(
    JSON.parse(plan.stdout).actions.filter((a: { type: string }) => a.type === "backup")
      .map((a: { path: string; target: string }) => [a.path, a.target]),
  );
  const expected = {
    "source/a/y.txt": "a/y.txt.~2",
    "source/n/m/z.txt": "n/m/z.txt.~2",
    "source/q/w.txt": "q.~2/w.txt",
    "source/w": "w.~2",
  };
  assert.deepEqual(targets, expected);

  const r = await run("run");
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.equal(r.stderr, "");
  const stored = readTree(fx.backup);
  for (const [path, content] of Object.entries(FOREIGN)) assert.equal(stored[path], content);
  assert.equal(stored["a/y.txt.~2"], "my y\n");
  assert.equal(stored["n/m/z.txt.~2"], "my z\n");
  assert.equal(stored["q.~2/w.txt"], "my q/w\n");
  assert.equal(stored["w.~2"], "my w\n");

  const again = await run("run");
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /0 new, 0 updated, 0 duplicate, 5 unchanged/);
  const verify = await run("verify");
  assert.equal(verify.code, 1);
  for (const path of Object.keys(FOREIGN)) {
    assert.match(verify.stdout + verify.stderr, new RegExp(path));
  }

  const to = join(fx.dir, "restored");
  const restore = await run("restore", "--to", to);
  assert.equal(restore.code, 0, `${restore.stdout}\n${restore.stderr}`);
  assert.deepEqual(readTree(to), readTree(fx.source));
});

Deno.test("a stored symlink loop replaced by a folder of the same name is backed up at once", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n" });
  Deno.symlinkSync("dir", join(fx.source, "dir")); // a loop: it points at itself
  const run = () => runTool(["run", "--config", fx.config]);
  assert.equal((await run()).code, 0);
  Deno.removeSync(join(fx.source, "dir"));
  writeTree(fx.source, { "dir/sub/c.txt": "in the folder\n" });
  const r = await run();
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "dir/sub/c.txt")), "in the folder\n");
  assert.ok(Deno.lstatSync(join(fx.backup, "_deleted/dir")).isSymlink);
});

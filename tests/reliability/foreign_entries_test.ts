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
import { cloneDir, readState, runTool } from "./util.ts";

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

Deno.test("a hard link of a stored copy put where a folder of its archive path goes is gone around", async () => {
  // Another name of the copy's own file is taken for the copy only as the move's final
  // name (a move interrupted after its link); on the way it is a file like any other
  // (it was not: mkdir failed with "File exists" on every run, and a.txt never changed).
  using fx = makeFixture({ "a.txt": "a1\n", "gone.txt": "gone\n" });
  const run = (...args: string[]) => runTool([...args, "--config", fx.config]);
  assert.equal((await run("run")).code, 0);
  Deno.mkdirSync(join(fx.backup, "versions"));
  Deno.linkSync(join(fx.backup, "a.txt"), join(fx.backup, "versions/a.txt"));
  Deno.linkSync(join(fx.backup, "gone.txt"), join(fx.backup, "_deleted"));
  writeTree(fx.source, { "a.txt": "a2\n" });
  Deno.removeSync(join(fx.source, "gone.txt"));
  await assertBackedUp(run, fx.backup, {
    "a.txt": "a2\n",
    "versions/a.txt.~2/v1.bak": "a1\n",
    "_deleted.~2/gone.txt": "gone\n",
    "versions/a.txt": "a1\n", // the foreign links, left as they were
    "_deleted": "gone\n",
  });
  assert.equal((await run("run")).code, 0);
});

Deno.test("a source folder turned into a file of its name, its copy's folder holding a foreign file", async () => {
  // The folder's copies all move to _deleted, but the file put there by hand keeps the
  // folder: the new file takes the next free name (it was planned at the folder's own
  // name, and the move failed: "the target already exists").
  using fx = makeFixture({ "del/z.txt": "z\n", "a.txt": "a\n" });
  const run = (...args: string[]) => runTool([...args, "--config", fx.config]);
  assert.equal((await run("run")).code, 0);
  writeTree(fx.backup, { "del/foreign.txt": "mine\n" });
  Deno.removeSync(join(fx.source, "del"), { recursive: true });
  writeTree(fx.source, { "del": "now a file\n" });
  await assertBackedUp(run, fx.backup, {
    "del/foreign.txt": "mine\n",
    "del.~2": "now a file\n",
    "_deleted/del/z.txt": "z\n",
  });
});

/** Runs a backup, which must succeed, and checks what the backup root then holds at `expected`'s paths. */
async function assertBackedUp(
  run: (...args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>,
  backup: string,
  expected: Record<string, string>,
): Promise<void> {
  const r = await run("run");
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const stored = readTree(backup);
  for (const [path, content] of Object.entries(expected)) assert.equal(stored[path], content, path);
}

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

Deno.test("symlinks and folders put in place of stored copies never lead the tool outside the backup root", async () => {
  using fx = makeFixture({
    "sub/x.txt": "x v1\n",
    "sub/y.txt": "y v1\n",
    "c.txt": "c\n",
    "q.txt": "q v1\n",
    ...Object.fromEntries([1, 2, 3, 4, 5, 6].map((i) => [`k${i}.txt`, `k${i}\n`])),
  });
  const run = (...args: string[]) => runTool([...args, "--config", fx.config]);
  assert.equal((await run("run")).code, 0);
  const outside = join(fx.dir, "outside");
  writeTree(outside, { "x.txt": "USER X\n", "y.txt": "USER Y\n", "f": "precious\n" });
  Deno.chmodSync(join(outside, "f"), 0o600);
  Deno.utimeSync(join(outside, "f"), new Date(2001, 0, 1), new Date(2001, 0, 1));
  const before = readTree(outside, []);
  // Someone replaces a stored folder and a stored copy by symlinks, another copy by a folder.
  Deno.removeSync(join(fx.backup, "sub"), { recursive: true });
  Deno.symlinkSync(outside, join(fx.backup, "sub"));
  Deno.removeSync(join(fx.backup, "c.txt"));
  Deno.symlinkSync(join(outside, "f"), join(fx.backup, "c.txt"));
  Deno.removeSync(join(fx.backup, "q.txt"));
  writeTree(fx.backup, { "q.txt/note": "mine\n" });
  for (const k of ["k2.txt", "k3.txt"]) {
    Deno.removeSync(join(fx.backup, k));
    Deno.symlinkSync(join(outside, "f"), join(fx.backup, k));
  }
  // Then the sources change: a modification, a deletion, a metadata change, a modification,
  // and a modification and a deletion of files whose copies are symlinks now.
  writeTree(fx.source, { "sub/x.txt": "x v2\n", "q.txt": "q v2\n", "k2.txt": "k2 v2\n" });
  Deno.removeSync(join(fx.source, "sub/y.txt"));
  Deno.removeSync(join(fx.source, "k3.txt"));
  Deno.chmodSync(join(fx.source, "c.txt"), 0o755);
  Deno.utimeSync(join(fx.source, "c.txt"), new Date(2030, 0, 1), new Date(2030, 0, 1));

  const r = await run("run");
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  // The metadata change re-reads c.txt: its copy goes to the next free name, not through
  // the symlink, which stays.
  assert.match(r.stderr, /WARNING: source\/c.txt: Its copy's place 'c.txt' holds something else/);
  assert.doesNotMatch(r.stderr, /ERROR/);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "c.txt.~2")), "c\n");
  assert.equal(Deno.statSync(join(fx.backup, "c.txt.~2")).mode! & 0o777, 0o755);
  assert.deepEqual(readTree(outside, []), before, "nothing outside the backup root changed");
  const f = Deno.statSync(join(outside, "f"));
  assert.equal(f.mode! & 0o777, 0o600);
  assert.equal(f.mtime?.getTime(), new Date(2001, 0, 1).getTime());
  assert.ok(Deno.lstatSync(join(fx.backup, "sub")).isSymlink, "the symlink is left alone");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "q.txt/note")), "mine\n");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "sub.~2/x.txt")), "x v2\n");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "q.txt.~2")), "q v2\n");
  // The symlinks in place of k2's and k3's copies are neither archived nor moved to _deleted/.
  assert.equal(Deno.readTextFileSync(join(fx.backup, "k2.txt.~2")), "k2 v2\n");
  for (const k of ["k2.txt", "k3.txt"]) {
    assert.ok(Deno.lstatSync(join(fx.backup, k)).isSymlink, `${k}: the symlink is left alone`);
  }
  for (const moved of ["_deleted", "versions"]) {
    assert.throws(() => Deno.lstatSync(join(fx.backup, moved)), Deno.errors.NotFound);
  }
  const lost = readState(fx.backup).copies.filter((c) => c.location === "lost").map((c) => c.path);
  assert.deepEqual(lost.sort(), [
    "source/k2.txt",
    "source/k3.txt",
    "source/q.txt",
    "source/sub/x.txt",
    "source/sub/y.txt",
  ]);

  // A copy replaced by a symlink after the run: repair makes the copy at the next free name
  // and leaves the symlink, as a run does (above, c.txt); outside stays as it was.
  Deno.removeSync(join(fx.backup, "k1.txt"));
  Deno.symlinkSync(join(outside, "f"), join(fx.backup, "k1.txt"));
  const repair = await run("verify", "--repair");
  assert.match(repair.stdout, /REPAIRED: k1.txt .*; made at 'k1.txt.~2', something put there/);
  // What stands there is no copy now: unknown, as the next verify says too (exit 1 both).
  assert.equal(repair.code, 1, repair.stdout + repair.stderr);
  assert.match(repair.stderr, /^UNKNOWN: k1\.txt /m);
  const after = JSON.parse((await run("verify", "--json")).stdout);
  assert.deepEqual(
    after.unknown.map((u: { file: string }) => u.file).sort(),
    ["c.txt", "k1.txt", "k2.txt", "k3.txt", "q.txt/note", "sub"], // all put there by hand
  );
  assert.doesNotMatch(repair.stdout, /REPAIRED: c.txt/);
  assert.deepEqual(readTree(outside, []), before);
  assert.ok(Deno.lstatSync(join(fx.backup, "k1.txt")).isSymlink, "the symlink is left alone");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "k1.txt.~2")), "k1\n");
  assert.ok(Deno.lstatSync(join(fx.backup, "c.txt")).isSymlink);
  const next = await run("run");
  assert.equal(next.code, 0, `${next.stdout}\n${next.stderr}`);
  assert.deepEqual(readTree(outside, []), before);
});

Deno.test("an unchanged file whose copy's place holds something else is copied to the next free name, even across a crash", async () => {
  const base = makeFixture({ "a.txt": "a\n", "d/b.txt": "b\n", "keep.txt": "keep\n" });
  const run = (config: string, env: Record<string, string> = {}, ...args: string[]) =>
    runTool(["run", ...args, "--config", config], { env });
  try {
    assert.equal((await run(base.config)).code, 0);
    // Someone puts a folder where a.txt's copy was, and a file in place of folder d; then
    // both sources are touched (same content), so the next run reads them again.
    Deno.removeSync(join(base.backup, "a.txt"));
    writeTree(base.backup, { "a.txt/note": "mine\n" });
    Deno.removeSync(join(base.backup, "d"), { recursive: true });
    writeTree(base.backup, { "d": "a file where folder d was\n" });
    const later = new Date(Date.now() + 3_600_000);
    for (const p of ["a.txt", "d/b.txt"]) Deno.utimeSync(join(base.source, p), later, later);

    const plan = await runTool(["plan", "--config", base.config]);
    assert.match(plan.stdout, /RECOPIED: source\/a.txt → backup\/a.txt.~2 \(something else/);
    assert.match(plan.stdout, /RECOPIED: source\/d\/b.txt → backup\/d.~2\/b.txt/);

    for (const point of ["", "journaled:1", "linked:1", "linked:2", "executed:1"]) {
      const dir = Deno.makeTempDirSync({ prefix: "bt-relocate-" });
      try {
        await cloneDir(base.dir, join(dir, "case"));
        const config = join(dir, "case", "config.jsonc");
        const backup = join(dir, "case", "backup");
        if (point) {
          const crashed = await run(config, { BACKUP_TOOL_FAULT: point });
          assert.equal(crashed.code, 137, `${point}: ${crashed.stderr}`);
        }
        const r = await run(config);
        const context = `${point || "no crash"}: ${r.stdout}\n${r.stderr}`;
        assert.notEqual(r.code, 2, context);
        assert.doesNotMatch(r.stderr, /ERROR/, context);
        const stored = readTree(backup);
        assert.equal(stored["a.txt/note"], "mine\n", context);
        assert.equal(stored["d"], "a file where folder d was\n", context);
        assert.equal(stored["a.txt.~2"], "a\n", context);
        assert.equal(stored["d.~2/b.txt"], "b\n", context);
        assert.equal(Deno.statSync(join(backup, "a.txt.~2")).mtime?.getTime(), later.getTime());
        const copies = readState(backup).copies.map((c) => c.stored_at).sort();
        assert.deepEqual(copies, ["a.txt.~2", "d.~2/b.txt", "keep.txt"], context);
        const again = await run(config);
        assert.equal(again.code, 0, `${context}\n${again.stdout}\n${again.stderr}`);
        assert.match(again.stdout, /0 new, 0 updated, 0 duplicate, 3 unchanged/);
        const to = join(dir, "restored");
        const restore = await runTool(["restore", "--to", to, "--config", config]);
        assert.equal(restore.code, 0, restore.stderr);
        assert.deepEqual(readTree(to), readTree(base.source));
      } finally {
        Deno.removeSync(dir, { recursive: true });
      }
    }
  } finally {
    base[Symbol.dispose]();
  }
});

Deno.test("verify --repair makes a copy whose place holds a folder put there by hand at the next free name", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "d/b.txt": "b\n", "k.txt": "k\n" });
  const cli = (...args: string[]) => runTool([...args, "--config", fx.config]);
  assert.equal((await cli("run")).code, 0);
  assert.equal((await cli("run")).code, 0); // fingerprints trusted: the next run reads nothing
  Deno.removeSync(join(fx.backup, "a.txt"));
  writeTree(fx.backup, { "a.txt/mine.txt": "mine\n" });
  Deno.removeSync(join(fx.backup, "d"), { recursive: true });
  writeTree(fx.backup, { "d": "a file where folder d was\n" });

  // Killed while placing the first copy: recorded first, so no stray copy is left.
  const killed = await runTool(["verify", "--repair", "--config", fx.config], {
    env: { BACKUP_TOOL_FAULT: "linked:1" },
  });
  assert.equal(killed.code, 137, killed.stderr);
  const repair = await cli("verify", "--repair");
  assert.equal(repair.code, 1, `${repair.stdout}\n${repair.stderr}`); // the foreign entries stay
  assert.doesNotMatch(repair.stdout, /a\.txt\.~3/);
  assert.match(repair.stdout, /REPAIRED: d\/b.txt \(source\/d\/b.txt v1\) .*made at 'd.~2\/b.txt'/);
  const stored = readTree(fx.backup);
  assert.equal(stored["a.txt.~2"], "a\n");
  assert.equal(stored["d.~2/b.txt"], "b\n");
  assert.equal(stored["a.txt/mine.txt"], "mine\n");
  assert.equal(stored["d"], "a file where folder d was\n");
  const verify = await cli("verify");
  assert.match(verify.stdout, /0 missing, 0 changed, 2 unknown/);
  const to = join(fx.dir, "restored");
  assert.equal((await cli("restore", "--to", to)).code, 0);
  assert.deepEqual(readTree(to), readTree(fx.source));
  const run = await cli("run");
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /0 new, 0 updated, 0 duplicate, 3 unchanged/);
});

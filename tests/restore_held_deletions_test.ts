/**
 * End-to-end tests, through the real CLI, of what `restore` and `history` say of deletions
 * the mass-deletion guard held back (`safety.max_delete_percent`): the files a run found
 * gone stay current in the backup, so a restore of a moment since gives them back beside
 * what replaced them (a folder renamed: both names), and says so in one warning.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture } from "./helpers.ts";
import { ok } from "./restore_helpers.ts";
import { WatchProcess } from "./watch_helpers.ts";

/** A folder `d/` renamed to `e/d/` while the guard holds: run 2 held back 3 deletions. */
async function renamedWhileHeld() {
  const fx = makeFixture({ "k.txt": "k\n", "d/a.txt": "a\n", "d/b.txt": "b\n", "d/c.txt": "c\n" });
  await ok(fx, "run");
  Deno.mkdirSync(join(fx.source, "e"));
  Deno.renameSync(join(fx.source, "d"), join(fx.source, "e", "d"));
  const held = await fx.cli("run");
  assert.equal(held.code, 1, held.stderr);
  assert.match(held.stderr, /Deletions held back/);
  return fx;
}

const HELD_LINE =
  /^WARNING: run 2 \(started \S+Z\) held back 3 deletions \(safety\.max_delete_percent\): the files it found gone are restored as they were before it; run with --force to archive them, or restore with --at before \S+Z$/m;

Deno.test("a restore of a moment after a run whose deletions the guard held back says so, in one line", async () => {
  using fx = await renamedWhileHeld();
  const out = join(fx.dir, "out");
  const r = await fx.cli("restore", "--at", new Date().toISOString(), "--to", out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, HELD_LINE);
  assert.equal(r.stderr.match(/^WARNING:/gm)?.length, 1, r.stderr);
  // The tree that never existed, as the warning says: both names.
  assert.ok(Deno.statSync(join(out, "d", "a.txt")).isFile);
  assert.ok(Deno.statSync(join(out, "e", "d", "a.txt")).isFile);
  // The latest contents too; a moment before that run, not.
  const latest = await fx.cli("restore", "--to", join(fx.dir, "latest"));
  assert.match(latest.stderr, HELD_LINE);
  const started = HELD_LINE.exec(r.stderr)![0].match(/before (\S+Z)$/)![1];
  const before = await fx.cli("restore", "--at", started, "--to", join(fx.dir, "before"));
  assert.equal(before.code, 0, before.stderr);
  assert.doesNotMatch(before.stderr, /held back/);
});

Deno.test("once a run with --force archives the held-back deletions, a restore of a moment since says nothing of them", async () => {
  using fx = await renamedWhileHeld();
  await ok(fx, "run", "--force");
  const r = await fx.cli("restore", "--to", join(fx.dir, "out"));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  // A moment between the two runs still gets it.
  const runs = JSON.parse(await ok(fx, "history", "--json")).runs;
  const r2 = await fx.cli("restore", "--at", runs[1].endedAt, "--to", join(fx.dir, "mid"));
  assert.match(r2.stderr, HELD_LINE);
});

Deno.test("history of a file whose deletion may be held back says so", async () => {
  using fx = await renamedWhileHeld();
  const r = await fx.cli("history", "d/a.txt");
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /^WARNING: run 2 \(started \S+Z\) held back 3 deletions \(safety\.max_delete_percent\): if 'source\/d\/a\.txt' is one of the files it found gone, its content shown current is the one it had before; run with --force to archive them$/m,
  );
});

Deno.test("a watch session ends the warning once its full pass archives the deletions, and gives it where its guard holds them", async () => {
  using fx = await renamedWhileHeld();
  const watch = async () => {
    await using w = new WatchProcess(fx);
    await w.ready();
    const exit = await w.stop();
    return exit;
  };
  // Its first full pass counts e/d/ too: 3 of 7, under the limit, archived.
  await watch();
  const after = await fx.cli("restore", "--to", join(fx.dir, "out"));
  assert.equal(after.code, 0, after.stderr);
  assert.equal(after.stderr, "");
  // Most of the source gone while a session watches it: held back, and said so.
  for (const f of ["a", "b", "c"]) Deno.removeSync(join(fx.source, "e", "d", `${f}.txt`));
  await watch();
  const held = await fx.cli("restore", "--to", join(fx.dir, "held"));
  assert.match(held.stderr, /^WARNING: run 4 \(started \S+Z\) held back 3 deletions /m);
});

Deno.test("restore --json names the runs that held deletions back in its document, not on stderr", async () => {
  using fx = await renamedWhileHeld();
  const r = await fx.cli("restore", "--to", join(fx.dir, "out"), "--json");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.heldBack.length, 1, r.stdout);
  const [held] = doc.heldBack;
  assert.deepEqual([held.run, held.deletions], [2, 3]);
  assert.match(held.startedAt, /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
  // None held: no field.
  await ok(fx, "run", "--force");
  const after = await fx.cli("restore", "--to", join(fx.dir, "after"), "--json");
  assert.equal(JSON.parse(after.stdout).heldBack, undefined);
});

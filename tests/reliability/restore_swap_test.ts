/**
 * A folder on a restore's way swapped for a symlink while the restore writes (what a user
 * whose files root restores in place could do, to steer root's writes anywhere): nothing
 * lands outside the restore's folder, not through a folder the restore made itself, not
 * through one that existed. The restore is held at a pause point (BACKUP_TOOL_PAUSE)
 * while it writes, the folder is renamed away and a symlink put in its place.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, outputWithin } from "../helpers.ts";
import { listDir, pausedRun } from "./util.ts";

/**
 * More files than a restore batch (512, batches.ts), and the pause in the second: the
 * first batch's files are flushed when the folder is swapped, so the flush cannot fail
 * on them and hide what happens to the files written after.
 */
const FILES = Object.fromEntries(
  Array.from({ length: 600 }, (_, i) => [`home/newdir/f${i}.txt`, `file ${i}\n`]),
);
const PAUSE_AT = "restoring:560";

const baseName = (path: string) => path.split("/").pop()!;

for (const existing of [false, true]) {
  const how = existing ? "a folder that exists (--overwrite)" : "a folder the restore made";
  Deno.test(`restore: ${how} swapped for a symlink mid-restore sends nothing outside`, async () => {
    using fx = makeFixture({ ...FILES, "home/keep.txt": "kept\n" });
    assert.equal((await fx.cli("run")).code, 0);
    const newdir = join(fx.source, "home", "newdir");
    if (existing) {
      for (const name of Object.keys(FILES)) {
        Deno.writeTextFileSync(join(fx.source, name), "changed since\n");
      }
    } else {
      Deno.removeSync(newdir, { recursive: true });
    }
    // What the link leads to: a folder of someone else's, with names the restore would
    // replace (--overwrite) or not.
    const target = join(fx.dir, "target");
    Deno.mkdirSync(target);
    const theirs = ["victim.txt", ...existing ? Object.keys(FILES).map(baseName) : []].sort();
    for (const name of theirs) Deno.writeTextFileSync(join(target, name), "not yours\n");

    const args = ["restore", "home", "--config", fx.config, ...existing ? ["--overwrite"] : []];
    await using paused = await pausedRun(args, PAUSE_AT, fx.dir);
    const { child, resume } = paused;
    Deno.renameSync(newdir, join(fx.source, "home", "moved"));
    Deno.symlinkSync(target, newdir);
    resume();
    const out = await child.output();
    const stderr = new TextDecoder().decode(out.stderr);

    // Outside: untouched, nothing added.
    assert.deepEqual(listDir(target), theirs);
    for (const name of theirs) {
      assert.equal(Deno.readTextFileSync(join(target, name)), "not yours\n", name);
    }
    // Files not put in place are named (exit 1), and the link is still a link.
    assert.equal(out.code, 1, stderr);
    assert.match(stderr, /NOT RESTORED: source\/home\/newdir\/f\d\.txt/);
    assert.ok(Deno.lstatSync(newdir).isSymlink);
  });
}

Deno.test("restore: a temporary file swapped for a FIFO before its flush does not hang the restore", async () => {
  using fx = makeFixture({ "d/a.txt": "a\n", "d/b.txt": "b\n", "d/c.txt": "c\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const d = join(fx.source, "d");
  Deno.removeSync(d, { recursive: true });
  const args = ["restore", "--config", fx.config];
  // Two files written to temporary names, the third about to be: none flushed yet.
  await using paused = await pausedRun(args, "restoring:3", fx.dir);
  const { child, resume } = paused;
  try {
    const tmp = listDir(d).find((n) => n.startsWith(".backup-tool-restore-"));
    assert.ok(tmp !== undefined, `no temporary file in ${listDir(d)}`);
    Deno.renameSync(join(d, tmp), join(fx.dir, "moved-away"));
    const made = new Deno.Command("mkfifo", { args: [join(d, tmp)] }).outputSync();
    assert.equal(made.code, 0);
  } finally {
    resume();
  }
  const out = await outputWithin(child, 30_000);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.signal, null, "the restore hung on the FIFO");
  assert.equal(out.code, 1, stderr);
  assert.match(
    stderr,
    /NOT RESTORED: source\/d\/\w\.txt \(v1\): Cannot flush .*: it is not a file now/,
  );
});

Deno.test("restore in place: a source folder swapped for a symlink since the last run is refused", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "sub/b.txt": "b\n" });
  // The config reaches the source through a symlink, as a user's own link may.
  const real = join(fx.dir, "real-source");
  Deno.renameSync(fx.source, real);
  Deno.symlinkSync(real, fx.source);
  assert.equal((await fx.cli("run")).code, 0);
  // Pointed elsewhere since (by whoever may write the folder holding the link).
  const elsewhere = join(fx.dir, "elsewhere");
  Deno.mkdirSync(elsewhere);
  Deno.removeSync(fx.source);
  Deno.symlinkSync(elsewhere, fx.source);
  const r = await fx.cli("restore");
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /in place: '.*source' now leads to '.*elsewhere', not to '.*real-source'/);
  assert.deepEqual(listDir(elsewhere), []);
  // --to still restores, and a run (which finds the source where it is now) ends the refusal.
  assert.equal((await fx.cli("restore", "--to", join(fx.dir, "out"))).code, 0);
});

Deno.test("restore: a folder it made, replaced by another before its mode is set, is left alone", async () => {
  using fx = makeFixture({ "proj/a/secret": "s\n", "proj/z.txt": "z\n" });
  Deno.chmodSync(join(fx.source, "proj/a"), 0o755);
  assert.equal((await fx.cli("run")).code, 0);
  Deno.removeSync(join(fx.source, "proj/a"), { recursive: true });
  // Someone's private folder, put where the restore made proj/a.
  const other = join(fx.source, "proj/other");
  Deno.mkdirSync(other);
  Deno.chmodSync(other, 0o700);
  const args = ["restore", "--config", fx.config];
  await using paused = await pausedRun(args, "restoring:2", fx.dir); // proj/a made, z next
  const { child, resume } = paused;
  try {
    Deno.renameSync(join(fx.source, "proj/a"), join(fx.dir, "a-moved"));
    Deno.renameSync(other, join(fx.source, "proj/a"));
  } finally {
    resume();
  }
  const out = await child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1, stderr);
  assert.equal(Deno.statSync(join(fx.source, "proj/a")).mode! & 0o777, 0o700, "its mode was set");
  assert.match(stderr, /WARNING: .*proj\/a: .*replaced since the restore made it/);
});

Deno.test("restore: a temporary file swapped for a symlink before it is placed is never placed", async () => {
  // Over 64 files: the batch is flushed by one syncfs where trusted, opening no file by name.
  const tree = Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`d/f${i}.txt`, `${i}\n`]));
  using fx = makeFixture(tree);
  assert.equal((await fx.cli("run")).code, 0);
  const d = join(fx.source, "d");
  Deno.removeSync(d, { recursive: true });
  const outside = join(fx.dir, "outside.txt");
  Deno.writeTextFileSync(outside, "not the restore's\n");
  await using paused = await pausedRun(
    ["restore", "--config", fx.config],
    "restoring:70",
    fx.dir,
  );
  const { child, resume } = paused;
  let swapped: string;
  try {
    swapped = listDir(d).find((n) => n.startsWith(".backup-tool-restore-"))!;
    Deno.removeSync(join(d, swapped));
    Deno.symlinkSync(outside, join(d, swapped));
  } finally {
    resume();
  }
  const out = await child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1, stderr);
  assert.match(stderr, /NOT RESTORED: source\/d\/f\d+\.txt/);
  for (const name of listDir(d)) {
    assert.ok(!Deno.lstatSync(join(d, name)).isSymlink || name === swapped, `${name} is a symlink`);
  }
  assert.equal(Deno.readTextFileSync(outside), "not the restore's\n");
});

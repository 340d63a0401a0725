/**
 * End-to-end tests of `restore` when something is lost or damaged, through the real CLI: a
 * damaged stored copy is never put at a final name; a lost source folder (gone, dangling
 * through a symlink, a file in its place) still restores, and history and verify work; a
 * stored copy missing or damaged is read from another copy of the same bytes, a symlink's
 * from the target the state records, with a warning; a config whose log_dir lies in the
 * backup root still restores.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, writeConfig } from "./helpers.ts";
import { listHidden, ok, put, snapshot } from "./restore_helpers.ts";

Deno.test("a damaged stored copy is not restored: no file appears at the final name", async () => {
  using fx = makeFixture({});
  put(fx.source, { "a.txt": "precious\n" });
  await ok(fx, "run");
  Deno.writeTextFileSync(join(fx.backup, "a.txt"), "precioux\n");
  const out = join(fx.dir, "out");
  Deno.mkdirSync(out); // there before: kept, and looked into (one made for it would go)
  const r = await fx.cli("restore", "--to", out);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /does not match its recorded sha256 digest/);
  assert.deepEqual(listHidden(out), []);
  assert.deepEqual([...Deno.readDirSync(out)], []);
});

Deno.test("a config with log_dir inside the backup root still restores; only writers refuse it", async () => {
  using fx = makeFixture({});
  put(fx.source, { "a.txt": "a\n" });
  await ok(fx, "run");
  const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
  writeConfig(fx.config, { ...cfg, log_dir: "./backup/logs" }); // allowed before 2026-12-01
  const to = join(fx.dir, "restored");
  const restore = await fx.cli("restore", "--to", to);
  assert.equal(restore.code, 0, restore.stderr);
  assert.equal(Deno.readTextFileSync(join(to, "a.txt")), "a\n");
  assert.equal((await fx.cli("history", "a.txt")).code, 0);
  // Run logs it wrote there before are not unknown files to verify; anything else is.
  put(fx.backup, { "logs/2026-11-30T10-00-00.000Z-run.log": "an old run's log\n" });
  const verify = await fx.cli("verify");
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  put(fx.backup, { "logs/notes.txt": "not a log\n" });
  assert.match((await fx.cli("verify")).stderr, /UNKNOWN: logs\/notes.txt/);
  const run = await fx.cli("run");
  assert.equal(run.code, 2);
  assert.match(run.stderr, /'log_dir' .* is inside 'backup_root'/);
  assert.equal(run.stderr.trim().split("\n").length, 1);
});

Deno.test("a lost source folder: restore (in place too), history and verify still work; run refuses", async () => {
  using fx = makeFixture({});
  put(fx.source, { "taxes/2025.pdf": "2025 return\n", "cv.odt": "cv\n" });
  await ok(fx, "run");
  const before = snapshot(fx.source);
  Deno.removeSync(fx.source, { recursive: true }); // the disk died
  const run = await fx.cli("run");
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /does not exist/);
  assert.match(await ok(fx, "history", "taxes/2025.pdf"), /v1/);
  assert.match(await ok(fx, "verify"), /intact/);
  await ok(fx, "restore", "--to", join(fx.dir, "recovered"));
  assert.deepEqual(snapshot(join(fx.dir, "recovered")), before);
  await ok(fx, "restore");
  assert.deepEqual(snapshot(fx.source), before);
});

Deno.test("a lost source reached through a symlink, or with a file where its folder was: still restores", async () => {
  using fx = makeFixture({});
  const disk = join(fx.dir, "disk", "photos");
  Deno.mkdirSync(disk, { recursive: true });
  put(disk, { "a.jpg": "pic\n" });
  Deno.symlinkSync(disk, join(fx.dir, "photos"));
  writeConfig(fx.config, { sources: ["./photos"], backup_root: "./backup", log_dir: "./logs" });
  await ok(fx, "run");
  Deno.removeSync(join(fx.dir, "disk"), { recursive: true }); // ./photos now dangles
  assert.match(await ok(fx, "history", "a.jpg"), /v1/);
  await ok(fx, "restore", "--to", join(fx.dir, "r1"));
  assert.equal(Deno.readTextFileSync(join(fx.dir, "r1", "a.jpg")), "pic\n");
  Deno.removeSync(join(fx.dir, "photos"));
  Deno.writeTextFileSync(join(fx.dir, "photos"), "a file where the source was\n");
  await ok(fx, "verify");
  await ok(fx, "restore", "--to", join(fx.dir, "r2"));
  assert.equal(Deno.readTextFileSync(join(fx.dir, "r2", "a.jpg")), "pic\n");
});

Deno.test("a stored copy missing or damaged before any run saw it: restored from another copy of the same bytes, with a warning", async () => {
  using fx = makeFixture({});
  put(fx.source, { "A": "thesis chapter 1\n", "copy_of_A": "thesis chapter 1\n", "O": "o\n" });
  await ok(fx, "run");
  const before = snapshot(fx.source);
  Deno.removeSync(fx.source, { recursive: true }); // the source disk is gone...
  Deno.writeTextFileSync(join(fx.backup, "A"), "rotted\n"); // ...and A's copy rotted
  const out = join(fx.dir, "r1");
  const r = await fx.cli("restore", "--to", out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /^WARNING: source\/A \(v1\): its copy 'A' is missing or damaged: read from '_duplicates\/copy_of_A'/m,
  );
  assert.deepEqual(snapshot(out), before);
  Deno.removeSync(join(fx.backup, "A")); // or gone altogether
  const json = JSON.parse(
    (await fx.cli("restore", "A", "--to", join(fx.dir, "r2"), "--json")).stdout,
  );
  assert.equal(json.exitCode, 0);
  assert.match(json.restored[0].warning, /read from '_duplicates\/copy_of_A'/);
  assert.equal(Deno.readTextFileSync(join(fx.dir, "r2", "A")), "thesis chapter 1\n");
  // verify --repair makes A's copy again from its twin, the source folder lost as it is.
  const repair = await fx.cli("verify", "--repair");
  assert.equal(repair.code, 0, repair.stdout + repair.stderr);
  assert.match(
    repair.stdout,
    /REPAIRED: A \(source\/A v1\) from stored copy '_duplicates\/copy_of_A'/,
  );
  assert.equal(Deno.readTextFileSync(join(fx.backup, "A")), "thesis chapter 1\n");
});

Deno.test("a symlink whose stored link is missing is restored from the target the state records; odd names stay one line", async () => {
  using fx = makeFixture({});
  put(fx.source, { "docs/report.odt": "report\n", "a\nb": "x\n" });
  Deno.symlinkSync("docs/report.odt", join(fx.source, "link"));
  await ok(fx, "run");
  Deno.removeSync(join(fx.backup, "link"));
  const out = join(fx.dir, "r");
  const r = await fx.cli("restore", "--to", out);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(Deno.readLinkSync(join(out, "link")), "docs/report.odt");
  assert.match(
    r.stderr,
    /^WARNING: source\/link \(v1\): .*read from the target the state records/m,
  );
  // A newline in a name is escaped, as in the log: one line per file.
  assert.ok(
    r.stdout.split("\n").some((l) => l.startsWith("RESTORED: source/a\\nb (v1)")),
    r.stdout,
  );
  assert.equal(r.stdout.trim().split("\n").length, 4, r.stdout); // 3 files and the summary
});

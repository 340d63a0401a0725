/**
 * An `exclude` added to the config after files were backed up: what a run (and the plan
 * before it) says about the copies it leaves in place, through the real CLI.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  fingerprint,
  type Fixture,
  makeFixture,
  runProgram,
  toolCommand,
  writeConfig,
  writeTree,
} from "./helpers.ts";

/** `*.tmp` added to the fixture's config's exclude patterns. */
function excludeTmp(fx: Fixture): void {
  writeConfig(fx.config, {
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    exclude: ["*.tmp"],
  });
}

Deno.test("run and plan: the summary says newly excluded files are no longer backed up and their copies stay in the backup root", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "x.tmp": "x\n", "y.tmp": "y\n" });
  assert.equal((await fx.cli("run")).code, 0);
  excludeTmp(fx);
  const line = (where: string) =>
    "\n2 file(s) newly excluded: no longer backed up; their copies stay where they are in the " +
    `backup root (${where}; 'purge PATH --config ${fx.config}' deletes them)\n`;
  const plan = await fx.cli("plan");
  assert.equal(plan.code, 0, plan.stderr);
  assert.ok(plan.stdout.includes(line("the EXCLUDED: lines above name each")), plan.stdout);
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes(line("the log's EXCLUDED: lines name each")), r.stdout);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "x.tmp")), "x\n");
  assert.ok(
    fx.lastLog().includes("EXCLUDED: source/y.tmp (now excluded; its copy stays at backup/y.tmp)"),
  );
  // Said once: the next run finds them excluded already.
  const again = await fx.cli("run");
  assert.doesNotMatch(again.stdout, /newly excluded/);
});

Deno.test("run: a file newly excluded whose copy is missing is warned about, not said kept", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "x.tmp": "kept\n", "y.tmp": "lost\n" });
  assert.equal((await fx.cli("run")).code, 0);
  Deno.removeSync(join(fx.backup, "y.tmp")); // removed by hand, or a disk fault
  excludeTmp(fx);
  const r = await fx.cli("run");
  // From now on no run copies y.tmp again: said once, now, while the file can repair it.
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /source\/y\.tmp: Its copy 'y\.tmp' was missing .*verify --repair/);
  const log = fx.lastLog();
  assert.ok(
    log.includes("EXCLUDED: source/y.tmp (now excluded; its copy backup/y.tmp is missing)"),
  );
  assert.ok(log.includes("EXCLUDED: source/x.tmp (now excluded; its copy stays at backup/x.tmp)"));
  assert.ok(
    r.stdout.includes(
      "\n2 file(s) newly excluded: no longer backed up; their copies stay where they are in " +
        `the backup root (the log's EXCLUDED: lines name each; 'purge PATH --config ${fx.config}' deletes them), but ` +
        "for 1 found missing (see " +
        "the warnings)\n",
    ),
    r.stdout,
  );
  assert.equal((await fx.cli("verify", "--repair")).code, 0, "repaired from the source");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "y.tmp")), "lost\n");
  assert.equal((await fx.cli("run")).code, 0, "said once");
});

Deno.test("run: a newly excluded file whose copy's place holds no copy (a folder, a symlink on the way) is warned about too", async () => {
  using fx = makeFixture({ "x.tmp": "x\n", "d/y.tmp": "y\n" });
  assert.equal((await fx.cli("run")).code, 0);
  // Its place taken by a folder; a folder on the way swapped for a symlink elsewhere.
  Deno.removeSync(join(fx.backup, "x.tmp"));
  Deno.mkdirSync(join(fx.backup, "x.tmp"));
  const elsewhere = join(fx.dir, "elsewhere");
  Deno.mkdirSync(elsewhere);
  Deno.renameSync(join(fx.backup, "d"), join(fx.dir, "d.away"));
  Deno.symlinkSync(elsewhere, join(fx.backup, "d"));
  excludeTmp(fx);
  const r = await fx.cli("run");
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /source\/x\.tmp: Its copy 'x\.tmp' was missing/);
  assert.match(r.stderr, /source\/d\/y\.tmp: Its copy 'd\/y\.tmp' was missing/);
  const log = fx.lastLog();
  assert.ok(!log.some((l) => l.includes("its copy stays at")), log.join("\n"));
  assert.ok(
    r.stdout.includes(
      "\n2 file(s) newly excluded: no longer backed up; their copies were found missing from " +
        "the backup root (see the warnings)\n",
    ),
    r.stdout,
  );
});

Deno.test("plan: a file newly excluded whose copy is missing is said as the run will say it, exit 1", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "x.tmp": "kept\n", "y.tmp": "lost\n" });
  assert.equal((await fx.cli("run")).code, 0);
  Deno.removeSync(join(fx.backup, "y.tmp"));
  excludeTmp(fx);
  const before = fingerprint(fx.dir);
  const plan = await fx.cli("plan");
  assert.equal(plan.code, 1, plan.stdout + plan.stderr);
  assert.ok(
    plan.stdout.includes("EXCLUDED: source/y.tmp (now excluded; its copy backup/y.tmp is missing)"),
    plan.stdout,
  );
  assert.ok(
    plan.stdout.includes("EXCLUDED: source/x.tmp (now excluded; its copy stays at backup/x.tmp)"),
  );
  assert.ok(
    plan.stdout.includes(
      "\n2 file(s) newly excluded: no longer backed up; their copies stay where they are in " +
        `the backup root (the EXCLUDED: lines above name each; 'purge PATH --config ${fx.config}' deletes them), ` +
        "but for 1 found missing (see " +
        "the warnings)\n",
    ),
    plan.stdout,
  );
  const warning = /source\/y\.tmp: Its copy 'y\.tmp' was missing .*verify --repair/;
  assert.match(plan.stderr, warning);
  const json = JSON.parse((await fx.cli("plan", "--json")).stdout);
  assert.deepEqual(json.warnings.map((w: { path: string }) => w.path), ["source/y.tmp"]);
  assert.deepEqual(fingerprint(fx.dir), before, "the plan changed nothing");
  const run = await fx.cli("run");
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, warning);
});

Deno.test("run: an excluded file replaced by an excluded folder of its name is archived as deleted, as a followed one is", async () => {
  using fx = makeFixture({
    "a.txt": "a\n",
    "old.tmp": "old\n",
    "new.tmp": "new\n",
    "f.txt": "f\n",
  });
  assert.equal((await fx.cli("run")).code, 0);
  const config = { sources: ["./source"], backup_root: "./backup", log_dir: "./logs" };
  writeConfig(fx.config, { ...config, exclude: ["old.tmp"] });
  assert.equal((await fx.cli("run")).code, 0); // old.tmp excluded here
  excludeTmp(fx); // new.tmp in the run that finds it replaced
  for (const name of ["old.tmp", "new.tmp", "f.txt"]) {
    Deno.removeSync(join(fx.source, name));
    writeTree(join(fx.source, name), { "inner.txt": "inner\n" });
  }
  const expected = [
    "ARCHIVE DELETE: backup/f.txt → backup/_deleted/f.txt",
    "ARCHIVE DELETE: backup/new.tmp → backup/_deleted/new.tmp",
    "ARCHIVE DELETE: backup/old.tmp → backup/_deleted/old.tmp",
  ];
  const archived = (lines: string[]) =>
    lines.filter((l) => l.startsWith("ARCHIVE DELETE: ")).sort();
  const plan = await fx.cli("plan");
  assert.equal(plan.code, 0, plan.stderr);
  assert.deepEqual(archived(plan.stdout.split("\n")), expected, plan.stdout);
  assert.ok(!plan.stdout.includes("EXCLUDED: "), plan.stdout);
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(archived(fx.lastLog()), expected, fx.lastLog().join("\n"));
  for (const name of ["old.tmp", "new.tmp"]) {
    assert.equal(
      Deno.readTextFileSync(join(fx.backup, "_deleted", name)),
      name.replace(".tmp", "\n"),
    );
    assert.throws(() => Deno.lstatSync(join(fx.backup, name)), Deno.errors.NotFound);
    const history = await fx.cli("history", name);
    assert.match(history.stdout, /\(deleted from the source\)/, history.stdout);
  }
  // The followed file's folder is backed up; the excluded ones' are not.
  assert.equal(Deno.readTextFileSync(join(fx.backup, "f.txt", "inner.txt")), "inner\n");
});

Deno.test("restore and history of a file excluded since: its last copy is said to be that, not taken for its content now", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n", "x.tmp": "old\n" });
  assert.equal((await fx.cli("run", "-q")).code, 0);
  excludeTmp(fx);
  assert.equal((await fx.cli("run", "-q")).code, 0);
  writeTree(fx.source, { "x.tmp": "newer, never backed up\n" });
  assert.equal((await fx.cli("run", "-q")).code, 0);
  const at = new Date().toISOString();
  const to = join(fx.dir, "out");
  const r = await fx.cli("restore", "--at", at, "--to", to);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(Deno.readTextFileSync(join(to, "x.tmp")), "old\n"); // what the backup holds
  assert.match(
    r.stderr,
    /^WARNING: 'source\/x\.tmp' is excluded \(the config leaves it out: an exclude pattern, a folder's tag, one_file_system or exclude_larger_than\): the backup holds its last content backed up, at \S+Z, and the file may have changed since\n$/,
  );
  assert.doesNotMatch(r.stderr, /a\.txt|b\.txt/);
  const history = await fx.cli("history", "x.tmp");
  assert.equal(history.code, 0, history.stderr);
  assert.match(
    history.stderr,
    /^WARNING: 'source\/x\.tmp' is excluded \(the config leaves it out: an exclude pattern, a folder's tag, one_file_system or exclude_larger_than; taken out at \S+Z\): no run has backed it up since, so its content shown current is the last one backed up, and the file may have changed since\n$/,
  );
  // --json marks it, and only it, and says it there alone (docs/json.md: what the document
  // names is not said again on stderr).
  const named = await fx.cli("history", "x.tmp", "--json");
  assert.equal(named.stderr, "");
  const json = JSON.parse(named.stdout);
  assert.equal(json.excluded, true);
  const runs = JSON.parse((await fx.cli("history", "--json")).stdout).runs;
  // Taken out by the second run: after the first ended, by the time the second did.
  assert.ok(
    json.excludedAt > runs[0].endedAt && json.excludedAt <= runs[1].endedAt,
    json.excludedAt,
  );
  assert.ok(history.stderr.includes(`taken out at ${json.excludedAt}`), history.stderr);
  assert.equal(
    "excluded" in JSON.parse((await fx.cli("history", "a.txt", "--json")).stdout),
    false,
  );
});

Deno.test("restore and ls --at a moment before a file was excluded: restored as then, without the excluded warning", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "x.tmp": "old\n" });
  assert.equal((await fx.cli("run", "-q")).code, 0);
  const before = JSON.parse((await fx.cli("history", "--json")).stdout).runs[0].endedAt;
  excludeTmp(fx);
  assert.equal((await fx.cli("run", "-q")).code, 0);
  const to = join(fx.dir, "out");
  const r = await fx.cli("restore", "--at", before, "--to", to);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(Deno.readTextFileSync(join(to, "x.tmp")), "old\n");
  // Before, the moment's own content was said to be the last one backed up of a file
  // excluded (at a moment when it was not yet).
  assert.doesNotMatch(r.stderr, /WARNING/);
  const ls = JSON.parse((await fx.cli("ls", "--at", before, "--json")).stdout);
  const x = ls.files.find((f: { path: string }) => f.path === "source/x.tmp");
  assert.equal(x.excluded, undefined);
  // After the run that took it out, it is said, as before.
  const now = await fx.cli("restore", "--to", join(fx.dir, "now"));
  assert.match(now.stderr, /^WARNING: 'source\/x\.tmp' is excluded/);
});

Deno.test("restore in place of a file excluded since, changed meanwhile: the conflict says it is excluded before it says to --overwrite", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "x.tmp": "old\n" });
  assert.equal((await fx.cli("run", "-q")).code, 0);
  excludeTmp(fx);
  assert.equal((await fx.cli("run", "-q")).code, 0);
  writeTree(fx.source, { "x.tmp": "newer, never backed up\n" });
  const r = await fx.cli("restore", "x.tmp");
  assert.equal(r.code, 1, r.stderr);
  assert.equal(Deno.readTextFileSync(join(fx.source, "x.tmp")), "newer, never backed up\n");
  assert.match(
    r.stderr,
    /^NOT RESTORED: source\/x\.tmp \(v1\): '[^']+x\.tmp' exists with other content: left alone; it is excluded \(the config leaves it out: an exclude pattern, a folder's tag, one_file_system or exclude_larger_than\): the backup holds its last content backed up, at \S+Z, and the file there may be newer; use --overwrite to replace it, or --to DIR to restore elsewhere\n/m,
  );
});

Deno.test("restore of a folder excluded since: one warning for the folder with its count, before the files; --json keeps each file's", async () => {
  const modules = {
    "node_modules/p/1.js": "1",
    "node_modules/p/2.js": "2",
    "node_modules/q/3.js": "3",
  };
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n", "x.tmp": "x\n", ...modules });
  assert.equal((await fx.cli("run", "-q")).code, 0);
  writeConfig(fx.config, {
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    exclude: ["*.tmp", "node_modules/"],
  });
  assert.equal((await fx.cli("run", "-q")).code, 0);
  const to = join(fx.dir, "out");
  // stdout and stderr as one stream, in the order they were written.
  const { cmd, args } = toolCommand(["restore", "--to", to, "--config", fx.config]);
  const both = await runProgram("sh", ["-c", 'exec "$@" 2>&1', "sh", cmd, ...args]);
  assert.equal(both.code, 0, both.stdout);
  const lines = both.stdout.trim().split("\n");
  const warnings = lines.filter((l) => l.startsWith("WARNING:"));
  assert.deepEqual(warnings.length, 2, both.stdout);
  assert.match(
    warnings[0],
    /^WARNING: every file recorded under 'source\/node_modules' is excluded \(the config leaves each out: an exclude pattern, a folder's tag, one_file_system or exclude_larger_than\): the backup holds the 3 files restored as last backed up, the last at \S+Z, and they may have changed since$/,
  );
  assert.match(
    warnings[1],
    /^WARNING: 'source\/x\.tmp' is excluded \(the config leaves it out: an exclude pattern, a folder's tag, one_file_system or exclude_larger_than\): the backup holds its last content backed up, at \S+Z, and the file may have changed since$/,
  );
  assert.ok(lines.indexOf(warnings[1]) < lines.findIndex((l) => l.startsWith("RESTORED:")));
  // A folder inside it: the same folder named, with the files restored.
  const p = await fx.cli("restore", "node_modules/p", "--to", join(fx.dir, "p"));
  assert.match(
    p.stderr,
    /^WARNING: every file recorded under 'source\/node_modules' is excluded .*: the backup holds the 2 files restored/,
  );
  // One file of it: the file named, as any file excluded alone.
  const one = await fx.cli("restore", "node_modules/q/3.js", "--to", join(fx.dir, "one"));
  assert.match(
    one.stderr,
    /^WARNING: 'source\/node_modules\/q\/3\.js' is excluded \(the config leaves it out: an exclude pattern, a folder's tag, one_file_system or exclude_larger_than\): the backup holds its last content backed up, at \S+Z, and the file may have changed since\n$/,
  );
  // --json: each file's warning, and none on stderr.
  const json = await fx.cli("restore", "--to", join(fx.dir, "j"), "--json");
  assert.equal(json.stderr, "");
  const restored = JSON.parse(json.stdout).restored as { path: string; warning?: string }[];
  const warned = restored.filter((r) => r.warning?.startsWith("it is excluded")).map((r) => r.path);
  assert.deepEqual(warned.sort(), [
    "source/node_modules/p/1.js",
    "source/node_modules/p/2.js",
    "source/node_modules/q/3.js",
    "source/x.tmp",
  ]);
});

Deno.test("restore of a folder whose files an exclude pattern took out, the folder matching none: the warning says its files are excluded, not the folder", async () => {
  using fx = makeFixture({ "keep.txt": "k\n", "logs/a.log": "a\n", "logs/b.log": "b\n" });
  assert.equal((await fx.cli("run", "-q")).code, 0);
  writeConfig(fx.config, {
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    exclude: ["*.log"],
  });
  assert.equal((await fx.cli("run", "-q")).code, 0);
  const r = await fx.cli("restore", "logs", "--to", join(fx.dir, "out"));
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /^WARNING: every file recorded under 'source\/logs' is excluded \(the config leaves each out: an exclude pattern, a folder's tag, one_file_system or exclude_larger_than\): the backup holds the 2 files restored as last backed up, the last at \S+Z, and they may have changed since\n$/,
  );
});

/**
 * End-to-end tests of `restore` through the real CLI: a tree backed up across several runs
 * (modifications, deletions, recreations, a duplicate, a symlink), restored as of each
 * run's time and compared byte for byte, with mtime and mode; single files and folders;
 * `--version`; in-place restores that refuse to clobber; usage errors.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture, readTree, writeConfig, writeTree } from "./helpers.ts";
import { pausedRun } from "./reliability/util.ts";

/** What a restore must reproduce of one entry. */
type Entry =
  | { kind: "file"; bytes: Uint8Array; mtimeMs: number; mode: number }
  | { kind: "symlink"; target: string };

/** Every file and symlink under `root` (relative path → entry). */
function snapshot(root: string): Record<string, Entry> {
  const out: Record<string, Entry> = {};
  const walk = (dir: string, prefix: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const abs = join(dir, e.name);
      const rel = prefix + e.name;
      if (e.isDirectory) walk(abs, `${rel}/`);
      else if (e.isSymlink) out[rel] = { kind: "symlink", target: Deno.readLinkSync(abs) };
      else {
        const info = Deno.statSync(abs);
        const mode = Deno.build.os === "windows" ? 0 : info.mode! & 0o7777;
        out[rel] = { kind: "file", bytes: Deno.readFileSync(abs), mtimeMs: mtime(abs), mode };
      }
    }
  };
  walk(root, "");
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

const mtime = (path: string) => Deno.statSync(path).mtime!.getTime();

/** Writes files and gives each a distinct mtime in the past, so a change is always seen. */
let clock = Date.UTC(2024, 0, 1);
function put(root: string, files: Record<string, string | Uint8Array>): void {
  writeTree(root, files);
  for (const rel of Object.keys(files)) {
    clock += 61_000; // distinct minutes: no two contents share an mtime
    const when = new Date(clock);
    Deno.utimeSync(join(root, ...rel.split("/")), when, when);
  }
}

async function ok(fx: Fixture, ...args: string[]): Promise<string> {
  const r = await fx.cli(...args);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

Deno.test("restore --at gives the tree exactly as it was after each run", async () => {
  using fx = makeFixture({});
  put(fx.source, {
    "a.txt": "a1\n",
    "b.txt": "b1\n",
    "dir/c.txt": "c1\n",
    "dir/deep/d.bin": new Uint8Array([0, 255, 1, 254, 10, 13]),
  });
  Deno.chmodSync(join(fx.source, "dir/c.txt"), 0o640);
  Deno.symlinkSync("../a.txt", join(fx.source, "dir/link"));
  const steps: (() => void)[] = [
    () => {}, // run 1: the initial tree
    () => { // run 2: modify, delete, add, chmod + modify, duplicate
      put(fx.source, { "a.txt": "a2, longer\n", "new.txt": "n1\n", "dir/c.txt": "c2\n" });
      Deno.chmodSync(join(fx.source, "dir/c.txt"), 0o600);
      Deno.removeSync(join(fx.source, "b.txt"));
      put(fx.source, { "copy.txt": "n1\n" });
    },
    () => { // run 3: recreate b.txt, delete a folder, retarget the symlink
      put(fx.source, { "b.txt": "b2\n", "a.txt": "a3\n" });
      Deno.removeSync(join(fx.source, "dir/deep"), { recursive: true });
      Deno.removeSync(join(fx.source, "dir/link"));
      Deno.symlinkSync("../b.txt", join(fx.source, "dir/link"));
    },
    () => { // run 4: back to earlier contents, and the path of a folder becomes a file
      put(fx.source, { "b.txt": "b1\n", "a.txt": "a1\n", "dir/deep": "now a file\n" });
      Deno.removeSync(join(fx.source, "new.txt"));
    },
  ];
  const states: { time: number; tree: Record<string, Entry> }[] = [];
  for (const step of steps) {
    step();
    const tree = snapshot(fx.source);
    await ok(fx, "run");
    states.push({ time: Date.now(), tree });
  }
  for (const [i, { time, tree }] of states.entries()) {
    const out = join(fx.dir, `out${i + 1}`);
    await ok(fx, "restore", "--at", new Date(time).toISOString(), "--to", out);
    assert.deepEqual(snapshot(out), tree, `as of run ${i + 1}`);
  }
  const latest = join(fx.dir, "latest");
  await ok(fx, "restore", "--to", latest);
  assert.deepEqual(snapshot(latest), states[3].tree);
  const before = await fx.cli("restore", "--at", "2001-01-01Z", "--to", join(fx.dir, "none"));
  assert.equal(before.code, 1);
  // Before the first backup: the time to give instead is said, for the whole and a file.
  const said = before.stderr.match(
    /^NOT RESTORED: the backup holds no files as of 2001-01-01T23:59:59\.999Z: its first files were backed up at (\S+Z): give that time or a later one to --at\n$/,
  );
  assert.ok(said, before.stderr);
  // That time is the one to give: it restores.
  const atFirst = await fx.cli("restore", "--at", said[1], "--to", join(fx.dir, "first"));
  assert.equal(atFirst.code, 0, atFirst.stderr);
  assert.match(atFirst.stdout, /Restore complete .*: [1-9]\d* restored/);
  const early = await fx.cli("restore", "a.txt", "--at", "2001-01-01Z", "--to", join(fx.dir, "no"));
  assert.equal(early.code, 1);
  assert.match(
    early.stderr,
    /^NOT RESTORED: a\.txt: '.*a\.txt' is not in the backup as of 2001-01-01T23:59:59\.999Z: it was first backed up at \S+Z: give that time or a later one to --at\n$/,
  );
  assert.match(before.stdout, /Restore incomplete \(as of .*\): 0 restored, 0 up to date, 0 not/);
  // A version number past what a number holds exactly is refused as given, not rounded.
  const huge = await fx.cli("restore", "a.txt", "--version", "9999999999999999999");
  assert.equal(huge.code, 2);
  assert.match(huge.stderr, /^Invalid --version value '9999999999999999999': expected a number/);
});

Deno.test("restore of one file and of a folder, with --to and back in place", async () => {
  using fx = makeFixture({});
  put(fx.source, {
    "top.txt": "t\n",
    "docs/a.txt": "a\n",
    "docs/sub/b.txt": "b\n",
    "x/y.txt": "y",
  });
  await ok(fx, "run");
  const out = join(fx.dir, "out");
  await ok(fx, "restore", "docs/sub/b.txt", "--to", out);
  assert.deepEqual(Object.keys(snapshot(out)), ["docs/sub/b.txt"]);
  await ok(fx, "restore", "source/docs", "--to", out);
  assert.deepEqual(Object.keys(snapshot(out)), ["docs/a.txt", "docs/sub/b.txt"]);
  assert.deepEqual(snapshot(out), {
    "docs/a.txt": snapshot(fx.source)["docs/a.txt"],
    "docs/sub/b.txt": snapshot(fx.source)["docs/sub/b.txt"],
  });
  // Lost from the source since the backup: restored in place, the rest is up to date.
  const expected = snapshot(fx.source);
  Deno.removeSync(join(fx.source, "docs"), { recursive: true });
  const stdout = await ok(fx, "restore");
  assert.match(stdout, /2 restored, 2 up to date, 0 not restored/);
  assert.deepEqual(snapshot(fx.source), expected);
  const missing = await fx.cli("restore", "nope.txt", "--to", out);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /'source\/nope\.txt' is not in the backup/);
});

Deno.test("a deleted file is restored only with --at; --version picks one content", async () => {
  // Two files that stay, so one deletion is within the mass-deletion guard.
  using fx = makeFixture({ "k1": "1", "k2": "2" }, { retention: { max_versions_per_file: 1 } });
  for (const text of ["v1\n", "v2\n", "v3\n"]) {
    put(fx.source, { "f.txt": text });
    await ok(fx, "run");
  }
  const beforeDelete = Date.now();
  Deno.removeSync(join(fx.source, "f.txt"));
  await ok(fx, "run");
  const out = join(fx.dir, "out");
  const latest = await fx.cli("restore", "f.txt", "--to", out);
  assert.equal(latest.code, 1);
  assert.match(latest.stderr, /not in the backup any more: it was deleted; use --at TIME/);
  await ok(fx, "restore", "f.txt", "--at", new Date(beforeDelete).toISOString(), "--to", out);
  assert.equal(Deno.readTextFileSync(join(out, "f.txt")), "v3\n");
  await ok(fx, "restore", "f.txt", "--version", "2", "--to", out, "--overwrite");
  assert.equal(Deno.readTextFileSync(join(out, "f.txt")), "v2\n");
  const pruned = await fx.cli("restore", "f.txt", "--version", "1", "--to", out, "--json");
  assert.equal(pruned.code, 1);
  const doc = JSON.parse(pruned.stdout);
  assert.equal(doc.failed[0].kind, "pruned");
  assert.match(doc.failed[0].reason, /version 1 was pruned by retention at \d{4}-/);
  const absent = await fx.cli("restore", "f.txt", "--version", "7", "--to", out);
  assert.equal(absent.code, 1);
  assert.match(absent.stderr, /has no version 7: it has versions 1 to 3/);
});

Deno.test("in place, a changed file is left alone unless --overwrite", async () => {
  using fx = makeFixture({});
  put(fx.source, { "a.txt": "backed up\n", "same.txt": "same\n" });
  const original = snapshot(fx.source)["a.txt"];
  await ok(fx, "run");
  put(fx.source, { "a.txt": "edited since\n" });
  const edited = snapshot(fx.source);
  const r = await fx.cli("restore");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /source\/a\.txt \(v1\): '.*a\.txt' exists with other content: left alone/);
  assert.match(r.stderr, /use --overwrite to replace it, or --to DIR to restore elsewhere/);
  assert.match(r.stdout, /0 restored, 1 up to date, 1 not restored/);
  assert.deepEqual(snapshot(fx.source), edited);
  const json = JSON.parse((await fx.cli("restore", "a.txt", "--json")).stdout);
  assert.equal(json.failed[0].kind, "conflict");
  await ok(fx, "restore", "a.txt", "--overwrite");
  assert.deepEqual(snapshot(fx.source)["a.txt"], original);
  assert.deepEqual(snapshot(fx.source)["same.txt"], edited["same.txt"]);
  assert.deepEqual(listHidden(fx.source), []);
});

Deno.test("in place, the same bytes with another mode or time: up to date, --overwrite sets them", async () => {
  using fx = makeFixture({});
  put(fx.source, { "e.sh": "echo hi\n" });
  Deno.chmodSync(join(fx.source, "e.sh"), 0o751);
  Deno.utimeSync(
    join(fx.source, "e.sh"),
    new Date("2020-01-02T03:04:05Z"),
    new Date("2020-01-02T03:04:05Z"),
  );
  await ok(fx, "run");
  const recorded = Deno.statSync(join(fx.source, "e.sh"));
  Deno.chmodSync(join(fx.source, "e.sh"), 0o600);
  Deno.utimeSync(join(fx.source, "e.sh"), new Date(), new Date());
  const plain = await fx.cli("restore", "e.sh");
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /0 restored, 1 up to date/);
  assert.equal(Deno.statSync(join(fx.source, "e.sh")).mode! & 0o777, 0o600);
  const forced = await fx.cli("restore", "e.sh", "--overwrite");
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /1 restored, 0 up to date/);
  const now = Deno.statSync(join(fx.source, "e.sh"));
  assert.equal(now.mode! & 0o777, 0o751);
  assert.equal(now.mtime!.getTime(), recorded.mtime!.getTime());
  assert.equal(Deno.readTextFileSync(join(fx.source, "e.sh")), "echo hi\n");
  // Now as recorded: up to date even with --overwrite.
  assert.match((await fx.cli("restore", "e.sh", "--overwrite")).stdout, /0 restored, 1 up to date/);
});

/** Leftover temporary files of the writer. */
function listHidden(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".tmp"));
}

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

Deno.test("in place, a folder replaced by a symlink is not written through", async () => {
  using fx = makeFixture({});
  put(fx.source, { "docs/a.txt": "a\n" });
  await ok(fx, "run");
  const elsewhere = join(fx.dir, "elsewhere");
  Deno.mkdirSync(elsewhere);
  Deno.removeSync(join(fx.source, "docs"), { recursive: true });
  Deno.symlinkSync(elsewhere, join(fx.source, "docs"));
  const r = await fx.cli("restore", "docs/a.txt");
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /is a symlink, which a restore never writes through \(it may lead outside .*\): restore with --to DIR/,
  );
  assert.deepEqual([...Deno.readDirSync(elsewhere)], []);
  // Under --to, the remedy is not --to again.
  const out = join(fx.dir, "out");
  Deno.mkdirSync(out);
  Deno.symlinkSync(elsewhere, join(out, "docs"));
  const viaTo = await fx.cli("restore", "docs/a.txt", "--to", out);
  assert.equal(viaTo.code, 1);
  assert.match(
    viaTo.stderr,
    /it may lead outside '.*out'\): remove the link, or restore to another --to/,
  );
  assert.deepEqual([...Deno.readDirSync(elsewhere)], []);
  const inside = await fx.cli("restore", "--to", join(fx.backup, "restored"));
  assert.equal(inside.code, 2);
  assert.match(inside.stderr, /^Cannot restore into '.*restored': it is inside the backup root/);
  // A symlink to the backup root is the backup root: refused too, nothing replaced.
  const link = join(fx.dir, "link-to-backup");
  Deno.symlinkSync(fx.backup, link);
  const before = Deno.readTextFileSync(join(fx.backup, "docs/a.txt"));
  for (const to of [link, join(link, "sub")]) {
    const r = await fx.cli("restore", "--to", to, "--overwrite");
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /it is inside the backup root/);
  }
  assert.equal(Deno.readTextFileSync(join(fx.backup, "docs/a.txt")), before);
});

Deno.test("several sources: PATH starts with the source name, --to keeps it", async () => {
  using fx = makeFixture({});
  const other = join(fx.dir, "other");
  put(fx.source, { "a.txt": "a\n" });
  Deno.mkdirSync(other);
  put(other, { "b.txt": "b\n" });
  writeConfig(fx.config, { sources: ["./source", "./other"], backup_root: "./backup" });
  await ok(fx, "run");
  const out = join(fx.dir, "out");
  await ok(fx, "restore", "other/b.txt", "--to", out);
  assert.equal(Deno.readTextFileSync(join(out, "other", "b.txt")), "b\n");
  const bare = await fx.cli("restore", "b.txt", "--to", out);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /starts with the source name \(other, source\)/);
});

Deno.test("usage errors exit 2 with one clear line; --help has examples", async () => {
  using fx = makeFixture({ "a.txt": "a", "d/b.txt": "b" });
  await ok(fx, "run");
  const cases: [string[], RegExp][] = [
    [["--at", "last tuesday"], /^Invalid --at value 'last tuesday': expected an ISO-8601 time/],
    [["--at", "2026-02-30"], /^Invalid --at value '2026-02-30'/],
    [["d", "--version", "1"], /^Cannot use --version with folder 'd'/],
    [["a.txt", "d/b.txt", "--version", "1"], /^Cannot use --version without exactly one file/],
    [["a.txt", "--version", "0"], /^Invalid --version value '0'/],
    [["a.txt", "--at", "2026-01-01", "--version", "1"], /^Cannot use --at with --version/],
    [["--bogus"], /^Unknown option '--bogus' for 'restore'/],
  ];
  for (const [args, message] of cases) {
    const r = await fx.cli("restore", ...args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  }
  const help = await fx.cli("restore", "--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Examples:\n {2}backup-tool restore/);
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

Deno.test("one file's pruned version is restored from another path holding the same bytes", async () => {
  using fx = makeFixture({}, { retention: { max_versions_per_file: 1 } });
  put(fx.source, { "a.txt": "first\n", "keep/b.txt": "other\n" });
  await ok(fx, "run");
  const firstRun = Date.now();
  put(fx.source, { "a.txt": "second\n" });
  await ok(fx, "run");
  put(fx.source, { "a.txt": "third\n", "keep/b.txt": "first\n" }); // b now holds a's v1
  await ok(fx, "run"); // retention prunes a's v1
  assert.match(await ok(fx, "history", "a.txt"), /pruned by retention/);
  // Only a.txt's records are read for this restore; b's copy is found for its bytes.
  const to = join(fx.dir, "then");
  await ok(fx, "restore", "a.txt", "--at", new Date(firstRun).toISOString(), "--to", to);
  assert.equal(Deno.readTextFileSync(join(to, "a.txt")), "first\n");
});

Deno.test("a pruned version is restored from a copy of its bytes recorded under another hash algorithm", async () => {
  const config = (algo: string) => ({
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    hash_algorithm: algo,
    retention: { max_versions_per_file: 1 },
  });
  using fx = makeFixture({}, config("sha256"));
  put(fx.source, { "f.txt": "X1\n", "h.txt": "H1\n" });
  await ok(fx, "run");
  const then = new Date().toISOString();
  put(fx.source, { "f.txt": "X2\n", "h.txt": "H2\n" });
  await ok(fx, "run"); // f's X1 and h's H1 become versions, recorded under sha256
  writeConfig(fx.config, config("sha512"));
  // g.txt holds X1, recorded under sha512; a.txt, read first, has the same size, other bytes.
  put(fx.source, { "a.txt": "Y1\n", "g.txt": "X1\n" });
  await ok(fx, "run");
  put(fx.source, { "f.txt": "X3\n", "h.txt": "H3\n" });
  await ok(fx, "run"); // retention prunes both versions 1
  assert.match(await ok(fx, "history", "f.txt"), /v1 .* sha256:\S+ +pruned by retention/);
  assert.match(await ok(fx, "history", "g.txt"), /v1 .* sha512:/);

  const to = join(fx.dir, "then");
  const r = await fx.cli("restore", "f.txt", "--at", then, "--to", to);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^RESTORED: source\/f.txt \(v1\)/m);
  assert.equal(r.stderr, "");
  assert.deepEqual(Deno.readFileSync(join(to, "f.txt")), new TextEncoder().encode("X1\n"));
  // H1 is stored nowhere: still named as pruned, the same-size copies read for it or not.
  const all = await fx.cli("restore", "--at", then, "--to", join(fx.dir, "all"));
  assert.equal(all.code, 1, all.stdout + all.stderr);
  assert.match(
    all.stderr,
    /^NOT RESTORED: source\/h.txt \(v1\): version 1 was pruned by retention/m,
  );
  assert.doesNotMatch(all.stderr, /damaged|f\.txt/);
  assert.equal(Deno.readTextFileSync(join(fx.dir, "all", "f.txt")), "X1\n");
});

Deno.test("a restore of several batches: 1,300 files in nested folders, with modes and times, into new and existing folders", async () => {
  // More files than one batch flushes (512), in folders made by the restore, folders that
  // exist already (holding a file the restore must leave alone), and the --to folder's top.
  const files: Record<string, string> = {};
  for (let i = 0; i < 1300; i++) {
    files[`d${i % 5}/s${i % 3}/f${i}.txt`] = `file ${i} ${"x".repeat(i % 97)}`;
  }
  files["top.txt"] = "at the top";
  using fx = makeFixture({});
  put(fx.source, files);
  Deno.chmodSync(join(fx.source, "d1", "s2", "f11.txt"), 0o640);
  Deno.chmodSync(join(fx.source, "d2", "s1", "f7.txt"), 0o4755); // setuid: set after writing
  await ok(fx, "run");
  const out = join(fx.dir, "out");
  writeTree(out, { "d3/s0/mine.txt": "a file the restore must not touch" });
  const summary = await ok(fx, "restore", "--to", out);
  assert.match(summary, /Restore complete: 1301 restored, 0 up to date, 0 not restored/);
  const restored = snapshot(out);
  assert.equal(
    new TextDecoder().decode((restored["d3/s0/mine.txt"] as { bytes: Uint8Array }).bytes),
    "a file the restore must not touch",
  );
  delete restored["d3/s0/mine.txt"];
  assert.deepEqual(restored, snapshot(fx.source));
  // No temporary file is left anywhere.
  const leftovers: string[] = [];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isDirectory) walk(join(dir, e.name));
      else if (e.name.includes(".backup-tool-restore-")) leftovers.push(e.name);
    }
  };
  walk(out);
  assert.deepEqual(leftovers, []);
  // Again over the restored tree: every file up to date, none rewritten.
  assert.match(await ok(fx, "restore", "--to", out), /0 restored, 1301 up to date/);
});

Deno.test("a --to folder that holds the backup root: files that would land in the root are refused, its copies untouched", async () => {
  // The backup root is <dir>/backup; the source holds a folder named backup too.
  using fx = makeFixture({});
  put(fx.source, { "foo": "content A\n", "backup/foo": "content B\n", "other.txt": "o\n" });
  await ok(fx, "run");
  const r = await fx.cli("restore", "--to", fx.dir, "--overwrite");
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    /^NOT RESTORED: source\/backup\/foo \(v1\): Cannot restore to '.*backup\/foo': it is inside the backup root/m,
  );
  assert.equal(Deno.readTextFileSync(join(fx.backup, "foo")), "content A\n"); // foo's copy
  assert.equal(Deno.readTextFileSync(join(fx.dir, "other.txt")), "o\n");
  assert.equal((await fx.cli("verify")).code, 0);
});

Deno.test("a file where a folder must be is named as such", async () => {
  using fx = makeFixture({});
  put(fx.source, { "d/e/f.txt": "f\n" });
  await ok(fx, "run");
  for (const inTheWay of ["d", "d/e"]) {
    const out = join(fx.dir, `out-${inTheWay.replace("/", "-")}`);
    writeTree(out, { [inTheWay]: "a file in the way\n" });
    const r = await fx.cli("restore", "--to", out);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^NOT RESTORED: source/d/e/f\\.txt \\(v1\\): Cannot restore to '.*': '.*${inTheWay}' is a file where a folder must be: move it away, or restore to another --to folder$`,
        "m",
      ),
    );
  }
});

Deno.test({
  name: "the backup root mounted elsewhere too (a bind mount) is still never restored into",
  ignore: Deno.build.os !== "linux" || Deno.uid() !== 0, // mount --bind needs root
  fn: async () => {
    using fx = makeFixture({});
    put(fx.source, { "a.txt": "one\n", "view/a.txt": "a file of a folder named view\n" });
    await ok(fx, "run");
    const outer = join(fx.dir, "outer");
    const view = join(outer, "view");
    Deno.mkdirSync(view, { recursive: true });
    const command = (...args: string[]) =>
      new Deno.Command(args[0], { args: args.slice(1) }).outputSync();
    assert.equal(command("mount", "--bind", fx.backup, view).code, 0);
    try {
      const direct = await fx.cli("restore", "--to", view, "--overwrite");
      assert.equal(direct.code, 2, direct.stdout + direct.stderr);
      assert.match(direct.stderr, /inside the backup root/);
      // A --to holding the mount: the file that would land in it is refused, the rest goes.
      const r = await fx.cli("restore", "--to", outer, "--overwrite");
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        /^NOT RESTORED: source\/view\/a\.txt \(v1\): .* inside the backup root .*\(mounted at/m,
      );
      assert.equal(Deno.readTextFileSync(join(outer, "a.txt")), "one\n");
      assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "one\n", "the copy is intact");
      assert.equal((await fx.cli("verify")).code, 0);
      // A folder inside the backup root mounted elsewhere is inside it too.
      const part = join(fx.dir, "part");
      Deno.mkdirSync(part);
      assert.equal(command("mount", "--bind", join(fx.backup, "view"), part).code, 0);
      try {
        const sub = await fx.cli("restore", "view", "--to", part, "--overwrite");
        assert.equal(sub.code, 2, sub.stdout + sub.stderr);
        assert.match(sub.stderr, /inside the backup root/);
      } finally {
        command("umount", part);
      }
      assert.equal((await fx.cli("verify")).code, 0);
    } finally {
      command("umount", view);
    }
  },
});

Deno.test("a folder of more than a page of records, given with a PATH inside it: each file restored once", async () => {
  // 2,500 files in d/ make two pages of the state (2,000 rows each); d/s1 lies inside d.
  const files: Record<string, string> = { "top.txt": "not asked for\n" };
  for (let i = 0; i < 2500; i++) files[`d/s${i % 3}/f${i}.txt`] = `file ${i}\n`;
  using fx = makeFixture(files);
  await ok(fx, "run");
  const out = join(fx.dir, "out");
  const r = await fx.cli("restore", "d/s1", "d", "--to", out, "--json");
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual([doc.restored.length, doc.upToDate.length], [2500, 0]);
  assert.equal(new Set(doc.restored.map((e: { path: string }) => e.path)).size, 2500);
  const expected = Object.fromEntries(Object.entries(files).filter(([p]) => p.startsWith("d/")));
  assert.deepEqual(readTree(out), expected);
});

Deno.test({
  name: "restore gives the folders it makes the mode and time their source folders had",
  ignore: Deno.build.os === "windows", // no POSIX permission bits there
  fn: async () => {
    // Over 1,024 entries, so that the folders after them are walked by the staging worker.
    const many = Object.fromEntries(
      Array.from({ length: 1100 }, (_, i) => [`a/f${i}.txt`, `${i}\n`]),
    );
    using fx = makeFixture({ ...many, "z/priv/inner/secret.txt": "s\n", "z/shared/x": "x\n" });
    const at = (p: string) => join(fx.source, p);
    Deno.chmodSync(at("z/priv"), 0o700);
    Deno.chmodSync(at("z/priv/inner"), 0o711);
    Deno.chmodSync(at("z/shared"), 0o1777);
    const then = new Date("2020-01-01T00:00:00Z");
    for (const d of ["z/priv/inner", "z/priv", "z/shared", "a"]) Deno.utimeSync(at(d), then, then);
    assert.equal((await fx.cli("run")).code, 0);

    const out = join(fx.dir, "out");
    const r = await fx.cli("restore", "--to", out);
    assert.equal(r.code, 0, r.stderr);
    const meta = (p: string) => {
      const info = Deno.statSync(join(out, p));
      return { mode: info.mode! & 0o7777, mtime: info.mtime!.toISOString() };
    };
    const t = then.toISOString();
    assert.deepEqual(meta("z/priv"), { mode: 0o700, mtime: t });
    assert.deepEqual(meta("z/priv/inner"), { mode: 0o711, mtime: t });
    assert.deepEqual(meta("z/shared"), { mode: 0o1777, mtime: t });
    assert.deepEqual(meta("a"), { mode: Deno.statSync(at("a")).mode! & 0o7777, mtime: t });

    // A folder that exists is left as it is; a mode changed since is taken by the next run.
    Deno.chmodSync(at("z/priv"), 0o750);
    assert.equal((await fx.cli("run")).code, 0);
    Deno.removeSync(at("z"), { recursive: true });
    assert.equal((await fx.cli("restore", "z")).code, 0);
    assert.equal(Deno.statSync(at("z/priv")).mode! & 0o7777, 0o750);
    assert.equal(Deno.statSync(at("z/priv/inner")).mtime!.toISOString(), t);
  },
});

Deno.test({
  name: "restore in place: a file of the same bytes whose mode was loosened since is named",
  ignore: Deno.build.os === "windows", // no POSIX permission bits there
  fn: async () => {
    using fx = makeFixture({ "id_key": "secret\n" });
    Deno.chmodSync(join(fx.source, "id_key"), 0o600);
    assert.equal((await fx.cli("run")).code, 0);
    Deno.chmodSync(join(fx.source, "id_key"), 0o666);
    const r = await fx.cli("restore", "id_key");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /UP TO DATE: source\/id_key/);
    assert.match(
      r.stderr,
      /WARNING: source\/id_key \(v1\): the same bytes, but its mode is 0666, the recorded 0600: restore it with --overwrite to set them/,
    );
    const fixed = await fx.cli("restore", "id_key", "--overwrite");
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.equal(Deno.statSync(join(fx.source, "id_key")).mode! & 0o777, 0o600);
    assert.doesNotMatch((await fx.cli("restore", "id_key")).stderr, /WARNING/);
  },
});

Deno.test("restore gives files their recorded time to the millisecond, before 1970 too", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "old.txt": "old\n", "private.txt": "p\n" });
  const times: Record<string, number> = {
    "a.txt": Date.parse("2026-12-01T10:00:00.123Z"), // .123 is no exact binary fraction
    "old.txt": -1876, // 1969-12-31T23:59:58.124Z
    "private.txt": Date.parse("2026-12-01T10:00:00.999Z"),
  };
  Deno.chmodSync(join(fx.source, "private.txt"), 0o600); // set through a chmod as well
  for (const [name, ms] of Object.entries(times)) {
    Deno.utimeSync(join(fx.source, name), new Date(ms), new Date(ms));
  }
  assert.equal((await fx.cli("run")).code, 0);
  const out = join(fx.dir, "out");
  assert.equal((await fx.cli("restore", "--to", out)).code, 0);
  for (const [name, ms] of Object.entries(times)) {
    assert.equal(Deno.statSync(join(out, name)).mtime!.getTime(), ms, name);
  }
  // Restored files are what the backup holds: restoring again over them finds them so.
  const again = await fx.cli("restore", "--to", out, "--overwrite");
  assert.match(again.stdout, /0 restored, 3 up to date/);
});

Deno.test("an empty file's version pruned by retention is restored all the same (no bytes to read)", async () => {
  using fx = makeFixture({ "e": "" }, { retention: { max_versions_per_file: 1 } });
  assert.equal((await fx.cli("run")).code, 0);
  writeTree(fx.source, { "e": "one\n" });
  assert.equal((await fx.cli("run")).code, 0);
  writeTree(fx.source, { "e": "two\n" }); // version 1, the empty one, is pruned
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    JSON.parse((await fx.cli("history", "e", "--json")).stdout).versions[0].location,
    "pruned",
  );
  const out = join(fx.dir, "out");
  const restored = await fx.cli("restore", "e", "--version", "1", "--to", out);
  assert.equal(restored.code, 0, restored.stderr);
  assert.deepEqual(readTree(out), { "e": "" });
});

Deno.test({
  name: "a symlink's version pruned by retention is restored from the target the state records",
  ignore: Deno.build.os === "windows", // symlinks need a privilege there
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" }, { retention: { max_versions_per_file: 1 } });
    Deno.symlinkSync("a.txt", join(fx.source, "link"));
    assert.equal((await fx.cli("run")).code, 0);
    const firstRun = Date.now();
    for (const target of ["b.txt", "c.txt"]) { // version 1 is pruned by the second retarget
      Deno.removeSync(join(fx.source, "link"));
      Deno.symlinkSync(target, join(fx.source, "link"));
      const r = await fx.cli("run");
      assert.equal(r.code, 0, r.stderr);
    }
    const history = JSON.parse((await fx.cli("history", "link", "--json")).stdout);
    assert.equal(history.versions[0].location, "pruned");
    for (const args of [["--version", "1"], ["--at", new Date(firstRun).toISOString()]]) {
      const out = join(fx.dir, `out${args[0]}`);
      const r = await fx.cli("restore", "link", ...args, "--to", out);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}${r.stdout}`);
      assert.equal(Deno.readLinkSync(join(out, "link")), "a.txt");
      assert.equal(r.stderr, "", "nothing to repair: retention removed the copy on purpose");
    }
  },
});

Deno.test({
  name: "a source folder restored whole gets its own recorded mode back, not the umask's",
  ignore: Deno.build.os === "windows", // no POSIX permission bits there
  fn: async () => {
    using fx = makeFixture({ "id": "key\n", "sub/x": "x\n" });
    Deno.chmodSync(fx.source, 0o700); // a private folder, ~/.ssh
    assert.equal((await fx.cli("run")).code, 0);
    Deno.removeSync(fx.source, { recursive: true });
    const r = await fx.cli("restore");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(Deno.statSync(fx.source).mode! & 0o777, 0o700);
  },
});

Deno.test("a restore that restores nothing leaves no --to folder behind; one that was there stays", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  await ok(fx, "run");
  const made = join(fx.dir, "new", "deep", "out");
  const r = await fx.cli("restore", "typo.txt", "--to", made);
  assert.equal(r.code, 1, r.stderr);
  assert.throws(() => Deno.lstatSync(join(fx.dir, "new")), Deno.errors.NotFound);
  const there = join(fx.dir, "there");
  Deno.mkdirSync(there);
  const before = await fx.cli("restore", "--at", "1999-01-01", "--to", there);
  assert.equal(before.code, 1, before.stderr);
  assert.ok(Deno.statSync(there).isDirectory);
  // And one that restores something keeps what it made.
  await ok(fx, "restore", "a.txt", "--to", made);
  assert.equal(Deno.readTextFileSync(join(made, "a.txt")), "a\n");
});

Deno.test("in place with --overwrite, a file put at the destination while it was restored is left alone", async () => {
  using fx = makeFixture({ "a.txt": "backed up a\n", "b.txt": "backed up b\n" });
  await ok(fx, "run");
  writeTree(fx.source, { "a.txt": "edited a\n", "b.txt": "edited b\n" });
  // Held before b.txt is written: a.txt's restored copy is written, not yet in place.
  await using restore = await pausedRun(
    ["restore", "--overwrite", "--config", fx.config],
    "restoring:2",
    fx.dir,
  );
  Deno.removeSync(join(fx.source, "a.txt"));
  Deno.writeTextFileSync(join(fx.source, "a.txt"), "saved meanwhile\n"); // another file
  restore.resume();
  const out = await restore.child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1, stderr);
  assert.match(stderr, /'.*a\.txt' appeared or changed while it was restored: left alone/);
  assert.equal(Deno.readTextFileSync(join(fx.source, "a.txt")), "saved meanwhile\n");
  assert.equal(Deno.readTextFileSync(join(fx.source, "b.txt")), "backed up b\n");
});

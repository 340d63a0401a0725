/**
 * End-to-end tests of `run`: the reference README's Quick Test, steps 1-6, then each
 * data-safety rule, on real temporary folders through the real CLI.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { WatchProcess } from "./watch_helpers.ts";
import { listFiles, makeFixture, readTree, runCli, writeConfig, writeTree } from "./helpers.ts";
import { readState, sh } from "./reliability/util.ts";

const QUICK_TREE = {
  "one.txt": "hello world\n",
  "two.txt": "another file\n",
  "one_copy.txt": "hello world\n",
};

Deno.test("quick test: first run copies all files, detects duplicates, writes state and log", async () => {
  using fx = makeFixture(QUICK_TREE);
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readTree(fx.backup), {
    "_duplicates/one_copy.txt": "hello world\n",
    "one.txt": "hello world\n",
    "two.txt": "another file\n",
  });
  assert.ok(listFiles(join(fx.backup, ".backup-tool")).includes("state.db"));
  assert.deepEqual(fx.lastLog().slice(1), [
    "BACKUP: source/one.txt → backup/one.txt",
    "DUPLICATE: source/one_copy.txt → backup/_duplicates/one_copy.txt",
    "BACKUP: source/two.txt → backup/two.txt",
    "Run complete",
  ]);
  assert.match(r.stdout, /2 new, 0 updated, 1 duplicate, 0 unchanged/);
});

Deno.test("quick test: modified files are archived, new ones backed up, unchanged skipped", async () => {
  using fx = makeFixture(QUICK_TREE);
  assert.equal((await fx.cli("run")).code, 0);
  Deno.writeTextFileSync(join(fx.source, "one.txt"), "hello world v2\n", { append: true });
  writeTree(fx.source, { "three.txt": "new file\n" });
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(fx.lastLog().slice(1), [
    "ARCHIVE: backup/one.txt → versions/one.txt/v1.bak",
    "UPDATED: source/one.txt → backup/one.txt",
    "SKIP: source/one_copy.txt",
    "BACKUP: source/three.txt → backup/three.txt",
    "SKIP: source/two.txt",
    // one_copy.txt was a duplicate of one.txt's old content: now its own original.
    "PROMOTED: backup/_duplicates/one_copy.txt → backup/one_copy.txt " +
    "(its original no longer holds this content)",
    "Run complete",
  ]);
  const tree = readTree(fx.backup);
  assert.equal(tree["one_copy.txt"], "hello world\n");
  assert.equal(tree["one.txt"], "hello world\nhello world v2\n");
  assert.equal(tree["versions/one.txt/v1.bak"], "hello world\n");
  assert.equal(tree["three.txt"], "new file\n");
});

Deno.test("quick test: retention keeps the newest N versions and logs each deletion", async () => {
  using fx = makeFixture({ "one.txt": "v1\n" }, { retention: { max_versions_per_file: 2 } });
  assert.equal((await fx.cli("run")).code, 0);
  for (let i = 2; i <= 5; i++) {
    Deno.writeTextFileSync(join(fx.source, "one.txt"), `v${i}\n`);
    assert.equal((await fx.cli("run")).code, 0);
  }
  const tree = readTree(fx.backup);
  assert.deepEqual(Object.keys(tree).filter((p) => p.startsWith("versions/")), [
    "versions/one.txt/v3.bak",
    "versions/one.txt/v4.bak",
  ]);
  assert.equal(tree["versions/one.txt/v4.bak"], "v4\n");
  assert.equal(tree["one.txt"], "v5\n");
  const pruned = fx.logLines().filter((l) => l.startsWith("RETENTION delete:"));
  assert.deepEqual(pruned, [
    "RETENTION delete: versions/one.txt/v1.bak",
    "RETENTION delete: versions/one.txt/v2.bak",
  ]);
});

Deno.test("deleted files move to _deleted/, and a second deletion keeps the first copy", async () => {
  using fx = makeFixture({ "a.txt": "first\n", "keep1.txt": "k1", "keep2.txt": "k2" });
  assert.equal((await fx.cli("run")).code, 0);
  Deno.removeSync(join(fx.source, "a.txt"));
  assert.equal((await fx.cli("run")).code, 0);
  assert.ok(fx.lastLog().includes("ARCHIVE DELETE: backup/a.txt → backup/_deleted/a.txt"));
  assert.ok(fx.lastLog().includes("STATE REMOVE: source/a.txt"));
  writeTree(fx.source, { "a.txt": "second\n" });
  assert.equal((await fx.cli("run")).code, 0);
  Deno.writeTextFileSync(join(fx.source, "a.txt"), "third\n");
  assert.equal((await fx.cli("run")).code, 0);
  Deno.removeSync(join(fx.source, "a.txt"));
  assert.equal((await fx.cli("run")).code, 0);
  const tree = readTree(fx.backup);
  assert.equal(tree["_deleted/a.txt"], "first\n");
  assert.equal(tree["_deleted/a.txt.~2"], "third\n");
  // Content numbers are never reused: "first" was 1, "second" 2 (archived as v2), "third" 3.
  assert.equal(tree["versions/a.txt/v2.bak"], "second\n");
  assert.ok(!("a.txt" in tree));
});

Deno.test("a file changed into a duplicate leaves no empty folder in the way of a file of its name", async () => {
  using fx = makeFixture({
    "o.txt": "dup\n",
    "k1.txt": "1",
    "k2.txt": "2",
    "k3.txt": "3",
    "d/sub/y.txt": "one\n",
    "d/keep.txt": "keep\n",
  });
  const tick = (rel: string, minute: number) => {
    const when = new Date(Date.UTC(2024, 0, 1, 0, minute));
    Deno.utimeSync(join(fx.source, rel), when, when);
  };
  tick("d/sub/y.txt", 1);
  assert.equal((await fx.cli("run")).code, 0);
  Deno.writeTextFileSync(join(fx.source, "d/sub/y.txt"), "dup\n"); // now o.txt's content
  tick("d/sub/y.txt", 2);
  assert.equal((await fx.cli("run")).code, 0);
  assert.deepEqual([...Deno.readDirSync(join(fx.backup, "d"))].map((e) => e.name), ["keep.txt"]);
  // The folder d becomes a file d: it takes its own name in the backup, first time.
  Deno.removeSync(join(fx.source, "d"), { recursive: true });
  Deno.writeTextFileSync(join(fx.source, "d"), "file\n");
  tick("d", 3);
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "d")), "file\n");
});

Deno.test("a touch with unchanged content is a skip, not a new version", async () => {
  using fx = makeFixture({ "a.txt": "same\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const later = new Date(Date.now() + 60_000);
  Deno.utimeSync(join(fx.source, "a.txt"), later, later);
  assert.equal((await fx.cli("run")).code, 0);
  assert.deepEqual(fx.lastLog().slice(1), ["SKIP: source/a.txt", "Run complete"]);
  assert.deepEqual(listFiles(fx.backup).filter((p) => p.startsWith("versions/")), []);
  assert.equal(Deno.statSync(join(fx.backup, "a.txt")).mtime?.getTime(), later.getTime());
});

Deno.test({
  name:
    "a file saved again unchanged (new inode, same mtime) is read, recorded, its copy untouched",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    using fx = makeFixture({ "a.txt": "same\n", "b.txt": "other\n" });
    assert.equal((await fx.cli("run")).code, 0);
    const copy = join(fx.backup, "a.txt");
    // The copy's change time to the nanosecond: a chmod or utime on it would move it.
    const changeTime = () => sh(`stat -c %z ${JSON.stringify(copy)}`);
    const before = await changeTime();
    await sh("cp -p a.txt a.new && mv a.new a.txt", fx.source); // as editors save
    const ino = Deno.statSync(join(fx.source, "a.txt")).ino;

    assert.equal((await fx.cli("run")).code, 0);
    assert.deepEqual(fx.lastLog().slice(1), [
      "SKIP: source/a.txt",
      "SKIP: source/b.txt",
      "Run complete",
    ]);
    assert.equal(await changeTime(), before);
    const state = readState(fx.backup);
    assert.equal(state.files.find((f) => f.path === "source/a.txt")?.ino, ino);
    assert.equal(state.copies.length, 2);
    assert.equal(state.intents, 0);
  },
});

Deno.test({
  name: "copies keep mtime and mode; symlinks stay symlinks; FIFOs are skipped",
  ignore: Deno.build.os === "windows", // no FIFOs, no modes there
  fn: async () => {
    using fx = makeFixture({ "script.sh": "#!/bin/sh\n", "data.txt": "x" });
    const when = new Date("2020-01-02T03:04:05.678Z");
    Deno.chmodSync(join(fx.source, "script.sh"), 0o750);
    Deno.utimeSync(join(fx.source, "data.txt"), when, when);
    Deno.symlinkSync("data.txt", join(fx.source, "link"));
    Deno.symlinkSync("/nonexistent/outside", join(fx.source, "dangling"));
    const fifo = await new Deno.Command("mkfifo", { args: [join(fx.source, "pipe")] }).output();
    const r = await fx.cli("run");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(Deno.statSync(join(fx.backup, "script.sh")).mode! & 0o777, 0o750);
    assert.equal(Deno.statSync(join(fx.backup, "data.txt")).mtime?.getTime(), when.getTime());
    assert.equal(Deno.readLinkSync(join(fx.backup, "link")), "data.txt");
    assert.equal(Deno.readLinkSync(join(fx.backup, "dangling")), "/nonexistent/outside");
    if (fifo.success) {
      assert.ok(fx.lastLog().includes("SKIP SPECIAL: source/pipe (FIFO, not a regular file)"));
      assert.ok(!listFiles(fx.backup).includes("pipe"));
    }
  },
});

Deno.test("source entries named like the backup's own folders are escaped, never mixed", async () => {
  using fx = makeFixture({
    "versions/x.txt": "mine",
    "_deleted/y.txt": "mine too",
    "_duplicates": "a file",
    ".backup-tool/z": "not the state",
    "versions~/w.txt": "already tilde",
  });
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  const tree = readTree(fx.backup);
  assert.equal(tree["versions~/x.txt"], "mine");
  assert.equal(tree["_deleted~/y.txt"], "mine too");
  assert.equal(tree["_duplicates~"], "a file");
  assert.equal(tree["versions~~/w.txt"], "already tilde");
  assert.equal(Deno.readTextFileSync(join(fx.backup, ".backup-tool~", "z")), "not the state");
  assert.ok(!Object.keys(tree).some((p) => p.startsWith("versions/")));
});

Deno.test("a backup root inside the source is never backed up into itself", async () => {
  using fx = makeFixture({ "a.txt": "a" }, { backup_root: "./source/backup" });
  for (let i = 0; i < 2; i++) assert.equal((await fx.cli("run")).code, 0);
  const backup = join(fx.source, "backup");
  assert.deepEqual(readTree(backup), { "a.txt": "a" });
});

Deno.test("exclude patterns skip files; a file that becomes excluded keeps its copy", async () => {
  using fx = makeFixture({
    "keep.txt": "k",
    "x.tmp": "t",
    "node_modules/m/index.js": "m",
    "later.log": "l",
  }, { exclude: ["*.tmp", "node_modules/"] });
  assert.equal((await fx.cli("run")).code, 0);
  assert.deepEqual(Object.keys(readTree(fx.backup)), ["keep.txt", "later.log"]);
  const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
  cfg.exclude.push("*.log");
  Deno.writeTextFileSync(fx.config, JSON.stringify(cfg));
  assert.equal((await fx.cli("run")).code, 0);
  assert.deepEqual(Object.keys(readTree(fx.backup)), ["keep.txt", "later.log"]);
  assert.ok(fx.lastLog().some((l) => l.startsWith("EXCLUDED: source/later.log")));
});

Deno.test("an excluded file deleted from the source is archived as deleted, pattern or not", async () => {
  // Enough other files that two deletions stay under the mass-deletion guard's 50%.
  const keep = Object.fromEntries([1, 2, 3, 4, 5].map((i) => [`keep${i}.txt`, `k${i}`]));
  using fx = makeFixture({ ...keep, "a.log": "a", "b.log": "b" });
  const setExclude = (exclude: string[]) => {
    const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
    Deno.writeTextFileSync(fx.config, JSON.stringify({ ...cfg, exclude }));
  };
  assert.equal((await fx.cli("run")).code, 0);
  setExclude(["*.log"]);
  assert.equal((await fx.cli("run")).code, 0); // both marked excluded, copies kept
  Deno.removeSync(join(fx.source, "a.log"));
  Deno.removeSync(join(fx.source, "b.log"));
  assert.equal((await fx.cli("run")).code, 0); // a.log and b.log gone while excluded
  setExclude([]);
  assert.equal((await fx.cli("run")).code, 0);
  assert.deepEqual(readTree(fx.backup), {
    ...keep,
    "_deleted/a.log": "a",
    "_deleted/b.log": "b",
  });
  const history = await fx.cli("history", "a.log", "--json");
  assert.equal(JSON.parse(history.stdout).versions[0].location, "deleted");
  const again = await fx.cli("run");
  assert.match(again.stdout, /0 new, 0 updated, 0 duplicate, 5 unchanged, 0 deleted/);
});

Deno.test("a temporary file left by a killed restore is never backed up", async () => {
  using fx = makeFixture({
    "a.txt": "a",
    "d/.backup-tool-restore-4242-1.tmp": "half of a restored file",
    "d/.backup-tool-restore-notes.tmp": "a user's file with a similar name",
  });
  const plan = await fx.cli("plan", "--json");
  assert.deepEqual(JSON.parse(plan.stdout).actions.map((a: { path: string }) => a.path), [
    "source/a.txt",
    "source/d/.backup-tool-restore-notes.tmp",
  ]);
  assert.equal((await fx.cli("run")).code, 0);
  assert.deepEqual(Object.keys(readTree(fx.backup)).sort(), [
    "a.txt",
    "d/.backup-tool-restore-notes.tmp",
  ]);
});

Deno.test("several sources each get their own folder; adding one moves nothing", async () => {
  using fx = makeFixture({ "a.txt": "a" });
  assert.equal((await fx.cli("run")).code, 0);
  writeTree(join(fx.dir, "photos"), { "p.jpg": "jpeg" });
  const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
  cfg.sources.push({ path: "./photos", name: "photos" });
  Deno.writeTextFileSync(fx.config, JSON.stringify(cfg));
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readTree(fx.backup), { "_sources/photos/p.jpg": "jpeg", "a.txt": "a" });
});

Deno.test("configuration errors exit 2 and create nothing", async () => {
  using fx = makeFixture({ "a.txt": "a" }, { retention: { max_versions_per_file: 0 } });
  const r = await fx.cli("run");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /retention\.max_versions_per_file/);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  assert.deepEqual(listFiles(fx.dir), ["config.jsonc", "source/a.txt"]);
});

Deno.test("a backup root whose state folder cannot be made: exit 2 naming that folder", async () => {
  using fx = makeFixture({ "a.txt": "a" });
  Deno.mkdirSync(join(fx.backup, ".backup-tool"), { recursive: true });
  Deno.writeTextFileSync(join(fx.backup, ".backup-tool", "tmp"), "not a folder");
  const r = await fx.cli("run");
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /^Cannot use the backup root '.*': '\.backup-tool\/tmp' is a file, where this tool keeps a folder of its own: move it out of the backup root, then run again\n$/,
  );
  assert.equal(r.stderr.trim().split("\n").length, 1);
});

Deno.test("a second run while the lock is held exits 3; a dead holder's lock is taken over", async () => {
  using fx = makeFixture({ "a.txt": "a" });
  assert.equal((await fx.cli("run")).code, 0);
  const lockPath = join(fx.backup, ".backup-tool", "lock");
  {
    using held = Deno.openSync(lockPath, { read: true, write: true });
    held.lockSync(true);
    const r = await fx.cli("run");
    assert.equal(r.code, 3);
    assert.match(r.stderr, /another run holds/);
    held.unlockSync();
  }
  Deno.writeTextFileSync(lockPath, JSON.stringify({ pid: 999999, host: "gone", started: "x" }));
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  assert.ok(fx.lastLog().some((l) => l.startsWith("LOCK: took over a stale lock")));
});

Deno.test("the mass-deletion guard holds back deletions unless --force", async () => {
  using fx = makeFixture({ "a": "1", "b": "2", "c": "3", "d": "4" });
  assert.equal((await fx.cli("run")).code, 0);
  for (const n of ["a", "b", "c", "d"]) Deno.removeSync(join(fx.source, n));
  const held = await fx.cli("run");
  assert.equal(held.code, 1);
  assert.match(held.stderr, /Deletions held back: 4 of 4 tracked files/);
  assert.deepEqual(Object.keys(readTree(fx.backup)), ["a", "b", "c", "d"]);
  const forced = await fx.cli("run", "--force");
  assert.equal(forced.code, 0, forced.stderr);
  assert.deepEqual(Object.keys(readTree(fx.backup)), [
    "_deleted/a",
    "_deleted/b",
    "_deleted/c",
    "_deleted/d",
  ]);
});

Deno.test("changing hash_algorithm re-hashes without new versions", async () => {
  using fx = makeFixture({ "a.txt": "a", "b.txt": "b" });
  assert.equal((await fx.cli("run")).code, 0);
  const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
  cfg.hash_algorithm = "sha512";
  Deno.writeTextFileSync(fx.config, JSON.stringify(cfg));
  const r = await fx.cli("run", "--json");
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.counts.skip, 2);
  assert.equal(summary.counts.modified, 0);
  assert.deepEqual(Object.keys(readTree(fx.backup)), ["a.txt", "b.txt"]);
});

Deno.test("changing hash_algorithm: a new file with a re-hashed file's content is its duplicate, as plan says", async () => {
  using fx = makeFixture({ "a.txt": "same bytes\n", "b.txt": "b" });
  assert.equal((await fx.cli("run")).code, 0);
  const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
  Deno.writeTextFileSync(fx.config, JSON.stringify({ ...cfg, hash_algorithm: "sha512" }));
  Deno.writeTextFileSync(join(fx.source, "z.txt"), "same bytes\n");
  const line = "DUPLICATE: source/z.txt → backup/_duplicates/z.txt";
  const plan = await fx.cli("plan");
  assert.ok(plan.stdout.includes(line), plan.stdout);
  const planned = JSON.parse((await fx.cli("plan", "--json")).stdout).actions;
  const dup = planned.find((a: { path: string }) => a.path === "source/z.txt");
  assert.equal(dup.original, "source/a.txt");
  assert.equal((await fx.cli("run")).code, 0);
  assert.ok(fx.lastLog().includes(line), fx.lastLog().join("\n"));
});

Deno.test("changing hash_algorithm while a file is excluded: its digest stays under the old one until it is included again, and nothing worse than a copy kept whole comes of it", async () => {
  using fx = makeFixture({ "a.txt": "same bytes\n", "b.txt": "same bytes\n", "o.txt": "o" });
  assert.equal((await fx.cli("run")).code, 0);
  const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
  const write = (extra: Record<string, unknown>) =>
    Deno.writeTextFileSync(fx.config, JSON.stringify({ ...cfg, ...extra }));
  write({ exclude: ["a.txt"] });
  assert.equal((await fx.cli("run")).code, 0);
  write({ exclude: ["a.txt"], hash_algorithm: "sha512" });
  writeTree(fx.source, { "c.txt": "same bytes\n" });
  const run = await fx.cli("run");
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const algoOf = async (path: string) =>
    JSON.parse((await fx.cli("history", path, "--json")).stdout).versions.map((
      v: { algo: string; storedAt: string },
    ) => [v.algo, v.storedAt]);
  // The duplicate b, re-hashed, no longer finds its original a (sha256): promoted (README).
  assert.deepEqual(await algoOf("a.txt"), [["sha256", "a.txt"]]);
  assert.deepEqual(await algoOf("b.txt"), [["sha512", "b.txt"]]);
  assert.deepEqual(await algoOf("c.txt"), [["sha512", "_duplicates/c.txt"]]);
  // Every copy whole and checked under its own algorithm: verify and restore agree.
  assert.equal((await fx.cli("verify")).code, 0);
  const to = join(fx.dir, "restored");
  assert.equal((await fx.cli("restore", "--to", to)).code, 0);
  assert.deepEqual(readTree(to), readTree(fx.source));
  // Included again, it is re-hashed like the others.
  write({ hash_algorithm: "sha512" });
  assert.equal((await fx.cli("run")).code, 0);
  assert.deepEqual(await algoOf("a.txt"), [["sha512", "a.txt"]]);
  assert.equal((await fx.cli("verify")).code, 0);
});

Deno.test("an unreadable file is reported with exit 1 and its backup is kept", async () => {
  if (Deno.uid() === 0) return; // root reads everything; tests/reliability covers this unprivileged
  using fx = makeFixture({ "a.txt": "a", "b.txt": "b" });
  assert.equal((await fx.cli("run")).code, 0);
  Deno.writeTextFileSync(join(fx.source, "a.txt"), "changed");
  Deno.chmodSync(join(fx.source, "a.txt"), 0);
  const r = await fx.cli("run");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /source\/a\.txt/);
  assert.equal(readTree(fx.backup)["a.txt"], "a");
});

Deno.test("the same inputs give the same layout and the same log, run after run", async () => {
  const tree = {
    "z/1.txt": "same",
    "a/2.txt": "same",
    "m.txt": "other",
    "b/c/d.txt": "deep",
  };
  using one = makeFixture(tree);
  using two = makeFixture(tree);
  assert.equal((await one.cli("run")).code, 0);
  assert.equal((await two.cli("run")).code, 0);
  assert.deepEqual(readTree(one.backup), readTree(two.backup));
  assert.deepEqual(one.lastLog().slice(1), two.lastLog().slice(1));
  assert.ok(
    one.lastLog().includes(
      "DUPLICATE: source/z/1.txt → backup/_duplicates/z/1.txt",
    ),
  );
});

Deno.test("a source folder renamed: a note names the old source, whose files are kept, and the old name goes on", async () => {
  using fx = makeFixture({});
  const photos = join(fx.dir, "Photos");
  writeTree(photos, { "a.jpg": "a", "b.jpg": "b" });
  const config = (sources: unknown[]) =>
    writeConfig(fx.config, { sources, backup_root: "./backup", log_dir: "./logs" });
  config(["./Photos"]);
  assert.equal((await fx.cli("run")).code, 0);
  Deno.renameSync(photos, join(fx.dir, "Photos-2024"));
  config(["./Photos-2024"]);
  // The plan says so too: without it, a preview of the rename showed every file stored anew.
  const preview = JSON.parse((await fx.cli("plan", "--json")).stdout);
  assert.match(preview.notice, /the state still tracks files of 'Photos' \(2 files\)/);
  const renamed = await fx.cli("run");
  assert.equal(renamed.code, 0, renamed.stderr);
  assert.match(
    renamed.stdout,
    /Note: the state still tracks files of 'Photos' \(2 files\), no longer in the config/,
  );
  assert.ok(
    fx.lastLog().some((l) => l.startsWith("NOTE: the state still tracks files of 'Photos'")),
  );
  // Named as before, the folder is the same source again: nothing new stored, no note.
  config([{ path: "./Photos-2024", name: "Photos" }]);
  const named = await fx.cli("run");
  assert.doesNotMatch(named.stdout, /Note: the state still tracks files of 'Photos'/);
  // The same name at another folder is said too, as the folder moved it is here.
  assert.match(
    named.stdout,
    /Note: source 'Photos' was backed up from '[^']*Photos' last time, and is now '[^']*Photos-2024'/,
  );
  assert.match(named.stdout, /the state still tracks files of 'Photos-2024' \(2 files\)/);
  assert.match(named.stdout, /0 new, 0 updated, 0 duplicate, 2 unchanged/);
});

Deno.test({
  name: "the backup root and log folder a run creates are its owner's only, and its logs; " +
    "a root that exists keeps its mode",
  ignore: Deno.build.os === "windows", // no POSIX permission bits there
  fn: async () => {
    using fx = makeFixture({ "private/config": "readable by all in a private folder\n" });
    Deno.chmodSync(join(fx.source, "private"), 0o700);
    assert.equal((await fx.cli("run")).code, 0);
    assert.equal(Deno.statSync(fx.backup).mode! & 0o777, 0o700);
    // The log names private files too.
    assert.equal(Deno.statSync(fx.logs).mode! & 0o777, 0o700);
    for (const log of Deno.readDirSync(fx.logs)) {
      assert.equal(Deno.statSync(join(fx.logs, log.name)).mode! & 0o777, 0o600, log.name);
    }

    using shared = makeFixture({ "a.txt": "a\n" });
    Deno.mkdirSync(shared.backup, { mode: 0o755 });
    Deno.chmodSync(shared.backup, 0o755); // whatever the umask
    assert.equal((await shared.cli("run")).code, 0);
    assert.equal(Deno.statSync(shared.backup).mode! & 0o777, 0o755);
  },
});

Deno.test("a backup root whose backup is gone while the logs name it (a disk not mounted): refused, exit 2, nothing made", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const logs = [...Deno.readDirSync(fx.logs)].map((e) => e.name);
  // Not even a log file made and removed again: log_dir is left as it was, its time too.
  const logDirTime = Deno.statSync(fx.logs).mtime?.getTime();
  for (const gone of ["removed", "emptied"]) {
    if (gone === "removed") Deno.removeSync(fx.backup, { recursive: true });
    else Deno.mkdirSync(fx.backup); // an empty mount point
    for (const command of ["run", "watch", "plan"]) { // the plan refuses what the run would
      const r = await fx.cli(command);
      assert.equal(r.code, 2, `${gone} ${command}: ${r.stdout}${r.stderr}`);
      assert.equal(
        r.stderr,
        `Cannot back up to '${fx.backup}': it holds no backup, but a log in '${fx.logs}' ` +
          `records earlier runs into it (the newest: '${logs[0]}'): is its disk mounted? ` +
          "Mount it and run again; to start a new backup there instead, move those logs out " +
          "of log_dir first\n",
      );
      if (gone === "removed") assert.throws(() => Deno.lstatSync(fx.backup), Deno.errors.NotFound);
      else assert.deepEqual([...Deno.readDirSync(fx.backup)], []);
      assert.deepEqual([...Deno.readDirSync(fx.logs)].map((e) => e.name), logs);
      assert.equal(Deno.statSync(fx.logs).mtime?.getTime(), logDirTime, `${gone} ${command}`);
    }
  }
  // Its logs moved away, a new backup starts there.
  Deno.renameSync(fx.logs, join(fx.dir, "old-logs"));
  assert.equal((await fx.cli("run")).code, 0);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "a\n");
});

Deno.test("a damaged state moved aside, as its message says: the next run starts a new state beside the files", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const db = join(fx.backup, ".backup-tool", "state.db");
  Deno.writeTextFileSync(db, "not a database\n".repeat(300));
  const refused = await fx.cli("run");
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /or move it aside: the next run then starts a new state/);
  Deno.renameSync(db, `${db}.damaged`);
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr); // not taken for a disk that is not mounted
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "a\n");
});

Deno.test("log_unchanged false: unchanged files are counted in one log line, not named each, by run and watch", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n" }, { log_unchanged: false });
  assert.equal((await fx.cli("run")).code, 0);
  writeTree(fx.source, { "c.txt": "c\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const second = fx.lastLog();
  assert.ok(second.includes("BACKUP: source/c.txt → backup/c.txt"), second.join("\n"));
  assert.ok(second.includes("UNCHANGED: 2 file(s), not named one by one (log_unchanged is false)"));
  assert.ok(!second.some((l) => l.startsWith("SKIP: ")), second.join("\n"));
  // A copy made again is named, and not counted with those left as they are.
  Deno.removeSync(join(fx.backup, "a.txt"));
  assert.equal((await fx.cli("run")).code, 1); // a copy was found missing
  const third = fx.lastLog();
  assert.ok(third.some((l) => l.startsWith("RECOPIED: source/a.txt")), third.join("\n"));
  assert.ok(third.includes("UNCHANGED: 2 file(s), not named one by one (log_unchanged is false)"));
  await using w = new WatchProcess(fx);
  await w.ready();
  assert.equal((await w.stop()).code, 0);
  const session = fx.lastLog();
  assert.ok(session.some((l) => l.startsWith("UNCHANGED: 3 file(s)")), session.join("\n"));
  assert.ok(!session.some((l) => l.startsWith("SKIP: ")), session.join("\n"));
});

Deno.test("a source found at another folder than last time is said, in the log and on the console", async () => {
  // Two configs sharing a backup root, each naming a folder `source` (alice's, then bob's):
  // bob's files would look like modified versions of alice's, and hers deleted.
  using fx = makeFixture({ "common.txt": "alice\n", "a.txt": "a\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const bob = join(fx.dir, "bob", "source");
  writeTree(bob, { "common.txt": "bob\n" });
  const bobConfig = join(fx.dir, "bob.jsonc");
  writeConfig(bobConfig, { sources: [bob], backup_root: fx.backup, log_dir: fx.logs });
  const plan = await runCli(["plan", "--config", bobConfig]);
  const r = await runCli(["run", "--config", bobConfig]);
  const note = `source 'source' was backed up from '${fx.source}' last time, and is now ` +
    `'${bob}': its files are compared with those backed up from there`;
  for (const out of [plan, r]) {
    assert.ok(
      out.stdout.includes(`Note: ${note}`) || out.stderr.includes(note),
      out.stdout + out.stderr,
    );
  }
  assert.ok(fx.lastLog().some((l) => l.startsWith(`NOTE: ${note}`)), fx.lastLog().join("\n"));
  // Said while the folder differs from the one last backed up from, not after.
  const again = await runCli(["run", "--config", bobConfig, "--force"]);
  assert.doesNotMatch(again.stdout + again.stderr, /was backed up from/);
  assert.ok(!fx.lastLog().some((l) => l.includes("was backed up from")));
});

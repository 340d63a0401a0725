/**
 * End-to-end tests of how `run` records changes, on real temporary folders through the real
 * CLI: the reference README's Quick Test (a first run with a duplicate, a modification
 * archived, retention), deletions moved to `_deleted/`, a file turned into a duplicate, a
 * touch or a save with the same bytes skipped, the same inputs giving the same layout and
 * log, and `log_unchanged false` counting unchanged files in one line.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { WatchProcess } from "./watch_helpers.ts";
import { listFiles, makeFixture, readTree, writeTree } from "./helpers.ts";
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

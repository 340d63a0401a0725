/**
 * End-to-end tests of which content `restore` gives back, through the real CLI: a tree
 * backed up across several runs (modifications, deletions, recreations, a duplicate, a
 * symlink), restored as of each run's time and compared byte for byte, with mtime and mode;
 * a deleted file with `--at`, one content with `--version`; and versions pruned by
 * retention, restored from another copy of their bytes (another path's, one recorded under
 * another hash algorithm), or from nothing for an empty file or a symlink.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, readTree, writeConfig, writeTree } from "./helpers.ts";
import { type Entry, ok, put, snapshot } from "./restore_helpers.ts";

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
  assert.match(
    before.stdout,
    /Restore incomplete \(as of .*\): 0 restored, 0 up to date, 0 not restored; the backup held no files then$/m,
  );
  // A version number past what a number holds exactly is refused as given, not rounded.
  const huge = await fx.cli("restore", "a.txt", "--version", "9999999999999999999");
  assert.equal(huge.code, 2);
  assert.match(huge.stderr, /^Invalid --version value '9999999999999999999': expected a number/);
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
  assert.match(
    latest.stderr,
    /^NOT RESTORED: f\.txt: 'source\/f\.txt' is not in the backup any more: it was deleted at \S+Z: restore it with --at a time before that, or with --version 3 for its last content\n$/m,
  );
  await ok(fx, "restore", "f.txt", "--at", new Date(beforeDelete).toISOString(), "--to", out);
  assert.equal(Deno.readTextFileSync(join(out, "f.txt")), "v3\n");
  await ok(fx, "restore", "f.txt", "--version", "2", "--to", out, "--overwrite");
  assert.equal(Deno.readTextFileSync(join(out, "f.txt")), "v2\n");
  const pruned = await fx.cli("restore", "f.txt", "--version", "1", "--to", out, "--json");
  assert.equal(pruned.code, 1);
  const doc = JSON.parse(pruned.stdout);
  assert.equal(doc.failed[0].kind, "pruned");
  // docs/json.md: a content chosen has its `version`; one with no copy, no `to`.
  assert.deepEqual([doc.failed[0].version, "to" in doc.failed[0]], [1, false]);
  assert.match(doc.failed[0].reason, /version 1 was pruned by retention at \d{4}-/);
  const absent = await fx.cli("restore", "f.txt", "--version", "7", "--to", out);
  assert.equal(absent.code, 1);
  assert.match(absent.stderr, /has no version 7: it has versions 1 to 3/);
});

Deno.test("--at a moment after a file was deleted names when, and when it came back", async () => {
  using fx = makeFixture({ "k1": "1", "k2": "2" });
  put(fx.source, { "f.txt": "old\n" });
  await ok(fx, "run");
  Deno.removeSync(join(fx.source, "f.txt"));
  await ok(fx, "run");
  const gone = Date.now();
  const out = join(fx.dir, "out");
  const r = await fx.cli("restore", "f.txt", "--at", new Date(gone).toISOString(), "--to", out);
  assert.equal(r.code, 1);
  const said = r.stderr.match(
    /is not in the backup as of \S+Z: it was deleted at (\S+Z): give an earlier time to --at, or --version 1 for its last content\n$/,
  );
  assert.ok(said, r.stderr);
  // One millisecond before the time said gives the file back.
  const before = new Date(Date.parse(said[1]) - 1).toISOString();
  await ok(fx, "restore", "f.txt", "--at", before, "--to", out);
  assert.equal(Deno.readTextFileSync(join(out, "f.txt")), "old\n");
  put(fx.source, { "f.txt": "new\n" });
  await ok(fx, "run");
  const gap = await fx.cli("restore", "f.txt", "--at", new Date(gone).toISOString(), "--to", out);
  assert.match(
    gap.stderr,
    /: it was deleted at \S+Z and backed up again at \S+Z: give an earlier time or that one to --at\n$/,
  );
});

Deno.test("a folder deleted: restore of it names when its last file went, and that moment less 1 ms gives it back", async () => {
  using fx = makeFixture({ "k1": "1", "k2": "2", "k3": "3", "d/a.txt": "a\n", "d/e/b.txt": "b\n" });
  await ok(fx, "run");
  Deno.removeSync(join(fx.source, "d"), { recursive: true });
  await ok(fx, "run");
  const out = join(fx.dir, "out");
  const latest = await fx.cli("restore", "d", "--to", out);
  assert.equal(latest.code, 1);
  const said = latest.stderr.match(
    /'source\/d' is not in the backup any more: the last of its files was deleted at (\S+Z): restore it with --at a time before that\n$/,
  );
  assert.ok(said, latest.stderr);
  const at = await fx.cli("restore", "d", "--at", new Date().toISOString(), "--to", out);
  assert.match(at.stderr, new RegExp(`the last of its files was deleted at ${said[1]}: give an`));
  const before = new Date(Date.parse(said[1]) - 1).toISOString();
  await ok(fx, "restore", "d", "--at", before, "--to", out);
  assert.deepEqual(readTree(out), { "d/a.txt": "a\n", "d/e/b.txt": "b\n" });
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

/**
 * End-to-end tests of what a restore's PATHs select, through the real CLI: one file or a
 * folder, with `--to` and in place; several sources, a PATH starting with the source name;
 * a PATH inside another given with it, over more than a page of records, each file
 * restored once; usage errors (exit 2, one line); and a restore that restores nothing,
 * which leaves no `--to` folder behind.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, readTree, writeConfig } from "./helpers.ts";
import { ok, put, snapshot } from "./restore_helpers.ts";

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

/**
 * Hard links restored as hard links, through the real CLI on real folders: a file with
 * three names and a file of the same bytes that is no link of it, restored whole (with
 * `--to` and in place), `--at` before and after one name was replaced, a link broken by
 * hand (the inode recorded before is not kept), names more than a restore batch apart,
 * existing files (`--overwrite` or not, and one that is not as recorded: never linked
 * to), a single file, a state written before link identities were recorded (schema 4), and
 * a first name not put in place after all (a file appeared at its name while it was written).
 * The disk without hard links is in reliability/fat_disk_test.ts.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { type Fixture, makeFixture, olderSchemaSql, writeTree } from "./helpers.ts";
import { pausedRun } from "./reliability/util.ts";
import { SCHEMA_VERSION } from "../src/state/schema.ts";

const TEXT = "the same bytes under several names\n";

/** A source with `one`, `two` and `b/three` one file, and `dup` the same bytes apart. */
function linkedFixture(): Fixture {
  const fx = makeFixture({ "a/one.txt": TEXT, "dup.txt": TEXT, "other.txt": "other\n" });
  Deno.linkSync(join(fx.source, "a/one.txt"), join(fx.source, "a/two.txt"));
  Deno.mkdirSync(join(fx.source, "b"));
  Deno.linkSync(join(fx.source, "a/one.txt"), join(fx.source, "b/three.txt"));
  return fx;
}

const GROUP = ["a/one.txt", "a/two.txt", "b/three.txt"];

/** Each path's inode under `root`. */
function inodes(root: string, paths: string[]): number[] {
  return paths.map((p) => Deno.lstatSync(join(root, p)).ino!);
}

/** The paths of `paths` that share one inode, grouped: [["a", "b"], ["c"]]. */
function linkGroups(root: string, paths: string[]): string[][] {
  const by = new Map<number, string[]>();
  inodes(root, paths).forEach((ino, i) => by.set(ino, [...by.get(ino) ?? [], paths[i]]));
  return [...by.values()];
}

async function ok(fx: Fixture, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await fx.cli(...args);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}${r.stdout}`);
  return r;
}

const ALL = [...GROUP, "dup.txt", "other.txt"];

Deno.test("hard links: a whole restore gives three names one file, and a duplicate its own", async () => {
  using fx = linkedFixture();
  await ok(fx, "run");
  const to = join(fx.dir, "r");
  const r = await ok(fx, "restore", "--to", to);
  assert.deepEqual(linkGroups(to, ALL), [GROUP, ["dup.txt"], ["other.txt"]]);
  assert.equal(Deno.lstatSync(join(to, "a/one.txt")).nlink, 3);
  for (const p of [...GROUP, "dup.txt"]) assert.equal(Deno.readTextFileSync(join(to, p)), TEXT);
  assert.match(r.stdout, /: 5 restored, 0 up to date, 0 not restored; 2 as hard links/);
  assert.match(
    r.stdout,
    /^RESTORED: source\/a\/two\.txt \(v1\) → .*\/r\/a\/two\.txt \(a hard link of '.*\/r\/a\/one\.txt'\)$/m,
  );
  // In place, the source gone: the same.
  Deno.removeSync(fx.source, { recursive: true });
  const json = JSON.parse((await ok(fx, "restore", "--json")).stdout);
  assert.deepEqual(linkGroups(fx.source, ALL), [GROUP, ["dup.txt"], ["other.txt"]]);
  const three = json.restored.find((d: { path: string }) => d.path === "source/b/three.txt");
  assert.equal(three.hardLinkOf, join(fx.source, "a/one.txt"));
  assert.equal(json.restored.filter((d: object) => "hardLinkOf" in d).length, 2);
  // One file alone is just that file.
  const single = join(fx.dir, "single");
  await ok(fx, "restore", "a/two.txt", "--to", single);
  assert.equal(Deno.lstatSync(join(single, "a/two.txt")).nlink, 1);
});

Deno.test("hard links: --at before a name was replaced gives three linked names, after it two", async () => {
  using fx = linkedFixture();
  await ok(fx, "run");
  const before = new Date().toISOString();
  // Saved as editors do: a new file renamed over the name, which leaves the link.
  const three = join(fx.source, "b/three.txt");
  Deno.writeTextFileSync(`${three}.new`, "a new content\n");
  Deno.renameSync(`${three}.new`, three);
  await ok(fx, "run");
  const old = join(fx.dir, "old");
  await ok(fx, "restore", "--at", before, "--to", old);
  assert.deepEqual(linkGroups(old, ALL), [GROUP, ["dup.txt"], ["other.txt"]]);
  assert.equal(Deno.readTextFileSync(join(old, "b/three.txt")), TEXT);
  const now = join(fx.dir, "now");
  await ok(fx, "restore", "--to", now);
  assert.deepEqual(linkGroups(now, ALL), [
    ["a/one.txt", "a/two.txt"],
    ["b/three.txt"],
    ["dup.txt"],
    ["other.txt"],
  ]);
  assert.equal(Deno.readTextFileSync(join(now, "b/three.txt")), "a new content\n");
});

Deno.test("hard links: names made separate files by hand, same bytes, are restored apart", async () => {
  using fx = linkedFixture();
  await ok(fx, "run");
  const one = join(fx.source, "a/one.txt");
  const { mtime } = Deno.statSync(one);
  // two.txt as it was (its time too: only its inode and change time differ), three.txt
  // with a new time: the other names are left with one link each.
  for (const p of ["a/two.txt", "b/three.txt"]) Deno.removeSync(join(fx.source, p));
  writeTree(fx.source, { "a/two.txt": TEXT, "b/three.txt": TEXT });
  Deno.utimeSync(join(fx.source, "a/two.txt"), mtime!, mtime!);
  await ok(fx, "run");
  const to = join(fx.dir, "r");
  await ok(fx, "restore", "--to", to);
  assert.equal(linkGroups(to, ALL).length, ALL.length, "no stale inode links them");
});

Deno.test("hard links: names more than a batch apart are linked (the first placed meanwhile)", async () => {
  const many: Record<string, string> = {};
  for (let i = 0; i < 700; i++) many[`m/${String(i).padStart(4, "0")}.txt`] = `file ${i}\n`;
  using fx = makeFixture({ ...many, "a/first.txt": TEXT });
  Deno.mkdirSync(join(fx.source, "z"));
  Deno.linkSync(join(fx.source, "a/first.txt"), join(fx.source, "z/last.txt"));
  Deno.linkSync(join(fx.source, "a/first.txt"), join(fx.source, "m/0300.link"));
  await ok(fx, "run");
  const to = join(fx.dir, "r");
  const r = await ok(fx, "restore", "--to", to);
  assert.match(r.stdout, /703 restored, 0 up to date, 0 not restored; 2 as hard links/);
  const group = ["a/first.txt", "m/0300.link", "z/last.txt"];
  assert.deepEqual(linkGroups(to, group), [group]);
});

Deno.test("hard links: existing files follow the usual rules, and one not as recorded is never linked to", async () => {
  using fx = linkedFixture();
  await ok(fx, "run");
  const to = join(fx.dir, "r");
  // two.txt holds other bytes; one.txt the same bytes with another mode (not as recorded).
  writeTree(to, { "a/one.txt": TEXT, "a/two.txt": "mine\n" });
  Deno.chmodSync(join(to, "a/one.txt"), 0o600);
  const first = await fx.cli("restore", "--to", to);
  assert.equal(first.code, 1, first.stderr);
  assert.match(
    first.stderr,
    /NOT RESTORED: source\/a\/two\.txt \(v1\): .* exists with other content/,
  );
  assert.equal(Deno.readTextFileSync(join(to, "a/two.txt")), "mine\n");
  // three.txt was written anew: one.txt is not the recorded file (its mode), not linked to.
  assert.equal(linkGroups(to, GROUP).length, 3);
  assert.equal(Deno.lstatSync(join(to, "a/one.txt")).mode! & 0o777, 0o600);
  // With --overwrite: one.txt is given its mode by a new file, and two.txt is replaced by
  // a link of it; three.txt, as recorded, is up to date: left as it is.
  await ok(fx, "restore", "--to", to, "--overwrite");
  assert.deepEqual(linkGroups(to, ALL), [
    ["a/one.txt", "a/two.txt"],
    ["b/three.txt"],
    ["dup.txt"],
    ["other.txt"],
  ]);
  assert.equal(Deno.readTextFileSync(join(to, "a/two.txt")), TEXT);
  // Restored again: all up to date, nothing replaced.
  const again = await ok(fx, "restore", "--to", to);
  assert.match(again.stdout, /0 restored, 5 up to date, 0 not restored\n/);
});

Deno.test("hard links: a state from before link identities (schema 4) restores separate files; a change records them", async () => {
  using fx = linkedFixture();
  // Past the 2 s in which a fingerprint is not trusted: the next runs read no file again.
  await new Promise((r) => setTimeout(r, 2100));
  await ok(fx, "run");
  const state = join(fx.backup, ".backup-tool", "state.db");
  const db = new DatabaseSync(state);
  // Schema 4: without schema 5's link identity, nor schema 6's extended attributes.
  db.exec(olderSchemaSql(4));
  db.close();
  const to = (name: string) => join(fx.dir, name);
  // Read as it is (readers never migrate): no link identity, so separate files.
  await ok(fx, "restore", "--to", to("r4"));
  assert.equal(linkGroups(to("r4"), ALL).length, ALL.length);
  // A run migrates it; copies recorded before stay without one while their file is unchanged.
  await ok(fx, "run");
  const version = new DatabaseSync(state, { readOnly: true });
  const { user_version } = version.prepare("PRAGMA user_version").get() as {
    user_version: number;
  };
  version.close();
  assert.equal(user_version, SCHEMA_VERSION);
  await ok(fx, "restore", "--to", to("r5"));
  assert.equal(linkGroups(to("r5"), ALL).length, ALL.length);
  // Its change time moved (a chmod), the file is read again and its links recorded.
  Deno.chmodSync(join(fx.source, "a/one.txt"), 0o640);
  await ok(fx, "run");
  await ok(fx, "restore", "--to", to("r6"));
  assert.deepEqual(linkGroups(to("r6"), ALL), [GROUP, ["dup.txt"], ["other.txt"]]);
});

Deno.test("hard links: a first name not put in place (a file appeared there) leaves the others one file, named as such", async () => {
  using fx = linkedFixture();
  await ok(fx, "run");
  const to = join(fx.dir, "r");
  // Held before the second name is written: one.txt is written to its temporary file,
  // not placed yet, and another file takes its name meanwhile.
  const args = ["restore", "--to", to, "--json", "--config", fx.config];
  await using paused = await pausedRun(args, "restoring:2", fx.dir);
  Deno.writeTextFileSync(join(to, "a/one.txt"), "mine\n");
  paused.resume();
  const out = await paused.child.output();
  const json = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(out.code, 1);
  assert.deepEqual(json.failed.map((f: { path: string }) => f.path), ["source/a/one.txt"]);
  assert.equal(Deno.readTextFileSync(join(to, "a/one.txt")), "mine\n");
  // two.txt and three.txt: the recorded file, one file, and neither named a link of the
  // one.txt there (someone else's); three.txt a link of two.txt, which it is.
  assert.deepEqual(linkGroups(to, GROUP), [["a/one.txt"], ["a/two.txt", "b/three.txt"]]);
  for (const p of ["a/two.txt", "b/three.txt"]) {
    assert.equal(Deno.readTextFileSync(join(to, p)), TEXT);
  }
  const linkOf = Object.fromEntries(
    json.restored.map((d: { path: string; hardLinkOf?: string }) => [d.path, d.hardLinkOf]),
  );
  assert.equal(linkOf["source/a/two.txt"], undefined);
  assert.equal(linkOf["source/b/three.txt"], join(to, "a/two.txt"));
});

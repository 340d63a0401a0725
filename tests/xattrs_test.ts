/**
 * Extended attributes and POSIX ACLs kept, through the real CLI on real folders (Linux, FFI
 * permitted): a first backup puts them on the mirror copy and records them with it (a file
 * without any records nothing), a change of them alone is recorded as a chmod is (the copy's
 * metadata brought up to date, no new version), `--at` a moment before a content change
 * gives that content's, a restore of a tree (`--to`, in place, one file) gives them back,
 * a `watch` records a change of them alone, a state from before them (schema 5) is read
 * and migrated, and a run and a restore without FFI neither read, drop nor give them.
 * Needs `setfattr`/`getfattr` (Debian's `attr`) and `setfacl`/`getfacl` (`acl`), and a
 * temporary folder whose file system keeps user.* attributes; skipped otherwise, saying
 * why. A disk that refuses them: reliability/fat_disk_test.ts; root's attributes and
 * another user's restore: reliability/ownership_test.ts.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import {
  type Fixture,
  MAIN,
  makeFixture,
  olderSchemaSql,
  poll,
  RESTRICTED_PERMISSIONS,
  runProgram,
} from "./helpers.ts";
import { attr, tool, whyNoXattrs } from "./xattr_tools.ts";
import { DEADLINE_MS, WatchProcess } from "./watch_helpers.ts";

const SKIP = whyNoXattrs();
if (SKIP) console.warn(`xattrs_test: skipped: ${SKIP}`);

function setAttr(path: string, name: string, value: string): void {
  assert.notEqual(tool("setfattr", "-n", name, "-v", value, path), undefined, `setfattr ${path}`);
}

/** The file's ACL entries beyond its mode (`user:65534:r--`...), or [] where it has none. */
function aclEntries(path: string): string[] {
  const text = tool("getfacl", "--omit-header", "--absolute-names", "--numeric", path) ?? "";
  return text.split("\n").filter((l) => /^(user|group):[^:]+:/.test(l)).map((l) => l.trim());
}

async function ok(fx: Fixture, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await fx.cli(...args);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}${r.stdout}`);
  return r;
}

/** The recorded attributes of each copy of `path` (logical), in content order. */
function recorded(fx: Fixture, path: string): (Uint8Array | null)[] {
  const db = new DatabaseSync(join(fx.backup, ".backup-tool", "state.db"), { readOnly: true });
  try {
    const rows = db.prepare("SELECT xattrs FROM copies WHERE path = ? ORDER BY seq").all(path);
    return rows.map((r) => r.xattrs as Uint8Array | null);
  } finally {
    db.close();
  }
}

/** A source with a tagged file holding an ACL, a read-only tagged one, and a plain one. */
function taggedFixture(config: Record<string, unknown> = {}): Fixture {
  const fx = makeFixture({ "a.txt": "a\n", "d/ro.txt": "read only\n", "plain.txt": "p\n" }, config);
  const a = join(fx.source, "a.txt");
  setAttr(a, "user.color", "blue");
  assert.notEqual(tool("setfacl", "-m", "u:65534:rw", a), undefined);
  const ro = join(fx.source, "d/ro.txt");
  setAttr(ro, "user.note", "x".repeat(3000));
  Deno.chmodSync(ro, 0o444); // a user.* attribute needs write permission: set before the mode
  return fx;
}

/** Each file of the tagged source as restored or stored under `root`, attributes and mode. */
function assertTagged(root: string): void {
  const a = join(root, "a.txt");
  assert.equal(attr(a, "user.color"), "blue");
  assert.deepEqual(aclEntries(a), ["user:65534:rw-"]);
  assert.equal(Deno.statSync(a).mode! & 0o777, 0o664); // the group bits are the ACL's mask
  const ro = join(root, "d/ro.txt");
  assert.equal(attr(ro, "user.note"), "x".repeat(3000));
  assert.equal(Deno.statSync(ro).mode! & 0o777, 0o444);
  assert.equal(attr(join(root, "plain.txt"), "user.color"), undefined);
  assert.deepEqual(aclEntries(join(root, "plain.txt")), []);
}

Deno.test({
  name: "xattrs: a first backup keeps user.* attributes and an ACL on the mirror copy; " +
    "restores of the tree (--to, in place) and of one file give them back",
  ignore: SKIP !== undefined,
  fn: async () => {
    using fx = taggedFixture();
    await ok(fx, "run");
    assertTagged(fx.backup);
    // Recorded with the copies that have some; a file without any records nothing.
    assert.equal(recorded(fx, "source/a.txt")[0] instanceof Uint8Array, true);
    assert.deepEqual(recorded(fx, "source/plain.txt"), [null]);
    const to = join(fx.dir, "r");
    await ok(fx, "restore", "--to", to);
    assertTagged(to);
    Deno.removeSync(fx.source, { recursive: true });
    await ok(fx, "restore");
    assertTagged(fx.source);
    const single = join(fx.dir, "single");
    await ok(fx, "restore", "a.txt", "--to", single);
    assert.equal(attr(join(single, "a.txt"), "user.color"), "blue");
  },
});

Deno.test({
  name: "xattrs: a change of them alone is recorded as a chmod is; --at before a content " +
    "change gives that content's",
  ignore: SKIP !== undefined,
  fn: async () => {
    using fx = makeFixture({ "f.txt": "one\n", "other.txt": "o\n" });
    const f = join(fx.source, "f.txt");
    setAttr(f, "user.tag", "first");
    await ok(fx, "run");
    // Their change alone: the copy's metadata is brought up to date, in place, as after a
    // chmod (the next run).
    setAttr(f, "user.tag", "second");
    await ok(fx, "run");
    assert.equal(attr(join(fx.backup, "f.txt"), "user.tag"), "second");
    Deno.chmodSync(f, 0o640);
    await ok(fx, "run");
    assert.equal(Deno.statSync(join(fx.backup, "f.txt")).mode! & 0o777, 0o640);
    assert.equal(attr(join(fx.backup, "f.txt"), "user.tag"), "second");
    assert.equal(recorded(fx, "source/f.txt").length, 1); // no new version for metadata
    const between = new Date().toISOString();
    // A new content with new attributes: the old one keeps those last seen with it.
    Deno.writeTextFileSync(f, "two\n");
    setAttr(f, "user.tag", "third");
    await ok(fx, "run");
    assert.equal(recorded(fx, "source/f.txt").length, 2);
    const old = join(fx.dir, "old");
    await ok(fx, "restore", "f.txt", "--at", between, "--to", old);
    assert.equal(Deno.readTextFileSync(join(old, "f.txt")), "one\n");
    assert.equal(attr(join(old, "f.txt"), "user.tag"), "second");
    assert.equal(Deno.statSync(join(old, "f.txt")).mode! & 0o777, 0o640); // as the mode
    const now = join(fx.dir, "now");
    await ok(fx, "restore", "--to", now);
    assert.equal(Deno.readTextFileSync(join(now, "f.txt")), "two\n");
    assert.equal(attr(join(now, "f.txt"), "user.tag"), "third");
    // Removed at the source: removed from the copy and the record alike.
    tool("setfattr", "-x", "user.tag", f);
    await ok(fx, "run");
    assert.equal(attr(join(fx.backup, "f.txt"), "user.tag"), undefined);
    assert.deepEqual(recorded(fx, "source/f.txt").at(-1), null);
    assert.deepEqual(recorded(fx, "source/other.txt"), [null]);
  },
});

Deno.test({
  name: "xattrs: watch records a change of them alone (an attrib event)",
  ignore: SKIP !== undefined,
  fn: async () => {
    using fx = makeFixture({ "w.txt": "w\n" }, {
      watch: { debounce_ms: 150, rescan_interval: 0 },
    });
    await using w = new WatchProcess(fx);
    await w.ready();
    setAttr(join(fx.source, "w.txt"), "user.seen", "by watch");
    await poll(
      "the attribute on the stored copy",
      () => attr(join(fx.backup, "w.txt"), "user.seen") === "by watch",
      DEADLINE_MS,
    );
    const exit = await w.stop();
    assert.equal(exit.code, 0, exit.stderr);
    assert.equal(recorded(fx, "source/w.txt")[0] instanceof Uint8Array, true);
  },
});

Deno.test({
  name: "xattrs: a state from before them (schema 5) restores without them; a run migrates " +
    "it, and a file's next read records them",
  ignore: SKIP !== undefined,
  fn: async () => {
    using fx = taggedFixture();
    // Past the 2 s in which a fingerprint is not trusted: the next runs read no file again.
    await new Promise((r) => setTimeout(r, 2100));
    await ok(fx, "run");
    const state = join(fx.backup, ".backup-tool", "state.db");
    const db = new DatabaseSync(state);
    db.exec(olderSchemaSql(5));
    db.close();
    // Read as it is (readers never migrate): none recorded, none given.
    const r5 = join(fx.dir, "r5");
    await ok(fx, "restore", "--to", r5);
    assert.equal(attr(join(r5, "a.txt"), "user.color"), undefined);
    // A run migrates it; the copies recorded before stay without them while unchanged.
    await ok(fx, "run");
    assert.deepEqual(recorded(fx, "source/a.txt"), [null]);
    // Its change time moved (a touch), the file is read again and its attributes recorded.
    const a = join(fx.source, "a.txt");
    Deno.utimeSync(a, new Date(), new Date());
    await ok(fx, "run");
    const r6 = join(fx.dir, "r6");
    await ok(fx, "restore", "a.txt", "--to", r6);
    assert.equal(attr(join(r6, "a.txt"), "user.color"), "blue");
    assert.deepEqual(aclEntries(join(r6, "a.txt")), ["user:65534:rw-"]);
  },
});

Deno.test({
  name: "xattrs: without FFI none are read or given, and those recorded stay as recorded",
  ignore: SKIP !== undefined,
  fn: async () => {
    using fx = taggedFixture();
    const restricted = (...args: string[]) =>
      runProgram(Deno.execPath(), [
        "run",
        ...RESTRICTED_PERMISSIONS,
        MAIN,
        ...args,
        "--config",
        fx.config,
      ]);
    await ok(fx, "run");
    const before = recorded(fx, "source/a.txt");
    // A change the run without FFI reads the file for (its time): the record keeps them.
    const a = join(fx.source, "a.txt");
    Deno.utimeSync(a, new Date(2_000_000_000_000), new Date(2_000_000_000_000));
    const run = await restricted("run");
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(recorded(fx, "source/a.txt"), before);
    const to = join(fx.dir, "r");
    const restore = await restricted("restore", "--to", to);
    assert.equal(restore.code, 0, restore.stderr);
    assert.equal(attr(join(to, "a.txt"), "user.color"), undefined);
    assert.doesNotMatch(restore.stderr, /extended attributes/);
  },
});

Deno.test({
  name: "xattrs: a restore over files of the same bytes says a recorded attribute they lack, " +
    "--overwrite gives it back; one they have beyond the record is theirs",
  ignore: SKIP !== undefined,
  fn: async () => {
    using fx = taggedFixture();
    await ok(fx, "run");
    const to = join(fx.dir, "r");
    await ok(fx, "restore", "--to", to);
    // Restored as recorded (the ACL included): a second restore finds all up to date.
    const again = await ok(fx, "restore", "--to", to);
    assert.doesNotMatch(again.stderr, /WARNING/);
    assert.match(again.stdout, /0 restored, 3 up to date/);
    const a = join(to, "a.txt");
    tool("setfattr", "-x", "user.color", a);
    setAttr(join(to, "plain.txt"), "user.extra", "mine");
    const said = await ok(fx, "restore", "--to", to);
    assert.match(
      said.stderr,
      /WARNING: source\/a\.txt \(v1\): the same bytes, but its extended attribute 'user\.color' is not as recorded: restore it with --overwrite to set them/,
    );
    assert.equal(said.stderr.match(/WARNING/g)?.length, 1, said.stderr);
    assert.equal(attr(a, "user.color"), undefined); // said, not changed
    const over = await ok(fx, "restore", "--to", to, "--overwrite");
    assert.match(over.stdout, /1 restored, 2 up to date/);
    assertTagged(to);
    assert.equal(attr(join(to, "plain.txt"), "user.extra"), "mine");
  },
});

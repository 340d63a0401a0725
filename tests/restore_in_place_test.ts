/**
 * End-to-end tests of `restore` in place, through the real CLI: a file changed since is left
 * alone unless `--overwrite`, the same bytes with another mode or time are up to date (a
 * loosened mode named), a folder replaced by a symlink is never written through (nor is
 * the backup root, reached directly or through a link), and a file put at the destination
 * while the restore ran is left alone.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, writeTree } from "./helpers.ts";
import { listHidden, ok, put, snapshot } from "./restore_helpers.ts";
import { pausedRun } from "./reliability/util.ts";

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

/**
 * `verify` through a symlink put by hand in the place of a folder of the backup root
 * (`versions/` moved to another disk and linked back): the copies behind it are checked
 * where it leads, as `restore` reads them, and the link is named; `--repair` never writes,
 * moves or deletes anything behind it; a link to a folder walked already (a loop, the
 * backup root's own parent) is not walked through.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { makeFixture, readTree, writeTree } from "./helpers.ts";

/** A backup with two old versions, its versions/ moved to "another disk" and linked back. */
async function linkedVersions() {
  const fx = makeFixture({ "a.txt": "a1\n", "b.txt": "b1\n" });
  assert.equal((await fx.cli("run")).code, 0);
  writeTree(fx.source, { "a.txt": "a2\n", "b.txt": "b2\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const disk = join(fx.dir, "other-disk");
  Deno.mkdirSync(disk);
  const moved = join(disk, "versions");
  Deno.renameSync(join(fx.backup, "versions"), moved);
  Deno.symlinkSync(moved, join(fx.backup, "versions"));
  return { fx, moved };
}

Deno.test("verify checks the copies behind a symlink in a folder's place where it leads, as restore reads them", async () => {
  const { fx, moved } = await linkedVersions();
  using _ = fx;
  const r = await fx.cli("verify", "--json");
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout);
  assert.deepEqual(report.missing, []);
  assert.deepEqual(report.unknown, []);
  assert.equal(report.checked, 4);
  assert.deepEqual(report.linked, [{ file: "versions", target: Deno.realPathSync(moved) }]);

  const text = await fx.cli("verify");
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^Verify: all 4 stored copies present, 4 re-hashed: intact/);
  assert.equal(
    text.stderr.trim(),
    `WARNING: 'versions' is a symlink put in the backup root by hand (to ` +
      `'${Deno.realPathSync(moved)}'): the copies below it were checked where it leads, as ` +
      "restore reads them, but runs never go through it (they store copies at a free name " +
      "beside it, such as 'versions.~2', and leave those behind it in place when retention " +
      "drops them): move the folder back in its place",
  );

  // What is wrong behind it is found there: a changed copy, a file no copy is recorded at.
  writeTree(moved, { "a.txt/v1.bak": "rot\n", "stray.txt": "x" });
  Deno.removeSync(join(moved, "b.txt/v1.bak"));
  const bad = JSON.parse((await fx.cli("verify", "--json")).stdout);
  assert.deepEqual(bad.changed.map((c: { file: string }) => c.file), ["versions/a.txt/v1.bak"]);
  assert.deepEqual(bad.missing.map((c: { file: string }) => c.file), ["versions/b.txt/v1.bak"]);
  assert.deepEqual(bad.unknown, [{ file: "versions/stray.txt" }]);
});

Deno.test("verify --repair makes a copy found changed behind a symlink beside it, touching nothing behind it", async () => {
  const { fx, moved } = await linkedVersions();
  using _ = fx;
  writeTree(moved, { "a.txt/v1.bak": "rot\n" });
  const before = readTree(dirname(moved));

  // Nothing holds its content: not repaired, and not taken for a copy that may be behind it.
  const none = await fx.cli("verify", "--forget-missing", "--json");
  assert.equal(none.code, 1, none.stdout + none.stderr);
  const report = JSON.parse(none.stdout);
  assert.deepEqual(report.forgotten, []);
  assert.deepEqual(
    report.notRepaired.map((o: { file: string; error: string }) => [o.file, o.error]),
    [[
      "versions/a.txt/v1.bak",
      "no file in the sources nor any other copy in the backup holds this content now",
    ]],
  );
  assert.deepEqual(readTree(dirname(moved)), before);

  // A source holds it again: made at a free name beside the link, what is behind it kept.
  writeTree(fx.source, { "a.txt": "a1\n" });
  const made = await fx.cli("verify", "--repair", "--json");
  const repaired = JSON.parse(made.stdout);
  assert.deepEqual(
    repaired.repaired.map((o: { file: string; movedTo: string }) => [o.file, o.movedTo]),
    [["versions/a.txt/v1.bak", "versions.~2/a.txt/v1.bak"]],
  );
  assert.deepEqual(repaired.unknown, [{ file: "versions/a.txt/v1.bak" }]);
  assert.deepEqual(readTree(dirname(moved)), before);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "versions.~2/a.txt/v1.bak")), "a1\n");
  // The next verify agrees: the damaged file behind the link is unknown, nothing else.
  const after = JSON.parse((await fx.cli("verify", "--json")).stdout);
  assert.deepEqual([after.missing, after.changed, after.unknown], [[], [], repaired.unknown]);
});

Deno.test("verify walks no symlink to a folder it walks already: a loop, or the backup root's parent", async () => {
  const { fx, moved } = await linkedVersions();
  using _ = fx;
  // A loop behind the link, where copies are recorded below it (a link where none are is
  // never walked, a loop or not): versions/a.txt leads back to versions/ itself.
  Deno.renameSync(join(moved, "a.txt"), join(fx.dir, "a.txt-elsewhere"));
  Deno.symlinkSync(moved, join(moved, "a.txt"));
  const looped = JSON.parse((await fx.cli("verify", "--json")).stdout);
  assert.deepEqual(looped.linked, [{ file: "versions", target: Deno.realPathSync(moved) }]);
  assert.deepEqual(looped.unknown, [{ file: "versions/a.txt" }]);
  assert.deepEqual(looped.missing.map((c: { file: string }) => c.file), ["versions/a.txt/v1.bak"]);
  Deno.removeSync(join(moved, "a.txt"));
  Deno.renameSync(join(fx.dir, "a.txt-elsewhere"), join(moved, "a.txt"));

  // versions linked to the folder holding the backup root: named, not walked through.
  Deno.removeSync(join(fx.backup, "versions"));
  Deno.symlinkSync(fx.dir, join(fx.backup, "versions"));
  const above = await fx.cli("verify", "--json");
  assert.equal(above.code, 1);
  const report = JSON.parse(above.stdout);
  assert.deepEqual(report.linked, []);
  assert.deepEqual(report.unknown, [{ file: "versions" }]);
  assert.deepEqual(report.missing.map((c: { file: string }) => c.file), [
    "versions/a.txt/v1.bak",
    "versions/b.txt/v1.bak",
  ]);
});

/**
 * `purge` and the copies it keeps (restore/purge_held.ts): a copy holding the only stored
 * bytes of a file still backed up, whose own copy is missing, is kept; one that is itself
 * missing holds no bytes, and is recorded purged as any missing copy is; one whose bytes
 * another stored copy not purged holds too (a version) goes, and `verify --repair` makes the
 * missing copy from that one.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { listFiles, makeFixture, writeConfig } from "./helpers.ts";

const BASE = { sources: ["./source"], backup_root: "./backup", log_dir: "./logs" };

Deno.test("purge keeps no copy that is missing itself: it holds no bytes of a duplicate whose copy is missing too", async () => {
  using fx = makeFixture({ "a.img": "same bytes\n", "b.img": "same bytes\n", "c.txt": "c\n" });
  assert.equal((await fx.cli("run")).code, 0);
  writeConfig(fx.config, { ...BASE, exclude: ["a.img"] });
  assert.equal((await fx.cli("run")).code, 0);
  // Both copies of the content removed by hand: a.img's holds nothing to keep.
  Deno.removeSync(join(fx.backup, "a.img"));
  Deno.removeSync(join(fx.backup, "_duplicates", "b.img"));
  const listed = await fx.cli("purge", "a.img");
  assert.equal(listed.code, 0, listed.stdout + listed.stderr);
  assert.equal(listed.stderr, "");
  assert.match(listed.stdout, /^PURGE: a\.img \(source\/a\.img v1, latest, 11 B\)\n/);
  const r = await fx.cli("purge", "a.img", "--yes");
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stderr, "");
  assert.match(
    r.stdout,
    /^Purge complete: 0 stored copies purged \(0 B\), 1 already missing from the backup root \(recorded as purged\), 0 failed; log: /m,
  );
  const history = await fx.cli("history", "a.img");
  assert.match(history.stdout, /purged by 'purge' at /);
  assert.deepEqual(
    listFiles(fx.backup).filter((f) => !f.startsWith(".backup-tool/")),
    ["c.txt"],
  );
});

Deno.test("purge deletes a copy whose bytes a version copy kept holds too, though a duplicate's own copy is missing: verify --repair makes it from that copy", async () => {
  using fx = makeFixture({ "a.img": "same bytes\n", "b.img": "same bytes\n", "c.txt": "c\n" });
  assert.equal((await fx.cli("run")).code, 0);
  // c.txt's first content is the same bytes: its copy goes to versions/ when it changes.
  Deno.writeTextFileSync(join(fx.source, "c.txt"), "same bytes\n");
  assert.equal((await fx.cli("run")).code, 0);
  Deno.writeTextFileSync(join(fx.source, "c.txt"), "c2\n");
  writeConfig(fx.config, { ...BASE, exclude: ["a.img"] });
  assert.equal((await fx.cli("run")).code, 0);
  const stored = () => listFiles(fx.backup).filter((f) => !f.startsWith(".backup-tool/"));
  const version = stored().find((f) => f.startsWith("versions/c.txt/") && f.endsWith("v2.bak"));
  assert.ok(version, stored().join("\n"));
  assert.equal(Deno.readTextFileSync(join(fx.backup, version)), "same bytes\n");
  // b.img's copy removed by hand, and b.img gone from the source (no run since): the
  // version copy is what holds its bytes once a.img's copy is purged.
  Deno.removeSync(join(fx.backup, "_duplicates", "b.img"));
  Deno.removeSync(join(fx.source, "b.img"));
  // The version copy not of its recorded size holds nothing for sure: a.img's is kept.
  Deno.writeTextFileSync(join(fx.backup, version), "short\n");
  const held = await fx.cli("purge", "a.img");
  assert.equal(held.code, 1, held.stdout + held.stderr);
  assert.match(held.stderr, /it holds the only stored bytes of 'source\/b\.img'/);
  Deno.writeTextFileSync(join(fx.backup, version), "same bytes\n");
  const listed = await fx.cli("purge", "a.img");
  assert.equal(listed.code, 0, listed.stdout + listed.stderr);
  assert.equal(listed.stderr, "");
  const r = await fx.cli("purge", "a.img", "--yes");
  // Before: exit 1, 'Cannot purge its copy 'a.img': it holds the only stored bytes of
  // 'source/b.img' …', the copy left in place.
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stderr, "");
  assert.ok(fx.lastLog().includes("PURGE delete: a.img"), fx.lastLog().join("\n"));
  assert.ok(!stored().includes("a.img"));
  const repair = await fx.cli("verify", "--repair");
  assert.equal(repair.code, 0, repair.stdout + repair.stderr);
  assert.match(
    repair.stdout,
    new RegExp(
      `REPAIRED: _duplicates/b\\.img \\(source/b\\.img v1\\) from stored copy '${version}'`,
    ),
  );
  assert.equal(Deno.readTextFileSync(join(fx.backup, "_duplicates", "b.img")), "same bytes\n");
  assert.equal((await fx.cli("verify")).code, 0);
});

/**
 * `purge` and the copies it keeps (restore/purge_held.ts): a copy holding the only stored
 * bytes of a file still backed up, whose own copy is missing, is kept; one that is itself
 * missing holds no bytes, and is recorded purged as any missing copy is.
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

/**
 * `watch` and files the state records as excluded: a change to one that is still there
 * runs no pass (a pass would find nothing to do at it), as for an excluded file the backup
 * holds nothing of.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, writeConfig, writeTree } from "./helpers.ts";
import { backedUp, filler, readOrUndefined, WatchProcess } from "./watch_helpers.ts";

const BASE = {
  sources: ["./source"],
  backup_root: "./backup",
  log_dir: "./logs",
  watch: { debounce_ms: 200, rescan_interval: 0 },
};

Deno.test("watch: a file the backup records as excluded, written to under an 'only these files' set, runs no pass", async () => {
  using fx = makeFixture({ ...filler(), "a.txt": "a\n", "data.db": "db\n" });
  assert.equal((await fx.cli("run")).code, 0);
  // Backed up, then excluded: the next run records it so, its copy kept.
  writeConfig(fx.config, { ...BASE, exclude: ["*", "!*/", "!*.txt"] });
  const run = await fx.cli("run");
  assert.equal(run.code, 0, run.stderr);
  assert.ok(fx.lastLog().some((l) => l.startsWith("EXCLUDED: source/data.db")), run.stdout);
  await using w = new WatchProcess(fx, ["--json"]);
  await w.ready();
  writeTree(fx.source, { "data.db": "db 2\n" });
  writeTree(fx.source, { "b.txt": "b\n" });
  await backedUp(fx.backup, "b.txt", "b\n");
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  const batches = exit.stdout.trim().split("\n").map((l) => JSON.parse(l)).filter((b) => !b.full);
  const seen = batches.map((b) => ({ paths: b.paths, backup: b.counts.backup }));
  assert.deepEqual(seen, [{ paths: 1, backup: 1 }], exit.stdout);
  assert.equal(readOrUndefined(join(fx.backup, "data.db")), "db\n", "its copy kept as it was");
});

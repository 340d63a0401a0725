/**
 * `watch` and config changes: what a session says about a config that differs from the one
 * the backup was made with (a source renamed or removed before it starts), through the real
 * CLI as a subprocess.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, writeConfig } from "./helpers.ts";
import { WatchProcess } from "./watch_helpers.ts";

const WATCH = { watch: { debounce_ms: 200, rescan_interval: 0 } };

Deno.test("watch: a source the config no longer names is said, as run says it", async () => {
  using fx = makeFixture({ "a.txt": "a\n" }, WATCH);
  assert.equal((await fx.cli("run")).code, 0);
  // The source folder renamed, and the config with it: a new source, its files stored anew.
  Deno.renameSync(fx.source, join(fx.dir, "renamed"));
  writeConfig(fx.config, {
    sources: ["./renamed"],
    backup_root: "./backup",
    log_dir: "./logs",
    ...WATCH,
  });
  await using w = new WatchProcess(fx);
  await w.ready();
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  const note = /the state still tracks files of 'source' \(1 file\), no longer in the config/;
  assert.match(exit.stderr, note);
  assert.ok(fx.lastLog().some((l) => note.test(l) && l.startsWith("NOTE: ")), "logged");
});

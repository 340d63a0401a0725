/**
 * `watch` and config changes: what a session says about a config that differs from the one
 * the backup was made with (a source renamed or removed before it starts), through the real
 * CLI as a subprocess, or in this process where the state is made to fail.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture, writeConfig } from "./helpers.ts";
import { DEADLINE_MS, WatchProcess } from "./watch_helpers.ts";
import { loadConfig } from "../src/config/config.ts";
import { StateStore } from "../src/state/store.ts";
import { startWatch } from "../src/watch/watch.ts";

const WATCH = { watch: { debounce_ms: 200, rescan_interval: 0 } };

/** The source folder renamed, and the config with it: a new source, its files stored anew. */
function renameSource(fx: Fixture): void {
  Deno.renameSync(fx.source, join(fx.dir, "renamed"));
  writeConfig(fx.config, {
    sources: ["./renamed"],
    backup_root: "./backup",
    log_dir: "./logs",
    ...WATCH,
  });
}

Deno.test("watch: a source the config no longer names is said, as run says it", async () => {
  using fx = makeFixture({ "a.txt": "a\n" }, WATCH);
  assert.equal((await fx.cli("run")).code, 0);
  renameSource(fx);
  await using w = new WatchProcess(fx);
  await w.ready();
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  const note = /the state still tracks files of 'source' \(1 file\), no longer in the config/;
  assert.match(exit.stderr, note);
  assert.ok(fx.lastLog().some((l) => note.test(l) && l.startsWith("NOTE: ")), "logged");
});

Deno.test("watch: a note on left sources that cannot be made fails no pass, and the session starts", async () => {
  using fx = makeFixture({ "a.txt": "a\n" }, WATCH);
  assert.equal((await fx.cli("run")).code, 0);
  renameSource(fx);
  // The state fails to count the left source's files (busy, an I/O error): a note only.
  const counted = StateStore.prototype.trackedIn;
  StateStore.prototype.trackedIn = function (source, upTo) {
    if (source === "source") throw new Error("disk I/O error");
    return counted.call(this, source, upTo);
  };
  const warnings: string[] = [];
  try {
    const handle = await startWatch(loadConfig(fx.config), { onWarning: (m) => warnings.push(m) });
    try {
      let timer: ReturnType<typeof setTimeout> | undefined;
      // The watch helpers' deadline: a first pass on a loaded machine may take seconds.
      const timeout = new Promise<boolean>((r) => timer = setTimeout(() => r(false), DEADLINE_MS));
      const started = await Promise.race([handle.ready.then(() => true), timeout]);
      clearTimeout(timer);
      assert.ok(started, `never said started: ${warnings.join("\n")}`);
      assert.ok(!warnings.some((w) => w.includes("pass failed")), warnings.join("\n"));
    } finally {
      await handle.stop();
    }
  } finally {
    StateStore.prototype.trackedIn = counted;
  }
  assert.ok(fx.lastLog().some((l) => l.startsWith("Watch started")), fx.lastLog().join("\n"));
});

/**
 * `watch` and symlinks to folders in a source. Deno's watcher (inotify, Linux) follows
 * every symlink to a folder below a folder it follows recursively: a symlink to `/` (wine's
 * `dosdevices/z:`) failed it for good, and one to a followed folder, met in a folder moved
 * in, had it name that folder's changes by the link's path, which the passes never backed
 * up. Found by the soak hunt of 2026-12-04 (see src/watch/coverage.ts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, poll, writeTree } from "./helpers.ts";
import { backedUp, DEADLINE_MS, filler, WatchProcess } from "./watch_helpers.ts";

/** Small debounce; no periodic rescan, so events alone must do it. */
const WATCH = { watch: { debounce_ms: 200, rescan_interval: 0 } };
/** inotify is the watcher that follows symlinks; elsewhere there is nothing to check. */
const ignore = Deno.build.os !== "linux";

Deno.test({
  name: "watch: a source holding a symlink to / (wine's dosdevices/z:) is followed, never walked",
  ignore,
  fn: async () => {
    using fx = makeFixture({ ...filler(), "a.txt": "v1\n" }, WATCH);
    Deno.symlinkSync("/", join(fx.source, "z"));
    await using w = new WatchProcess(fx);
    await w.ready();
    Deno.writeTextFileSync(join(fx.source, "a.txt"), "v2\n");
    await backedUp(fx.backup, "a.txt", "v2\n");
    const exit = await w.stop();
    assert.equal(exit.code, 0, exit.stderr);
    assert.doesNotMatch(exit.stderr, /Watcher failed/);
    assert.equal(Deno.readLinkSync(join(fx.backup, "z")), "/", "stored as a symlink");
  },
});

Deno.test({
  name:
    "watch: a folder holding a symlink to a followed folder, moved in, leaves that folder's changes backed up",
  ignore,
  fn: async () => {
    using fx = makeFixture({ ...filler(), "docs/a.txt": "v1\n" }, WATCH);
    const moved = join(fx.dir, "outside", "o");
    Deno.mkdirSync(moved, { recursive: true });
    Deno.symlinkSync("../docs", join(moved, "lnk")); // leads to source/docs once moved in
    await using w = new WatchProcess(fx);
    await w.ready();
    Deno.renameSync(moved, join(fx.source, "o"));
    // The watch has seen the move (and Deno followed the link as it added the folder).
    await poll("the link in the backup", () => {
      try {
        return Deno.lstatSync(join(fx.backup, "o", "lnk")).isSymlink;
      } catch {
        return false;
      }
    }, DEADLINE_MS);
    writeTree(fx.source, { "docs/b.txt": "b\n" });
    await backedUp(fx.backup, "docs/b.txt", "b\n");
    Deno.writeTextFileSync(join(fx.source, "docs", "a.txt"), "v2\n");
    await backedUp(fx.backup, "docs/a.txt", "v2\n");
    const exit = await w.stop();
    assert.equal(exit.code, 0, exit.stderr);
    assert.doesNotMatch(exit.stderr, /ERROR/);
    assert.doesNotMatch(exit.stderr, /Watcher failed/);
  },
});

/**
 * `watch` and a path that changes type: the old entry gives up its name before the new one
 * takes it, as in `run`, however the events for the two come in.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { listFiles, makeFixture, poll } from "./helpers.ts";
import { backedUp, WatchProcess } from "./watch_helpers.ts";

const WATCH = { watch: { debounce_ms: 150, rescan_interval: 0 } };

Deno.test("watch: a file replaced by a folder whose file goes quiet first is stored at its own path", async () => {
  using fx = makeFixture({ "x": "old\n", "keep.txt": "k\n" }, WATCH);
  await using w = new WatchProcess(fx);
  await w.ready();
  const x = join(fx.source, "x");
  Deno.removeSync(x);
  Deno.mkdirSync(x);
  Deno.writeTextFileSync(join(x, "y"), "new\n");
  // The folder keeps getting events (its mode set again and again) after its file went
  // quiet: the file's event is applied first. Not a wait for an outcome: events to make.
  for (let i = 0; i < 8; i++) {
    Deno.chmodSync(x, 0o755);
    await new Promise((r) => setTimeout(r, 100));
  }
  await backedUp(fx.backup, "x/y", "new\n");
  await poll("the old x to be archived", () => listFiles(fx.backup).includes("_deleted/x"));
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  assert.deepEqual(listFiles(fx.backup).filter((p) => !p.startsWith(".backup-tool/")), [
    "_deleted/x",
    "keep.txt",
    "x/y",
  ]);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "_deleted", "x")), "old\n");
});

/**
 * `watch` and a folder renamed while a pass checks a path inside it (held at the `scoped`
 * pause point, BACKUP_TOOL_PAUSE): the path is gone, as a file removed before its read is,
 * never a failure. Seen once in a 40-minute soak under folder churn (2026-12-04).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, poll, writeTree } from "./helpers.ts";
import { backedUp, DEADLINE_MS, filler, WatchProcess } from "./watch_helpers.ts";
import { exists } from "./reliability/util.ts";

const WATCH = { watch: { debounce_ms: 200, rescan_interval: 0 } };

Deno.test("watch: a folder renamed while a pass checks a path in it is gone, not a failure", async () => {
  using fx = makeFixture({ ...filler(), "d/a.txt": "a\n" }, WATCH);
  const marker = join(fx.dir, "paused");
  // The first scoped path checked: the first pass is a full one, which checks none.
  await using w = new WatchProcess(fx, [], { BACKUP_TOOL_PAUSE: `scoped:1:${marker}` });
  await w.ready();
  writeTree(fx.source, { "d/b.txt": "b\n" });
  await poll("the pass to be held", () => exists(marker), DEADLINE_MS);
  Deno.renameSync(join(fx.source, "d"), join(fx.source, "e"));
  Deno.removeSync(marker);
  await backedUp(fx.backup, "e/b.txt", "b\n");
  await backedUp(fx.backup, "_deleted/d/a.txt", "a\n");
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  assert.doesNotMatch(exit.stderr, /ERROR/);
  const log = fx.logLines();
  assert.ok(log.some((l) => l.startsWith("SKIP VANISHED: source/d/b.txt")), log.join("\n"));
});

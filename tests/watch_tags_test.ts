/**
 * `watch` and folders tagged to be left out (`exclude_caches`): a tag made in a watched
 * folder leaves the folder's later changes out (its files backed up before keep their
 * copies, marked excluded), and the tag removed brings them back in, each seen by the
 * passes its events run, without a rescan.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, poll, writeTree } from "./helpers.ts";
import { backedUp, DEADLINE_MS, filler, readOrUndefined, WatchProcess } from "./watch_helpers.ts";

const TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# a cache directory tag\n";

Deno.test("watch: a CACHEDIR.TAG made in a watched folder leaves its later changes out; removed, they are backed up", async () => {
  using fx = makeFixture({ ...filler(), "cache/a.txt": "a\n", "cache/deep/b.txt": "b\n" }, {
    exclude_caches: true,
    watch: { debounce_ms: 200, rescan_interval: 0 },
  });
  await using w = new WatchProcess(fx, ["--json"]);
  await w.ready();
  writeTree(fx.source, { "cache/CACHEDIR.TAG": TAG });
  await backedUp(fx.backup, "cache/CACHEDIR.TAG", TAG);
  // The pass the tag ran walked its folder: what was backed up there is now excluded.
  await poll(
    "the cache's files said excluded",
    () => fx.logLines().filter((l) => l.startsWith("EXCLUDED: source/cache/")).length === 2,
    DEADLINE_MS,
  );
  // The tag's batch said (its line comes once its pass ends).
  const eventBatches = () =>
    w.stdout.trim().split("\n").filter((l) => l.startsWith("{") && !JSON.parse(l).full).length;
  await poll("the tag's batch said", () => eventBatches() === 1, DEADLINE_MS);
  const before = w.stdout.length;
  writeTree(fx.source, { "cache/a.txt": "a 2\n", "cache/deep/new.txt": "new\n" });
  writeTree(fx.source, { "keep/after.txt": "after\n" });
  await backedUp(fx.backup, "keep/after.txt", "after\n");
  assert.equal(readOrUndefined(join(fx.backup, "cache/a.txt")), "a\n", "its copy kept");
  assert.equal(readOrUndefined(join(fx.backup, "cache/deep/new.txt")), undefined);
  // No pass ran for them (it would have had nothing to do): one batch, the marker's.
  const batches = w.stdout.slice(before).trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(batches.map((b) => b.paths), [1], w.stdout.slice(before));
  // Removed: the folder is walked again, and what changed meanwhile backed up.
  Deno.removeSync(join(fx.source, "cache/CACHEDIR.TAG"));
  await backedUp(fx.backup, "cache/deep/new.txt", "new\n");
  await backedUp(fx.backup, "cache/a.txt", "a 2\n");
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  assert.ok(
    !fx.logLines().some((l) => l.startsWith("DELETE") && l.includes("source/cache/a.txt")),
  );
  assert.equal(readOrUndefined(join(fx.backup, "_deleted/cache/a.txt")), undefined);
});

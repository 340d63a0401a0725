/**
 * A watch's source folder moved away (its disk unmounted) is said to be missing by the
 * pass that finds it so, as docs/watch.md says, a periodic rescan included: before, a rescan that
 * came before the pass of the events logged `SKIP VANISHED: source (Cannot list folder …)`
 * and said nothing on stderr, at every rescan, so a service's journal never showed it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, poll, writeTree } from "./helpers.ts";
import { backedUp, WatchProcess } from "./watch_helpers.ts";
import { exists } from "./reliability/util.ts";

Deno.test("watch: a periodic rescan that finds its source folder missing says so (ERROR), its files kept", async () => {
  // Events wait 10 s to be applied: the rescans (every second) find the folder missing first.
  using fx = makeFixture({ "a.txt": "a\n" }, {
    watch: { debounce_ms: 10_000, rescan_interval: 1 },
  });
  await using w = new WatchProcess(fx);
  await w.ready();
  const away = join(fx.dir, "source.away");
  Deno.renameSync(fx.source, away);
  const said = /ERROR: source: Cannot read source '.*': it is missing \(moved away/;
  await poll("a rescan to say the source is missing", () => said.test(w.stderr), 8_000);
  assert.ok(fx.logLines().some((l) => said.test(l)), fx.logLines().join("\n"));
  assert.ok(!fx.logLines().some((l) => l.startsWith("SKIP VANISHED: source ")));
  assert.ok(!exists(join(fx.backup, "_deleted")), "a source moved away is not a deletion");
  Deno.renameSync(away, fx.source);
  writeTree(fx.source, { "b.txt": "b\n" });
  await backedUp(fx.backup, "b.txt", "b\n");
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  assert.ok(!exists(join(fx.backup, "_deleted")), "nothing archived on its return either");
});

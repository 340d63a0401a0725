/**
 * What a watch session keeps in memory by path is what the tree holds now, not what it held
 * once: sessions run for weeks, and a set that only grows is a leak. In this process, where
 * the session's counts (`pathsKept`) can be read.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, poll, writeTree } from "./helpers.ts";
import { DEADLINE_MS, filler } from "./watch_helpers.ts";
import { loadConfig } from "../src/config/config.ts";
import { startWatch } from "../src/watch/watch.ts";

Deno.test("watch: files over exclude_larger_than said and then removed are forgotten by the next full pass", async () => {
  using fx = makeFixture(filler(), {
    exclude_larger_than: "1K",
    watch: { debounce_ms: 100, rescan_interval: 1 },
  });
  const handle = await startWatch(loadConfig(fx.config), {});
  try {
    await handle.ready;
    const said = () => fx.logLines().filter((l) => l.startsWith("SKIP LARGE: source/dl/")).length;
    for (let i = 0; i < 20; i++) writeTree(fx.source, { [`dl/big${i}.iso`]: "x".repeat(4096) });
    await poll("the 20 large files said", () => said() >= 20, DEADLINE_MS);
    await poll("the 20 remembered", () => handle.pathsKept().saidLarge === 20, DEADLINE_MS);
    Deno.removeSync(join(fx.source, "dl"), { recursive: true });
    const rescans = () => fx.logLines().filter((l) => l.startsWith("RESCAN done")).length;
    const before = rescans();
    await poll("two full passes since", () => rescans() >= before + 2, DEADLINE_MS);
    const kept = handle.pathsKept();
    assert.equal(kept.saidLarge, 0, `files gone still remembered: ${JSON.stringify(kept)}`);
  } finally {
    await handle.stop();
  }
});

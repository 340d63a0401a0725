import assert from "node:assert/strict";
import { sleepSync } from "./sleep_sync.ts";

Deno.test("sleepSync holds the thread for its time, and timers wait for it", async () => {
  let fired = false;
  const timer = setTimeout(() => fired = true, 0);
  const start = performance.now();
  sleepSync(30);
  const held = performance.now() - start;
  assert.ok(held >= 29, `held ${held} ms, not 30`);
  assert.equal(fired, false, "a timer ran during a synchronous pause");
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(fired, true);
  clearTimeout(timer);
});

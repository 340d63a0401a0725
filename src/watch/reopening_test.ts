/** Unit tests of reopening.ts: the pauses before reopening and how they are counted. */
import assert from "node:assert/strict";
import { REOPEN_FIRST_MS, REOPEN_MAX_MS, Reopening, reopenPause } from "./reopening.ts";

Deno.test("reopening: the pause doubles from the first, up to the longest", () => {
  const pauses = [0, 1, 2, 3, 4, 5, 6, 7, 2000].map(reopenPause);
  assert.deepEqual(pauses, [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  assert.equal(reopenPause(0), REOPEN_FIRST_MS);
  assert.equal(reopenPause(100), REOPEN_MAX_MS);
});

Deno.test("reopening: failures in a row are counted until the watchers work again", () => {
  const reopening = new Reopening(() => {});
  assert.deepEqual(reopening.countFailure(), { attempt: 1, pauseMs: 1000 });
  assert.deepEqual(reopening.countFailure(), { attempt: 2, pauseMs: 2000 });
  reopening.working();
  assert.deepEqual(reopening.countFailure(), { attempt: 1, pauseMs: 1000 });
  reopening.countFailure();
  reopening.forgetFailures();
  assert.deepEqual(reopening.countFailure(), { attempt: 1, pauseMs: 1000 });
  assert.equal(reopening.pending, false, "nothing scheduled yet");
});

Deno.test("reopening: a scheduled reopening is pending until it fires", async () => {
  let fired!: () => void;
  const ran = new Promise<void>((resolve) => fired = resolve);
  const reopening = new Reopening(() => {
    reopening.fired();
    fired();
  });
  reopening.schedule(1);
  assert.equal(reopening.pending, true);
  await ran;
  assert.equal(reopening.pending, false);
});

Deno.test("reopening: a reopening due later is brought forward to the first pause", async () => {
  let fired!: () => void;
  const ran = new Promise<void>((resolve) => fired = resolve);
  const reopening = new Reopening(() => {
    reopening.fired();
    fired();
  });
  reopening.schedule(REOPEN_MAX_MS);
  const deadline = Promise.withResolvers<void>();
  const late = setTimeout(deadline.reject, REOPEN_MAX_MS / 2, new Error("not brought forward"));
  try {
    reopening.bringForward();
    await Promise.race([ran, deadline.promise]);
    assert.equal(reopening.pending, false);
  } finally {
    clearTimeout(late);
    reopening.cancel();
  }
});

/** Unit tests of the deletion guard's message (judgeVanished). */
import assert from "node:assert/strict";
import { type DeletionWindow, judgeVanished } from "./vanished.ts";

Deno.test("guard: in a watch's window, the remedy names the sources of the deletions held back before too", () => {
  // Held back earlier in the window: 8 files of 'a' (its disk unmounted), still tracked.
  const heldBack = new Set(Array.from({ length: 8 }, (_, i) => `a/f${i}`));
  const window: DeletionWindow = { tracked: 20, heldBack };
  const verdict = judgeVanished([{ path: "b/g0", status: "current" }], {
    sources: [{ name: "a", path: "/nonexistent-r3/a" }, { name: "b", path: "/nonexistent-r3/b" }],
    exclude: [],
    maxDeletePercent: 40,
    trackedCount: () => 20,
    trackedIn: () => 10,
    window,
  });
  // 9 of 20, the 8 held back with this one: a run with --force would archive all 9.
  assert.match(verdict.guard ?? "", /^9 of 20 tracked files would be archived as deleted since/);
  assert.match(verdict.guard ?? "", /; if 'a' and 'b' are mounted and the deletions are intended/);
  assert.deepEqual(verdict.delete, []);
});

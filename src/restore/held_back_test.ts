/** Unit tests of the warnings of deletions the mass-deletion guard held back. */
import assert from "node:assert/strict";
import { heldBackRestoreWarning } from "./held_back.ts";

const held = (ids: number[]) => ids.map((id) => ({ id, startedAt: id * 1000, heldBack: id }));

Deno.test("heldBackRestoreWarning: a few runs are named each", () => {
  assert.match(
    heldBackRestoreWarning(held([2, 3, 5])),
    /^WARNING: runs 2, 3 and 5 \(the first started 1970-01-01T00:00:02\.000Z\) held back deletions \(5 deletions the last\) /,
  );
});

Deno.test("heldBackRestoreWarning: a daily run held back for a year is one short line, not 365 numbers", () => {
  const line = heldBackRestoreWarning(held(Array.from({ length: 365 }, (_, i) => i + 2)));
  assert.match(
    line,
    /^WARNING: 365 runs, from run 2 to run 366 \(the first started 1970-01-01T00:00:02\.000Z\), held back deletions \(366 deletions the last\) /,
  );
  assert.ok(line.length < 400, line);
});

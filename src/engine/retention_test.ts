/** Table tests of the retention rule. */
import assert from "node:assert/strict";
import { planRetention } from "./retention.ts";

const v = (path: string, seq: number) => ({
  path,
  copyId: seq,
  seq,
  storedAt: `versions/${path}/v${seq}.bak`,
});

Deno.test("retention: keeps the newest N per path, prunes the rest oldest first", () => {
  const actions = planRetention([v("a", 3), v("a", 1), v("a", 2), v("b", 7)], 2);
  assert.deepEqual(actions.map((a) => a.type === "prune" && a.storedAt), ["versions/a/v1.bak"]);
});

Deno.test("retention: nothing to prune at or under the limit", () => {
  assert.deepEqual(planRetention([v("a", 1), v("a", 2)], 2), []);
  assert.deepEqual(planRetention([], 1), []);
});

Deno.test("retention: deterministic order across paths", () => {
  const actions = planRetention([v("z", 1), v("z", 2), v("a", 1), v("a", 2)], 1);
  assert.deepEqual(actions.map((a) => a.path), ["a", "z"]);
});

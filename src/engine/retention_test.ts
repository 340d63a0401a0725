/** Table tests of the retention rule. */
import assert from "node:assert/strict";
import { mostKept, planRetention, type StoredVersion } from "./retention.ts";

/** Version `seq` of `path`, first backed up at `validFrom` (local time, by default seq hours in). */
const v = (path: string, seq: number, validFrom = new Date(2026, 0, 1, seq).getTime()) => ({
  path,
  copyId: seq,
  seq,
  storedAt: `versions/${path}/v${seq}.bak`,
  validFrom,
});

/** The seqs `actions` prune. */
const pruned = (actions: ReturnType<typeof planRetention>) =>
  actions.map((a) => a.type === "prune" ? a.seq : -1);

/** Versions 1.. of `a`, one at each local time given as [month, day, hour]. */
function at(...times: [number, number, number][]): StoredVersion[] {
  return times.map(([month, day, hour], i) =>
    v("a", i + 1, new Date(2026, month - 1, day, hour).getTime())
  );
}

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

Deno.test("retention: days keep the newest version of each of the newest days that have versions", () => {
  // Three on 2 March, two on 5 March, four on 9 March (a file saved many times a day).
  const versions = at(
    [3, 2, 9],
    [3, 2, 12],
    [3, 2, 23],
    [3, 5, 0],
    [3, 5, 8],
    [3, 9, 10],
    [3, 9, 11],
    [3, 9, 12],
    [3, 9, 13],
  );
  // The newest 2 (8, 9), and the newest of 9 March (9) and of 5 March (5).
  assert.deepEqual(pruned(planRetention(versions, 2, { days: 2, weeks: 0, months: 0 })), [
    1,
    2,
    3,
    4,
    6,
    7,
  ]);
  // Three days: 2 March's newest (3) too; days with no version are not counted.
  assert.deepEqual(pruned(planRetention(versions, 2, { days: 3, weeks: 0, months: 0 })), [
    1,
    2,
    4,
    6,
    7,
  ]);
});

Deno.test("retention: weeks start on Monday, months are calendar months, each keeping its newest", () => {
  // 2026-03-01 is a Sunday: 1 March ends a week, 2 March (Monday) starts the next.
  const versions = at([2, 27, 10], [3, 1, 10], [3, 1, 20], [3, 2, 9], [3, 3, 9], [3, 31, 9]);
  assert.deepEqual(pruned(planRetention(versions, 1, { days: 0, weeks: 2, months: 0 })), [
    1,
    2,
    3,
    4,
  ]); // 6 (newest, and its week's), 5 (the week of 2 March's newest)
  assert.deepEqual(pruned(planRetention(versions, 1, { days: 0, weeks: 0, months: 2 })), [
    2,
    3,
    4,
    5,
  ]); // 6 (March's newest), 1 (February's)
  assert.deepEqual(pruned(planRetention(versions, 1, { days: 1, weeks: 1, months: 2 })), [
    2,
    3,
    4,
    5,
  ]); // the periods' newest overlap: 6 for its day, week and month
});

Deno.test("retention: the most versions kept is the newest N and one per period asked for", () => {
  assert.equal(mostKept(10, { days: 7, weeks: 4, months: 12 }), 33);
  const versions = Array.from({ length: 60 }, (_, i) => v("a", i + 1, Date.UTC(2026, 0, i + 1)));
  const periods = { days: 7, weeks: 4, months: 12 };
  const kept = 60 - planRetention(versions, 10, periods).length;
  assert.ok(kept <= mostKept(10, periods), `${kept} kept`);
});

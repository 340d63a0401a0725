/**
 * Table tests of the retention rule; those that need a zone of their own run it in a child
 * process with its `TZ` (prunedIn).
 */
import assert from "node:assert/strict";
import { type KeptPeriods, mostKept, planRetention, type StoredVersion } from "./retention.ts";
import { evalInZone } from "../../tests/helpers.ts";

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
  // One version a day, 1 January to 1 March (a Sunday), with every period asked for more
  // than it has: each period's newest is kept, and nothing else beyond the newest 10.
  const versions = Array.from(
    { length: 60 },
    (_, i) => v("a", i + 1, new Date(2026, 0, i + 1, 12).getTime()),
  );
  const periods = { days: 100, weeks: 100, months: 100 };
  const kept = new Set(versions.map((x) => x.seq));
  for (const seq of pruned(planRetention(versions, 10, periods))) kept.delete(seq);
  // Every day (all 60), so also every week's and month's newest.
  assert.equal(kept.size, 60);
  // Days 3: the newest 10 (51-60), then weeks 2 (Sunday 1 March, Sunday 22 February: in them),
  // months 3 (1 March: 60, 28 February: 59, 31 January: 31).
  const some = { days: 3, weeks: 2, months: 3 };
  const prunedSome = pruned(planRetention(versions, 10, some));
  assert.deepEqual(
    versions.map((x) => x.seq).filter((seq) => !prunedSome.includes(seq)),
    [31, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60],
  );
  assert.ok(60 - prunedSome.length <= mostKept(10, some));
});

const RETENTION = new URL("./retention.ts", import.meta.url).href;

/** Times of versions 1.. of `a`: UTC ones, or local ones [month, day, hour] of 2026. */
type Times = number[] | [number, number, number][];

/**
 * The seqs the rule prunes of each case's versions (the newest 1 kept, and its periods),
 * run in a process whose local time is in `zone` (evalInZone): a `TZ` set here would move
 * the local time of the test files running beside this one.
 */
function prunedIn(zone: string, cases: [Times, Partial<KeptPeriods>][]): Promise<number[][]> {
  return evalInZone(
    zone,
    `import { NO_PERIODS, planRetention } from ${JSON.stringify(RETENTION)};
    const at = (t: number | number[]) =>
      typeof t === "number" ? t : new Date(2026, t[0] - 1, t[1], t[2]).getTime();
    const cases: [(number | number[])[], object][] = ${JSON.stringify(cases)};
    console.log(JSON.stringify(cases.map(([times, periods]) => {
      const versions = times.map((t, i) => ({
        path: "a", copyId: i + 1, seq: i + 1, storedAt: "versions/a/v" + (i + 1) + ".bak",
        validFrom: at(t),
      }));
      return planRetention(versions, 1, { ...NO_PERIODS, ...periods })
        .map((a) => a.type === "prune" ? a.seq : -1);
    })));`,
  ) as Promise<number[][]>;
}

Deno.test("retention: days and weeks are local calendar ones across changes of daylight saving time", async () => {
  // 29 March 2026 has 23 hours in Berlin; 30 March 00:15 is still 29 March in UTC.
  const spring: Times = [[3, 28, 23], [3, 29, 0], [3, 29, 23], [3, 30, 0]];
  // 25 October 2026 has 25 hours: 00:00 and 23:00 are one day, 26 October 00:00 the next.
  const autumn: Times = [[10, 24, 23], [10, 25, 0], [10, 25, 23], [10, 26, 0]];
  const result = await prunedIn("Europe/Berlin", [
    [spring, { days: 3 }],
    [spring, { weeks: 2 }],
    [autumn, { days: 3 }],
  ]);
  assert.deepEqual(result, [[2], [1, 2], [2]]);
});

Deno.test("retention: a named time_zone cuts days, weeks and months there, whatever the process's zone", async () => {
  // UTC times, on either side of midnight in Berlin (UTC+1 in winter, +2 from 29 March).
  const utc = (month: number, day: number, hour: number, minute = 0) =>
    Date.UTC(2026, month - 1, day, hour, minute);
  const versions = [
    utc(3, 28, 22, 30), // 28 March 23:30 in Berlin
    utc(3, 28, 23, 30), // 29 March 00:30 in Berlin; 28 March in UTC and in New York
    utc(3, 29, 21, 30), // 29 March 23:30 in Berlin (daylight saving time from 02:00)
    utc(3, 29, 22, 30), // 30 March 00:30 in Berlin, a Monday; 29 March in UTC
    utc(3, 31, 21, 59), // 31 March 23:59 in Berlin
    utc(3, 31, 22, 0), // 1 April 00:00 in Berlin; 31 March in UTC
  ];
  const cases: [Partial<KeptPeriods>, number[]][] = [
    // Berlin days 1 April (6), 31 March (5), 30 March (4), 29 March (3), 28 March (1)
    [{ days: 5 }, [2]],
    [{ weeks: 2 }, [1, 2, 4, 5]], // the week from 30 March (6), that from 23 March (3)
    [{ months: 2 }, [1, 2, 3, 4]], // April (6), March (5)
  ];
  const results = await Promise.all(
    ["UTC", "America/New_York", "Asia/Tokyo"].map((zone) =>
      prunedIn(zone, [
        ...cases.map(([periods]): [Times, Partial<KeptPeriods>] => [
          versions,
          { ...periods, timeZone: "Europe/Berlin" },
        ]),
        [versions, { days: 5 }],
        [versions, { days: 5, timeZone: "local" }],
      ])
    ),
  );
  for (const result of results) {
    assert.deepEqual(result.slice(0, cases.length), cases.map(([, expected]) => expected));
  }
  // Cut by the process's zone, they differ: UTC days 31 March (6), 29 March (4), 28 March (2).
  const [local, named] = results[0].slice(cases.length);
  assert.deepEqual(local, [1, 3, 5]);
  // "local" is the process's zone, as absent.
  assert.deepEqual(named, local);
});

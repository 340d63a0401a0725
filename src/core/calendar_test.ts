/**
 * The calendar day of a time in a named zone (calendar.ts) against Date's local getters
 * with the process in that zone: equal at every 7.5 minutes of years with changes of
 * daylight saving time, half-hour ones and a day skipped, and whatever zone the process
 * is in meanwhile. Each zone's days are read in a child process with its `TZ` (evalInZone):
 * one with the zone's own for the local getters, and one in UTC and one in Tokyo for the
 * named zones, each reading all of them; a `TZ` set here would move the local time of the
 * test files running beside this one.
 */
import assert from "node:assert/strict";
import { evalInZone } from "../../tests/helpers.ts";
import { type CivilDay, isKnownZone } from "./calendar.ts";

const CALENDAR = new URL("./calendar.ts", import.meta.url).href;

/** Every 7.5 minutes of `year` (UTC), a change at a whole or half hour falls on one. */
const STEP_MS = 450_000;

const ZONES: [string, number][] = [
  ["Europe/Berlin", 2026], // 23- and 25-hour days
  ["America/New_York", 2026],
  ["Australia/Lord_Howe", 2026], // half an hour of daylight saving time, changed at 15:30 UTC
  ["America/St_Johns", 2026], // UTC-3:30, daylight saving time changes at local midnight
  ["Asia/Kathmandu", 2026], // UTC+5:45
  // UTC+3:30 and +4:30, changed at local midnight, within a UTC hour (19:30 and 20:30 UTC)
  ["Asia/Tehran", 2021],
  ["Pacific/Apia", 2011], // 30 December 2011 skipped: from UTC-10 to UTC+14
];

/** A reader's days at each time of a year, as runs: [index of the run's first time, its day]. */
type Runs = [number, CivilDay][];

/**
 * The days `dayReader(reader)` gives at the times of each year of `readers` ([zone or
 * "local", year]), read in a process whose zone is `processZone`.
 */
function daysIn(processZone: string, readers: [string, number][]): Promise<Runs[]> {
  return evalInZone(
    processZone,
    `import { dayReader } from ${JSON.stringify(CALENDAR)};
    const runsOf = ([zone, year]: [string, number]) => {
      const dayOf = dayReader(zone);
      const runs: [number, unknown][] = [];
      let last = "";
      for (let i = 0, ms = Date.UTC(year, 0, 1); ms < Date.UTC(year + 1, 0, 1); i++) {
        const day = dayOf(ms);
        const key = JSON.stringify(day);
        if (key !== last) runs.push([i, day]);
        last = key;
        ms += ${STEP_MS};
      }
      return runs;
    };
    console.log(JSON.stringify(${JSON.stringify(readers)}.map(runsOf)));`,
  ) as Promise<Runs[]>;
}

/** The day at each of `count` times, from its runs. */
function expand(runs: Runs, count: number): CivilDay[] {
  const days: CivilDay[] = [];
  for (const [r, [start, day]] of runs.entries()) {
    const end = r + 1 < runs.length ? runs[r + 1][0] : count;
    for (let i = start; i < end; i++) days.push(day);
  }
  return days;
}

/** The named zones' days, read once for all the tests in each of these process zones. */
const named = new Map<string, Promise<Runs[]>>();
const namedIn = (processZone: string) => {
  if (!named.has(processZone)) named.set(processZone, daysIn(processZone, ZONES));
  return named.get(processZone)!;
};

for (const [z, [zone, year]] of ZONES.entries()) {
  Deno.test(`calendar: days in ${zone} are those its local time gives, in ${year}, from any process zone`, async () => {
    const start = Date.UTC(year, 0, 1);
    const count = (Date.UTC(year + 1, 0, 1) - start) / STEP_MS;
    const [[localRuns], ...namedRuns] = await Promise.all([
      daysIn(zone, [["local", year]]),
      namedIn("UTC"),
      namedIn("Asia/Tokyo"),
    ]);
    const local = expand(localRuns, count);
    assert.equal(local.length, count);
    for (const runs of namedRuns) {
      const days = expand(runs[z], count);
      for (let i = 0; i < count; i++) {
        const at = new Date(start + i * STEP_MS).toISOString();
        assert.deepEqual(days[i], local[i], `${at} in ${zone}`);
      }
    }
  });
}

Deno.test("calendar: a zone Intl does not know is not known; local is", () => {
  assert.equal(isKnownZone("local"), true);
  assert.equal(isKnownZone("Europe/Berlin"), true);
  assert.equal(isKnownZone("europe/berlin"), true);
  assert.equal(isKnownZone("Europe/Berln"), false);
  assert.equal(isKnownZone(""), false);
});

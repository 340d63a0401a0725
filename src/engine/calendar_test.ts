/**
 * The calendar day of a time in a named zone (calendar.ts) against Date's local getters
 * with the process in that zone: equal at every 7.5 minutes of years with changes of
 * daylight saving time, half-hour ones and a day skipped, and whatever zone the process
 * is in meanwhile.
 */
import assert from "node:assert/strict";
import { dayReader, isKnownZone } from "./calendar.ts";

/** Runs `fn` with the process's local time in `zone` (Deno applies a TZ set at run time). */
function inZone<T>(zone: string, fn: () => T): T {
  const before = Deno.env.get("TZ");
  Deno.env.set("TZ", zone);
  try {
    return fn();
  } finally {
    if (before === undefined) Deno.env.delete("TZ");
    else Deno.env.set("TZ", before);
  }
}

/** Every 7.5 minutes of `year` (UTC), a change at a whole or half hour falls on one. */
function timesOf(year: number): number[] {
  const start = Date.UTC(year, 0, 1);
  const end = Date.UTC(year + 1, 0, 1);
  const times: number[] = [];
  for (let ms = start; ms < end; ms += 450_000) times.push(ms);
  return times;
}

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

for (const [zone, year] of ZONES) {
  Deno.test(`calendar: days in ${zone} are those its local time gives, in ${year}, from any process zone`, () => {
    const times = timesOf(year);
    const local = inZone(zone, () => times.map(dayReader("local")));
    for (const processZone of ["UTC", "Asia/Tokyo"]) {
      const named = inZone(processZone, () => times.map(dayReader(zone)));
      for (let i = 0; i < times.length; i++) {
        assert.deepEqual(named[i], local[i], `${new Date(times[i]).toISOString()} in ${zone}`);
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

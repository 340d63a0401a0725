import assert from "node:assert/strict";
import { clockGuard, FLOOR_MS } from "./deleted_guard.ts";

const DAY = 86_400_000;
const T = Date.UTC(2026, 11, 6);

/** Sessions every `every` days before T, newest first, the latest `last` days before T. */
function schedule(every: number, last = every, count = 12): number[] {
  return Array.from({ length: count }, (_, i) => T - (last + i * every) * DAY);
}

const held = (runs: number[], days: number, clock = T, force = false) =>
  clockGuard({ clock, runs, days, copies: 5, force }) !== undefined;

Deno.test("clock guard: a daily, weekly or monthly schedule never trips it, whatever keep_deleted_days", () => {
  for (const days of [1, 7, 30, 365]) {
    assert.equal(held(schedule(1), days), false, `daily, ${days}`);
    assert.equal(held(schedule(7, 7.01), days), false, `weekly, ${days}`);
    assert.equal(held(schedule(31, 31.01), days), false, `monthly, ${days}`);
  }
  // A weekday schedule: Monday's gap of three days is its rhythm.
  const weekdays = [3, 4, 5, 6, 7, 10, 11, 12, 13, 14].map((d) => T - d * DAY);
  assert.equal(held(weekdays, 1), false);
});

Deno.test("clock guard: two months off, or a clock a year ahead, holds back; --force passes", () => {
  for (const days of [1, 7, 30, 365]) {
    assert.equal(held(schedule(1, 60), days), true, `two months off, ${days}`);
    assert.equal(held(schedule(1), days, T + 365 * DAY), true, `a year ahead, ${days}`);
    assert.equal(held(schedule(1), days, T + 365 * DAY, true), false, `--force, ${days}`);
  }
  // Within keep_deleted_days (or 30 days) of the last run: a vacation of two weeks.
  assert.equal(held(schedule(1, 14), 30), false);
  assert.equal(held(schedule(1, 14), 7), true);
  assert.equal(held(schedule(1, 1 + FLOOR_MS / DAY), 365), true);
});

Deno.test("clock guard: nothing to prune, or no session before, holds nothing back", () => {
  assert.equal(
    clockGuard({ clock: T + 365 * DAY, runs: schedule(1), days: 30, copies: 0 }),
    undefined,
  );
  assert.equal(clockGuard({ clock: T + 365 * DAY, runs: [], days: 30, copies: 3 }), undefined);
});

Deno.test("clock guard: the message names the copies, the clock, the latest run and the remedy", () => {
  const guard = clockGuard({ clock: T + 365 * DAY, runs: [T], days: 30, copies: 3 })!;
  assert.equal(
    guard.message,
    "3 copy(ies) of deleted files in _deleted/ were not pruned (retention.keep_deleted_days " +
      "30): the clock (2027-12-06T00:00:00.000Z) is 365 day(s) after the latest run this " +
      "backup recorded (2026-12-06T00:00:00.000Z), more than 30 day(s), so a clock set ahead " +
      "may be what made them due; check the system clock; if the date is right, run again " +
      "with --force",
  );
  const watch = clockGuard({ clock: T + 365 * DAY, runs: [T], days: 30, copies: 3, watch: true })!;
  assert.match(watch.message, /stop the watch and run 'run --force' once$/);
});

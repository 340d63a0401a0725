import assert from "node:assert/strict";
import { atWarning, CLOCK_AHEAD_MS, clockBehindNote, historyTimesNote } from "./clock_ahead.ts";

const clock = Date.UTC(2026, 11, 3, 17, 0, 0);
const inOrder = clock - 3_600_000; // the last run made with a right clock, an hour ago
const latest = Date.UTC(2027, 0, 1, 0, 0, 0, 130); // then one made a month ahead

Deno.test("atWarning: times in order, nothing to say", () => {
  for (const l of [clock - 60_000, clock, clock + CLOCK_AHEAD_MS]) {
    for (const at of [inOrder - 1, clock - 5, clock + 5, latest + 1]) {
      assert.equal(atWarning(at, { latest: l, inOrder: l, clock }), undefined);
    }
  }
  assert.equal(historyTimesNote(clock + CLOCK_AHEAD_MS, clock), undefined);
});

Deno.test("atWarning: a moment after the last time recorded in order, with times recorded ahead, is warned about", () => {
  const times = { latest, inOrder, clock };
  assert.equal(atWarning(inOrder, times), undefined, "before the runs recorded ahead were made");
  assert.equal(atWarning(latest, times), undefined, "after every time recorded: the latest");
  for (const at of [inOrder + 1, clock, latest - 1]) {
    const w = atWarning(at, times)!;
    assert.match(w, new RegExp(`^WARNING: --at ${new Date(at).toISOString()}: the backup`));
    assert.match(w, /recorded times up to 2027-01-01T00:00:00\.130Z, later than this machine's/);
    assert.match(w, /the runs recorded after 2026-12-03T16:00:00\.000Z may have stored files/);
  }
  // A clock reset behind every run: no run was recorded in order.
  assert.match(
    atWarning(clock - 5, { latest, inOrder: 0, clock })!,
    /: all its runs were recorded ahead of the clock and may have stored files/,
  );
  assert.match(
    historyTimesNote(latest, clock)!,
    /^Note: .*: times after 2026-12-03T17:00:00\.000Z give the order/,
  );
});

Deno.test("clockBehindNote: said only past CLOCK_AHEAD_MS, naming both times", () => {
  const now = Date.parse("2026-12-03T10:00:00Z");
  assert.equal(clockBehindNote(now + CLOCK_AHEAD_MS, now), undefined);
  assert.match(
    clockBehindNote(now + CLOCK_AHEAD_MS + 1, now)!,
    /^the clock \(2026-12-03T10:00:00\.000Z\) is behind the latest time this backup recorded \(2026-12-03T10:00:01\.001Z\)/,
  );
});

Deno.test("atWarning: diff's --since and --until said as --at is, each with its remedy", () => {
  const times = { latest, inOrder, clock };
  const at = (w: string) => w.replace(/^WARNING: --\w+ /, "").split(": leave")[0];
  const restore = atWarning(clock, times)!;
  const until = atWarning(clock, times, undefined, "--until")!;
  const since = atWarning(clock, times, (c) => `${c} --backup-root /b`, "--since")!;
  assert.match(
    until,
    /^WARNING: --until .*: leave --until out to compare with the latest, or see 'history PATH' for a file's contents in the order they were stored$/,
  );
  assert.equal(at(until), at(restore));
  assert.match(
    since,
    /^WARNING: --since .*: give --since a time 'history --backup-root \/b' lists, or see 'history PATH --backup-root \/b' /,
  );
  assert.equal(atWarning(inOrder, times, undefined, "--since"), undefined);
});

/**
 * Which sessions' times vouch for the clock (`vouchedRunTimes`, deleted_guard.ts): runs
 * and watch sessions that finished, without `clockHeld`; a watch session's time is its last
 * full pass the guard did not hold back, recorded while it runs (`markFullPassAt`), so that
 * one killed after weeks of watching vouches for its last full pass, and one stopped long
 * after it (no full pass since) for no later. Real SQLite databases in temporary folders.
 */
import assert from "node:assert/strict";
import { withStore } from "./test_util.ts";

const SOURCES = [{ name: "src", path: "/data/src" }];
const DAY = 86_400_000;

Deno.test("vouchedRunTimes: a watch session vouches for its last full pass, killed or stopped long after", () =>
  withStore((store) => {
    const first = store.beginRun("run", SOURCES, 1 * DAY).runId;
    store.finishRun(first, "ok", {}, 1 * DAY + 1);
    // A watch started on day 2, following, its last full pass on day 40, then killed.
    const killed = store.beginRun("watch", SOURCES, 2 * DAY).runId;
    store.markFollowing(killed);
    store.markFullPassAt(killed, 3 * DAY);
    store.markFullPassAt(killed, 40 * DAY);
    assert.deepEqual(store.vouchedRunTimes(0, 10), [40 * DAY, 1 * DAY + 1]);
    // One following without a full pass recorded (its guard held, or an older version's):
    // none of its times.
    const held = store.beginRun("watch", SOURCES, 41 * DAY).runId;
    store.markFollowing(held);
    assert.deepEqual(store.vouchedRunTimes(0, 10), [40 * DAY, 1 * DAY + 1]);
    // Stopped on day 400 with no full pass since day 45 (rescans off): day 45, not its end.
    const stopped = store.beginRun("watch", SOURCES, 42 * DAY).runId;
    store.markFollowing(stopped);
    store.markFullPassAt(stopped, 45 * DAY);
    store.finishRun(stopped, "ok", { lastFullPassAt: 45 * DAY }, 400 * DAY);
    assert.deepEqual(store.vouchedRunTimes(0, 10), [45 * DAY, 40 * DAY, 1 * DAY + 1]);
    // A finished run's time is its end, as before; a session's own row is left out.
    const last = store.beginRun("run", SOURCES, 401 * DAY).runId;
    store.finishRun(last, "ok", {}, 401 * DAY + 5);
    assert.deepEqual(store.vouchedRunTimes(last, 2), [45 * DAY, 40 * DAY]);
    // Its end recorded, a session's summary is its totals: the full pass is not written over it.
    store.markFullPassAt(stopped, 500 * DAY);
    assert.deepEqual(store.vouchedRunTimes(0, 1), [401 * DAY + 5]);
  }));

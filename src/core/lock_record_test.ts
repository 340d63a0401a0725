/**
 * Unit tests of the lock file's record: the dead holders a record names, those it carries
 * (kept within one page, the latest and the earliest longest), the takeover's log lines and
 * the note on the sessions that left them.
 */
import assert from "node:assert/strict";
import {
  holdersIn,
  RECORD_BYTES,
  recordBytes,
  takeoverLines,
  unfinishedNote,
} from "./lock_record.ts";

const own = { pid: 3, host: "h", started: "2026-01-01T00:00:03.000Z", command: "run" };
const record = (pid: number) =>
  JSON.stringify({ pid, host: "h", started: "2026-01-01T00:00:00.000Z", command: "run" });
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("holdersIn: none in an empty file, a record, or one and those it carries; anything else as it is", () => {
  assert.deepEqual(holdersIn(" \n"), { records: [], more: 0 });
  assert.deepEqual(holdersIn(`${record(1)}\n   `), { records: [record(1)], more: 0 });
  const carrying = decode(recordBytes(own, { records: [record(2), record(1)], more: 4 }));
  assert.deepEqual(holdersIn(carrying), {
    records: [JSON.stringify(own), record(2), record(1)],
    more: 4,
  });
  assert.deepEqual(holdersIn("not a record\n"), { records: ["not a record"], more: 0 });
  assert.deepEqual(holdersIn('{"tookOver":"x"}'), { records: ['{"tookOver":"x"}'], more: 0 });
});

Deno.test("recordBytes: the holders carried fit in one page; the latest and the earliest are kept", () => {
  assert.equal(decode(recordBytes(own)), `${JSON.stringify(own)}\n`);
  const many = Array.from({ length: 40 }, (_, i) => record(100 - i)); // latest first
  const bytes = recordBytes(own, { records: many, more: 2 });
  assert.ok(bytes.length <= RECORD_BYTES, `${bytes.length}`);
  const carried = JSON.parse(decode(bytes));
  assert.equal(carried.tookOver[0], many[0]);
  assert.equal(carried.tookOver.at(-1), many.at(-1));
  assert.equal(carried.tookOver.length + carried.tookOverMore, many.length + 2);
  // One that is not a record of this tool's is cut, not left to crowd the others out.
  const junk = recordBytes(own, { records: ["x".repeat(RECORD_BYTES)], more: 0 });
  assert.ok(JSON.parse(decode(junk)).tookOver[0].length < 1000);
});

Deno.test("takeoverLines: each dead holder on a line, the latest first", () => {
  assert.deepEqual(takeoverLines({ records: [], more: 0 }), []);
  assert.deepEqual(takeoverLines({ records: [record(2), record(1)], more: 1 }), [
    `LOCK: took over a stale lock left by ${record(2)}`,
    `LOCK: took over a stale lock left by ${record(1)} (taken over by the run named above, ` +
    "which was killed before it logged that)",
    "LOCK: 1 more stale lock(s) taken over in between by runs killed before they logged it " +
    "(not named: left out of the lock file for room)",
  ]);
});

Deno.test("unfinishedNote: none where the lock was free; each dead holder named, those left out counted", () => {
  assert.equal(unfinishedNote({ records: [], more: 0 }, "this run"), undefined);
  const one = unfinishedNote({ records: [record(7)], more: 0 }, "this watch")!;
  assert.match(
    one,
    /^a run \(pid 7 on h, started 2026-01-01T00:00:00\.000Z\) did not finish: it was killed/,
  );
  assert.match(one, /this watch took the lock over/);
  const many = unfinishedNote({ records: [record(9), "garbage"], more: 3 }, "this run")!;
  assert.match(
    many,
    /^a run \(pid 9 on h, [^)]+\), a session and 3 more did not finish: they were killed/,
  );
});

import assert from "node:assert/strict";
import type { RecordedRun } from "../state/run_queries.ts";
import { formatRuns, type Holder, runEntries } from "./runs.ts";
import { emptyResult } from "../engine/pass_types.ts";

const T = Date.UTC(2026, 11, 4, 12);

function recorded(id: number, status: string, over: Partial<RecordedRun> = {}): RecordedRun {
  return {
    id,
    command: "run",
    startedAt: T + id * 60_000,
    finishedAt: T + id * 60_000 + 1_500,
    status,
    summary: { counts: { backup: id, modified: 0, delete: 0, failed: 0 }, bytesCopied: 2048 },
    cutShort: false,
    ...over,
  };
}

Deno.test("each stored status reads as the outcome the table and JSON give", () => {
  const ended = recorded(9, "ok");
  const cases: [RecordedRun, Holder | undefined, string][] = [
    [ended, undefined, "finished"],
    [recorded(1, "partial"), undefined, "finished with problems"],
    [recorded(1, "stopped"), undefined, "stopped"],
    [recorded(1, "stopped after commit", { cutShort: true }), undefined, "stopped"],
    [recorded(1, "failed after commit", { cutShort: true }), undefined, "failed"],
    [recorded(1, "running", { finishedAt: null, summary: null }), undefined, "interrupted"],
    [recorded(1, "committed", { finishedAt: null, summary: null }), undefined, "interrupted"],
    [recorded(1, "following", { command: "watch", finishedAt: null }), undefined, "interrupted"],
  ];
  for (const [run, held, outcome] of cases) {
    assert.equal(runEntries([run], held)[0].outcome, outcome, run.status);
  }
});

Deno.test("only the newest run that has not ended is live while the lock is held", () => {
  const killed = recorded(1, "committed", { finishedAt: null, summary: null, cutShort: true });
  const watching = recorded(2, "following", { command: "watch", finishedAt: null });
  const held = runEntries([killed, watching], {});
  assert.deepEqual(held.map((e) => [e.outcome, e.cutShort]), [
    ["interrupted", true],
    ["watching", false],
  ]);
  const running = recorded(3, "running", { finishedAt: null, summary: null });
  assert.equal(runEntries([running], {})[0].outcome, "running");
  // A lock held with the newest run ended (a repair starting, say): nothing is running.
  assert.equal(runEntries([recorded(4, "ok")], {})[0].outcome, "finished");
  // A session that took the lock after the newest row began has not made its own row yet:
  // that row is a run killed before, not the one running.
  const killedBefore = recorded(5, "running", { finishedAt: null, summary: null });
  const later = { startedMs: killedBefore.startedAt + 1 };
  assert.equal(runEntries([killedBefore], later)[0].outcome, "interrupted");
  assert.equal(
    runEntries([killedBefore], { startedMs: killedBefore.startedAt })[0].outcome,
    "running",
  );
});

Deno.test("the table aligns its columns and marks what a run did not record", () => {
  const text = formatRuns(
    "/b",
    runEntries([
      recorded(1, "ok"),
      recorded(12, "committed", { finishedAt: null, summary: null, cutShort: true }),
      recorded(13, "ok", { command: "verify", summary: {} }),
    ], undefined),
  );
  assert.equal(
    text,
    [
      "Runs of backup '/b' (3 runs, oldest first)",
      "RUN  KIND    STARTED                   ENDED                     OUTCOME               " +
      "NEW  DUPLICATE  UPDATED  DELETED  PRUNED  FAILED  COPIED",
      "1    run     2026-12-04T12:01:00.000Z  2026-12-04T12:01:01.500Z  finished              " +
      "1    0          0        0        0       0       2.0 KiB",
      "12   run     2026-12-04T12:12:00.000Z  -                         interrupted part-way  " +
      "-    -          -        -        -       -       -",
      "13   repair  2026-12-04T12:13:00.000Z  2026-12-04T12:13:01.500Z  finished              " +
      "-    -          -        -        -       -       -",
      "'restore --at' a run's ENDED time gives the tree as that run left it.",
      "A run 'part-way' ended after recording part of its work: until a later run finished, " +
      "the backup held its new files beside older ones; for a whole tree, give the ENDED time " +
      "of a finished run.",
    ].join("\n"),
  );
});

Deno.test("a failed run's counts are unknown: its summary holds the zeros it began with", () => {
  // What backup.ts records for a run that failed, whatever it had done: emptyResult's.
  const { counts, bytesCopied } = emptyResult();
  const failed = recorded(5, "failed after commit", {
    summary: { counts: { ...counts }, bytesCopied },
    cutShort: true,
  });
  const [entry] = runEntries([failed]);
  assert.deepEqual([entry.outcome, entry.counts, entry.bytesCopied], ["failed", null, null]);
  const row = formatRuns("/b", [entry]).split("\n")[2];
  assert.match(row, /^5 +run +\S+ +\S+ +failed part-way +- +- +- +- +- +- +-$/);
  // A run stopped by a signal records what it did.
  const stopped = runEntries([recorded(6, "stopped")])[0];
  assert.equal(stopped.counts?.backup, 6);
});

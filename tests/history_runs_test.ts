/**
 * End-to-end tests of `history` without a path, through the real CLI: every run with how
 * it ended and what it did, a run's ENDED time giving `restore --at` the tree that run
 * left, runs killed before and after a commit, and a run holding the backup root now.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture, readTree, writeTree } from "./helpers.ts";
import { pausedRun, runTool } from "./reliability/util.ts";

interface Run {
  run: number;
  command: string;
  startedAt: string;
  endedAt: string | null;
  outcome: string;
  cutShort: boolean;
  counts: Record<string, number> | null;
  bytesCopied: number | null;
}

async function runs(fx: Fixture): Promise<Run[]> {
  const r = await fx.cli("history", "--json");
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.backupRoot, fx.backup);
  return doc.runs;
}

async function backUp(fx: Fixture): Promise<void> {
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
}

Deno.test("history without a path lists each run's end, outcome and counts", async () => {
  const first = { "a.txt": "one\n", "b.txt": "bee\n", "sub/c.txt": "sea\n" };
  using fx = makeFixture(first);
  await backUp(fx);
  writeTree(fx.source, { "a.txt": "two, longer\n", "d.txt": "dee\n" });
  Deno.removeSync(join(fx.source, "b.txt"));
  await backUp(fx);

  const list = await runs(fx);
  assert.deepEqual(list.map((r) => [r.run, r.command, r.outcome, r.cutShort]), [
    [1, "run", "finished", false],
    [2, "run", "finished", false],
  ]);
  assert.equal(list[0].counts?.backup, 3);
  assert.equal(list[0].bytesCopied, 12);
  const second = list[1].counts!;
  assert.deepEqual([second.backup, second.modified, second.delete, second.skip], [1, 1, 1, 1]);
  for (const r of list) assert.ok(r.endedAt !== null && r.endedAt >= r.startedAt);
  assert.ok(list[1].startedAt >= list[0].endedAt!);

  // The first run's end is the moment of the tree it left.
  const out = join(fx.dir, "out");
  const restored = await fx.cli("restore", "--at", list[0].endedAt!, "--to", out);
  assert.equal(restored.code, 0, restored.stderr);
  assert.deepEqual(readTree(out), first);

  const human = await fx.cli("history");
  assert.equal(human.code, 0, human.stderr);
  const lines = human.stdout.trimEnd().split("\n");
  assert.equal(lines[0], `Runs of backup '${fx.backup}' (2 runs, oldest first)`);
  assert.match(lines[1], /^RUN +KIND +STARTED +ENDED +OUTCOME +NEW +DUPLICATE +UPDATED +DELETED/);
  assert.match(
    lines[2],
    new RegExp(`^1 +run +${list[0].startedAt} +${list[0].endedAt} +finished +3 `),
  );
  assert.match(lines[3], /^2 +run +\S+ +\S+ +finished +1 +0 +1 +1 +0 +0 +\d+ B$/);
  assert.match(lines[4], /restore --at' a run's ENDED time/);
  assert.equal(lines.length, 5);

  // A repair is listed as a verify, counting none of a run's actions (docs/json.md).
  assert.equal((await fx.cli("verify", "--repair")).code, 0);
  const repair = (await runs(fx))[2];
  assert.deepEqual(
    [repair.command, repair.outcome, repair.counts, repair.bytesCopied],
    ["verify", "finished", null, null],
  );
});

Deno.test("history shows runs killed before and after a commit, and the one that followed", async () => {
  using fx = makeFixture({ "a.txt": "one\n" });
  await backUp(fx);
  const kill = async (fault: string, text: string) => {
    writeTree(fx.source, { "a.txt": text });
    const r = await runTool(["run", "--config", fx.config], {
      env: { BACKUP_TOOL_FAULT: fault },
    });
    assert.equal(r.code, 137, r.stderr);
  };
  await kill("staged:1", "two, before its commit\n");
  await kill("committed:1", "three, after its commit\n");
  await backUp(fx);

  const list = await runs(fx);
  assert.deepEqual(list.map((r) => [r.outcome, r.cutShort, r.endedAt === null, r.counts]), [
    ["finished", false, false, list[0].counts],
    ["interrupted", false, true, null],
    ["interrupted", true, true, null],
    ["finished", false, false, list[3].counts],
  ]);
  const human = (await fx.cli("history")).stdout.split("\n");
  assert.match(human[3], /^2 +run +\S+ +- +interrupted +- +- +- +- +- +- +-$/);
  assert.match(human[4], /^3 +run +\S+ +- +interrupted part-way +-/);
  assert.ok(human.some((l) => l.startsWith("A run 'part-way' ended after recording part")));
});

Deno.test("history shows the run that holds the backup root as running", async () => {
  using fx = makeFixture({ "a.txt": "one\n", "sub/b.txt": "bee\n" });
  await backUp(fx);
  {
    await using held = await pausedRun(["run", "--config", fx.config], "folder:1", fx.dir);
    const now = await runs(fx);
    assert.deepEqual(now.map((r) => [r.outcome, r.endedAt === null]), [
      ["finished", false],
      ["running", true],
    ]);
    held.resume();
    assert.equal((await held.child.status).code, 0);
  }
  assert.deepEqual((await runs(fx)).map((r) => r.outcome), ["finished", "finished"]);
});

Deno.test("history refuses more than one path, naming the list of runs", async () => {
  using fx = makeFixture({ "a.txt": "one\n" });
  await backUp(fx);
  const r = await fx.cli("history", "a.txt", "b.txt");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /give one file PATH, or none for the list of runs \(got 2\)/);
});

Deno.test("history does not take a killed run for one that holds the lock but has no row yet", async () => {
  using fx = makeFixture({ "a.txt": "one\n" });
  await backUp(fx);
  writeTree(fx.source, { "a.txt": "two, killed\n" });
  const killed = await runTool(["run", "--config", fx.config], {
    env: { BACKUP_TOOL_FAULT: "staged:1" },
  });
  assert.equal(killed.code, 137, killed.stderr);
  {
    // The next run holds the lock, its state not opened yet: no row of its own.
    await using held = await pausedRun(["run", "--config", fx.config], "locked:1", fx.dir);
    const now = await runs(fx);
    assert.deepEqual(now.map((r) => r.outcome), ["finished", "interrupted"]);
    held.resume();
    assert.equal((await held.child.status).code, 0);
  }
  assert.deepEqual((await runs(fx)).map((r) => r.outcome), [
    "finished",
    "interrupted",
    "finished",
  ]);
});

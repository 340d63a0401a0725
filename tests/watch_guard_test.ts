/**
 * `watch` and the mass-deletion guard against `run` (through `plan`, which works beside a
 * watch and judges as `run` does): a folder removed and written anew, as each `npm ci`
 * does with `node_modules/`, is held back as a run made across the removal would hold it,
 * and nothing is left held back once it is written again.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { listFiles, makeFixture, poll, writeTree } from "./helpers.ts";
import { backedUp, DEADLINE_MS, WatchProcess } from "./watch_helpers.ts";

const WATCH = { watch: { debounce_ms: 200, rescan_interval: 0 } };

/** Waits until the copy of `<source>/<rel>` has the source file's modification time. */
function copyTimed(source: string, backup: string, rel: string): Promise<true> {
  const mtime = (root: string) => Deno.statSync(join(root, ...rel.split("/"))).mtime?.getTime();
  return poll(`'${rel}' in the backup with its time`, () => {
    return mtime(backup) === mtime(source);
  }, DEADLINE_MS);
}

Deno.test("watch: a folder removed and written anew (npm ci) is held back as a run across it would, and leaves nothing held", async () => {
  const own: Record<string, string> = {};
  for (let i = 0; i < 20; i++) own[`f${i}.txt`] = `f${i}\n`;
  const modules: Record<string, string> = {};
  for (let i = 0; i < 30; i++) modules[`node_modules/p${i % 6}/f${i}.js`] = `m${i}\n`;
  using fx = makeFixture({ ...own, ...modules }, WATCH); // 30 of 50 files: over 50%
  await using w = new WatchProcess(fx);
  await w.ready();
  Deno.removeSync(join(fx.source, "node_modules"), { recursive: true });
  await poll("the guard to hold the removal", () => /Deletions held back/.test(w.stderr));
  assert.match(
    w.stderr,
    /\(stop the watch before 'run --force --config \S+'; files that come back, as a folder removed and written anew does, need nothing\)\n/,
  );
  // The verdict of a run made across the removal. A run started now (plan judges as run
  // does) counts what is left: the rm's events can come in two batches, the first archived
  // under the limit, which the watch counts with the rest (its window).
  const [, held, tracked] = w.stderr.match(/(\d+) of (\d+) tracked files/)!.map(Number);
  assert.deepEqual([held, tracked], [30, 50]);
  const archived = listFiles(join(fx.backup, "_deleted")).length;
  const plan = await fx.cli("plan");
  if (archived === 0 || plan.code === 1) {
    assert.equal(plan.code, 1, plan.stderr);
    assert.match(
      plan.stderr,
      new RegExp(`^Deletions held back: ${held - archived} of ${tracked - archived} tracked`),
    );
  } else {
    assert.ok((held - archived) * 2 <= tracked - archived, `${archived} archived: ${plan.stderr}`);
  }
  writeTree(fx.source, modules);
  // Those archived come back in the backup; those held back were never gone from it. The
  // watch goes through each (its copy takes the new file's time): none is archived now.
  for (const [rel, text] of Object.entries(modules)) await backedUp(fx.backup, rel, text);
  for (const rel of Object.keys(modules)) await copyTimed(fx.source, fx.backup, rel);
  assert.equal(listFiles(join(fx.backup, "_deleted")).length, archived);
  assert.doesNotMatch(w.stderr, /ERROR/);
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  // Written again, nothing is left held back: a run now finds the tree as it is.
  const run = await fx.cli("run", "--json");
  assert.equal(run.code, 0, run.stderr);
  const counts = JSON.parse(run.stdout).counts;
  assert.deepEqual([counts.delete, counts.backup, counts.modified], [0, 0, 0], run.stdout);
});

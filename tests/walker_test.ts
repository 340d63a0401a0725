/**
 * The walk worker. A full pass over many tracked files splits its walk: this thread walks
 * up to a tracked path and merges what it finds with the state, while a worker lstats
 * everything after that path on a second core and sends it over. Wherever the split lies
 * (before the first path, after one, a few, the last, or no split at all), a run must
 * decide exactly the same: the same backup tree, the same versions, the same log lines in
 * the same order, special files and vanished paths reported once, excluded paths left out,
 * and a dry run planning the same actions. Real folders, through the engine's entry points
 * (the split is not a CLI option); the sanitizers check that the worker is always shut
 * down.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { loadConfig } from "../src/config/config.ts";
import { backupOnce } from "../src/engine/backup.ts";
import type { PassOptions } from "../src/engine/pass_types.ts";
import type { Action } from "../src/core/types.ts";
import { makeFixture, plannedActions, readTree, type Tree } from "./helpers.ts";

const TREE: Tree = {
  "a/1.txt": "one",
  "a/2.txt": "two",
  "a/b/3.txt": "three",
  "a/b/c/4.txt": "four",
  "a.txt": "top",
  "dup/1.txt": "one",
  "empty.txt": "",
  "gone/x.txt": "x",
  "skip/me.log": "excluded",
  "z/last.txt": "last",
};

/**
 * Splits, as the number of tracked paths (in path order) walked on this thread: none (the
 * default threshold is far above this tree); 0 (the worker walks everything); 1; 4 (at
 * `a/b/3.txt`, deleted since, in a folder both walks enter); 8 (at `gone/x.txt`, deleted with
 * its folder); 9 (at `link`, replaced since); 10 (all: the worker walks only what is new
 * after the last).
 */
const SPLITS = [undefined, 0, 1, 4, 8, 9, 10];

async function mkfifo(path: string): Promise<void> {
  const r = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert.ok(r.success, `mkfifo ${path}`);
}

/** A tree backed up once, then changed in every way a walk must notice. */
async function changedFixture() {
  const fx = makeFixture(TREE, { exclude: ["*.log"] });
  Deno.symlinkSync("a/1.txt", join(fx.source, "link"));
  const first = await backupOnce(loadConfig(fx.config));
  assert.equal(first.exitCode, 0, JSON.stringify(first.errors));
  Deno.writeTextFileSync(join(fx.source, "a/2.txt"), "two, changed");
  Deno.removeSync(join(fx.source, "a/b/3.txt"));
  Deno.removeSync(join(fx.source, "gone"), { recursive: true });
  Deno.writeTextFileSync(join(fx.source, "a/b/new.txt"), "three"); // the deleted file's bytes
  Deno.writeTextFileSync(join(fx.source, "z/zz.txt"), "new at the end");
  Deno.writeTextFileSync(join(fx.source, "skip/more.log"), "still excluded");
  Deno.removeSync(join(fx.source, "link"));
  Deno.symlinkSync("a.txt", join(fx.source, "link"));
  await mkfifo(join(fx.source, "a/b/pipe"));
  return fx;
}

async function runs(opts: (walkerSplit?: number) => PassOptions) {
  const fxs = [];
  for (let i = 0; i < SPLITS.length; i++) fxs.push(await changedFixture());
  try {
    const results = [];
    for (const [i, fx] of fxs.entries()) {
      const r = await backupOnce(loadConfig(fx.config), opts(SPLITS[i]));
      assert.equal(r.exitCode, 0, JSON.stringify(r.errors));
      results.push({ counts: r.counts, tree: readTree(fx.backup), log: fx.lastLog() });
      assertRecordedAsFound(fx.backup, fx.source);
    }
    return results;
  } finally {
    for (const fx of fxs) fx[Symbol.dispose]();
  }
}

function assertSame(results: Awaited<ReturnType<typeof runs>>): void {
  const [inline, ...walked] = results;
  for (const [i, run] of walked.entries()) {
    const at = `split after ${SPLITS[i + 1]} tracked paths`;
    assert.deepEqual(run.counts, inline.counts, at);
    assert.deepEqual(run.tree, inline.tree, at);
    assert.deepEqual(run.log.filter(notTimed), inline.log.filter(notTimed), at);
  }
}

Deno.test({
  name: "walk worker: a run over tracked files decides the same wherever the walk is split",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const results = await runs((walkerSplit) => ({ walkerSplit }));
    const [inline] = results;
    assert.deepEqual(inline.counts, {
      backup: 2,
      modified: 2,
      duplicate: 0,
      skip: 6,
      delete: 2,
      exclude: 0,
      prune: 0,
      promote: 0,
      failed: 0,
      special: 1,
    });
    assert.equal(inline.tree["a/2.txt"], "two, changed");
    assert.equal(inline.tree["versions/a/2.txt/v1.bak"], "two");
    assert.equal(inline.tree["_deleted/gone/x.txt"], "x");
    assert.equal(inline.tree["skip/more.log"], undefined);
    assert.equal(inline.log.filter((l) => l.includes("pipe")).length, 1, "FIFO reported once");
    assert.equal(new Set(inline.log).size, inline.log.length, "every line once");
    assertSame(results);
  },
});

Deno.test({
  name: "walk worker: with more changes than the first walk holds, the second walk starts right",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    // One pending entry at most: the rest of the first walk only looks for vanished paths,
    // on whichever thread walks it, and a second walk handles the rest.
    const results = await runs((walkerSplit) => ({ walkerSplit, pendingLimit: 1 }));
    assert.equal(results[0].counts.modified + results[0].counts.backup, 4);
    assertSame(results);
  },
});

Deno.test({
  name: "walk worker: a dry run plans the same wherever the walk is split",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const fxs = [];
    for (let i = 0; i < SPLITS.length; i++) fxs.push(await changedFixture());
    try {
      const plans = [];
      for (const [i, fx] of fxs.entries()) {
        const planned = await plannedActions(fx.config, { walkerSplit: SPLITS[i] });
        plans.push(planned.map(withoutDiskDetails));
      }
      assert.ok(plans[0].length >= 12, `${plans[0].length} actions`);
      for (const plan of plans.slice(1)) assert.deepEqual(plan, plans[0]);
    } finally {
      for (const fx of fxs) fx[Symbol.dispose]();
    }
  },
});

/**
 * Every tracked file's fingerprint in the state is what lstat finds on disk: the entries
 * the worker sent arrived with their fields intact (a wrong time would only make the next
 * run read the file again, which no count or log line of this run shows).
 */
function assertRecordedAsFound(backup: string, source: string): void {
  const db = new DatabaseSync(join(backup, ".backup-tool/state.db"), { readOnly: true });
  try {
    const rows = db.prepare(
      "SELECT path, size, mtime_ms, ino, mode FROM files WHERE status = 'current'",
    ).all() as { path: string; size: number; mtime_ms: number; ino: number; mode: number }[];
    assert.ok(rows.length >= 9, `${rows.length} tracked`);
    for (const row of rows) {
      const info = Deno.lstatSync(join(source, row.path.slice("source/".length)));
      const found = {
        path: row.path,
        size: info.size,
        mtime_ms: info.mtime!.getTime(),
        ino: info.ino,
        mode: info.mode,
      };
      assert.deepEqual({ ...row }, found);
    }
  } finally {
    db.close();
  }
}

/** An action without what differs between two fixtures' files (their folder, inode, times). */
function withoutDiskDetails(a: Action): unknown {
  const differ = new Set(["abs", "ino", "dev", "mtimeMs", "ctimeMs", "tmp"]);
  return JSON.parse(JSON.stringify(a, (k, v) => differ.has(k) ? undefined : v));
}

/** Log lines whose text does not depend on timing (the run's start and summary do). */
function notTimed(line: string): boolean {
  return !/^(Run started|Run complete|Backup complete|.* copied in )/.test(line);
}

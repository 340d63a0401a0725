/**
 * The pass's walks. Unchanged files whose fingerprints are trusted are skipped as the
 * first walk meets them, changed ones wait until deletions are applied, and when more
 * wait than the pass keeps in memory a second walk handles the rest. Whatever that limit,
 * the pass must decide exactly the same: the same backup tree, the same log lines, each
 * file handled once. Real folders, through the engine's entry point (the limit is not a
 * CLI option).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../src/config/config.ts";
import { backupOnce } from "../src/engine/backup.ts";
import { type Fixture, makeFixture, poll, readTree, type Tree, writeTree } from "./helpers.ts";

const TREE: Tree = {
  "a/1.txt": "a1",
  "a/2.txt": "a2",
  "a/3.txt": "a3",
  "a/4.txt": "a4",
  "a/5.txt": "a5",
  "b/x/1.txt": "bx1",
  "b/x/2.txt": "bx2",
  "b/y.txt": "by",
  "c/1.txt": "c1",
  "c/3.txt": "c3",
  "c/5.txt": "c5",
  "d/dup.txt": "a1",
  "z.txt": "z",
};

/** Fingerprints recorded by a run are trusted once the files are 2 s older than the run. */
const RACY_WINDOW_MS = 2000;

async function waitUntilTrusted(fxs: Fixture[]): Promise<void> {
  let newest = 0;
  for (const fx of fxs) {
    for (const rel of Object.keys(TREE)) {
      const info = Deno.lstatSync(join(fx.source, rel));
      newest = Math.max(newest, info.mtime!.getTime(), info.ctime!.getTime());
    }
  }
  await poll(
    "the files to be older than the racy window",
    () => Date.now() > newest + RACY_WINDOW_MS + 100,
  );
}

async function mutate(fx: Fixture): Promise<void> {
  writeTree(fx.source, {
    "a/2.txt": "a2 changed",
    "a/4.txt": "a4 changed",
    "b/new.txt": "new",
    "c/moved.txt": "c5",
    "z.txt": "z changed",
  });
  Deno.removeSync(join(fx.source, "c/3.txt"));
  Deno.removeSync(join(fx.source, "c/5.txt"));
  Deno.chmodSync(join(fx.source, "d/dup.txt"), 0o600); // metadata only: a refresh, no version
  // `a/3.zpipe` lies between the last entry a limit of 1 holds (`a/2.txt`, then `a/3.txt`
  // unchanged) and the next changed one (`a/4.txt`): the first walk meets it before it
  // knows it is full, and it must still be reported once (it was twice).
  if (Deno.build.os === "windows") return; // no FIFOs there
  for (const pipe of ["c/pipe", "a/3.zpipe"]) {
    const fifo = await new Deno.Command("mkfifo", { args: [join(fx.source, pipe)] }).output();
    assert.ok(fifo.success);
  }
}

Deno.test("a pass decides the same whatever the number of entries it holds back", async () => {
  const limits = [undefined, 2, 1];
  const fxs = limits.map(() => makeFixture(TREE));
  try {
    await waitUntilTrusted(fxs);
    for (const fx of fxs) assert.equal((await backupOnce(loadConfig(fx.config))).exitCode, 0);
    for (const fx of fxs) await mutate(fx);
    const runs = [];
    for (const [i, fx] of fxs.entries()) {
      const r = await backupOnce(loadConfig(fx.config), { pendingLimit: limits[i] });
      assert.equal(r.exitCode, 0, JSON.stringify(r.errors));
      // The first line names the fixture's own backup root.
      const log = fx.lastLog().map((l) => l.replace(/ for backup root '.*'$/, ""));
      runs.push({ counts: r.counts, tree: readTree(fx.backup), log });
    }
    const [whole, ...limited] = runs;
    assert.deepEqual(whole.counts, {
      backup: 2,
      modified: 3,
      duplicate: 0,
      skip: 8,
      delete: 2,
      exclude: 0,
      prune: 0,
      promote: 0,
      failed: 0,
      special: 2,
    });
    // Unchanged files are skipped from their fingerprints; deletions come before the
    // renamed file's new path, which is a backup, not a duplicate of its old path.
    assert.ok(whole.log.includes("SKIP: source/a/1.txt"));
    assert.ok(whole.log.includes("ARCHIVE DELETE: backup/c/5.txt → backup/_deleted/c/5.txt"));
    assert.ok(whole.log.includes("BACKUP: source/c/moved.txt → backup/c/moved.txt"));
    assert.equal(whole.tree["d/dup.txt"], undefined);
    assert.equal(whole.tree["_duplicates/d/dup.txt"], "a1");
    assert.equal(new Set(whole.log).size, whole.log.length, "every line once");
    for (const run of limited) {
      assert.deepEqual(run.counts, whole.counts);
      assert.deepEqual(run.tree, whole.tree);
      assert.deepEqual([...run.log].sort(), [...whole.log].sort());
    }
  } finally {
    for (const fx of fxs) fx[Symbol.dispose]();
  }
});

/**
 * Batches in flight. A full batch's flush runs while the next batch is planned, and a
 * commit makes the planner forget its decisions: a commit must never come while a planned
 * batch has not landed, or a copy of a content that batch stores would not be known for
 * one (found by a hunt: a first backup stored such copies as originals). Real folders,
 * through the engine's entry point, with more files than one commit takes.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../src/config/config.ts";
import { backupOnce } from "../src/engine/backup.ts";
import { makeFixture, readTree, type Tree } from "./helpers.ts";

/**
 * 3,100 files: the first 2,600 of their own contents, the last 500 holding the contents of
 * the files 500 before them. Copies of what the fifth batch stores (files 2,048 to 2,559,
 * whose contents are new there; a commit is due after 2,048 actions) come in the sixth.
 */
const FILES = 3_100;
const COPIES_FROM = 2_600;
const LAG = 500;
const name = (i: number) => `f${String(i).padStart(5, "0")}.txt`;
const contentOf = (i: number) => `content ${i < COPIES_FROM ? i : i - LAG}\n`;

Deno.test("a copy of a content stored by a batch still in flight is a duplicate, across commits", async () => {
  const tree: Tree = {};
  for (let i = 0; i < FILES; i++) tree[name(i)] = contentOf(i);
  using fx = makeFixture(tree);
  const r = await backupOnce(loadConfig(fx.config));
  assert.equal(r.exitCode, 0, JSON.stringify(r.errors));
  assert.equal(r.counts.backup, COPIES_FROM);
  assert.equal(r.counts.duplicate, FILES - COPIES_FROM);
  const stored = readTree(fx.backup, [".backup-tool"]);
  for (let i = 0; i < FILES; i++) {
    const at = i < COPIES_FROM ? name(i) : `_duplicates/${name(i)}`;
    assert.equal(stored[at], contentOf(i), at);
  }
  assert.equal(Object.keys(stored).length, FILES);
});

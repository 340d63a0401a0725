/**
 * Batches large enough to be flushed whole (one syncfs of the backup root's file system on
 * Linux, per-file fdatasyncs elsewhere): every copy lands complete at its place, the
 * replaced ones in versions/, and `verify` re-hashes them all without a complaint.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, readTree, type Tree } from "./helpers.ts";
import { runTool } from "./reliability/util.ts";

/** More staged files than one batch flushes per file (SYNCFS_MIN_FILES, 64) several times over. */
const FILES = 300;

function tree(version: string): Tree {
  return Object.fromEntries(
    Array.from({ length: FILES }, (_, i) => [
      `d${i % 7}/f${i}.txt`,
      `${version} ${i} ${"x".repeat(i * 37)}`,
    ]),
  );
}

Deno.test("large batches: 300 new files, then 150 of them changed, are stored and verified", async () => {
  using fx = makeFixture(tree("one"));
  const first = await fx.cli("run");
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(readTree(fx.backup, [".backup-tool"]), readTree(fx.source));

  const changed = Object.fromEntries(
    Object.entries(tree("two")).filter((_, i) => i % 2 === 0),
  );
  for (const [rel, text] of Object.entries(changed)) {
    Deno.writeTextFileSync(join(fx.source, rel), text as string);
  }
  const second = await fx.cli("run");
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /0 new, 150 updated, 0 duplicate, 150 unchanged/);

  const backup = readTree(fx.backup, [".backup-tool", "versions"]);
  assert.deepEqual(backup, readTree(fx.source));
  const versions = readTree(join(fx.backup, "versions"));
  assert.equal(Object.keys(versions).length, 150);
  for (const rel of Object.keys(changed)) {
    assert.equal(versions[`${rel}/v1.bak`], tree("one")[rel], rel);
  }
  const verify = await fx.cli("verify");
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});

Deno.test("a run stopped before its next batch has logged the batches it applied, not yet committed", async () => {
  const tree: Tree = {};
  for (let i = 0; i < 700; i++) tree[`d${i % 7}/f${i}.txt`] = `file ${i}\n`;
  using fx = makeFixture(tree);
  // Killed before the second batch's copies are flushed: the first (512 files) is in place,
  // journaled and waiting for the commit that comes every 2,048 actions.
  const killed = await runTool(["run", "--config", fx.config], {
    env: { BACKUP_TOOL_FAULT: "staged:2" },
  });
  assert.equal(killed.code, 137, killed.stderr);
  const logged = fx.lastLog().filter((l) => l.startsWith("BACKUP: "));
  assert.equal(logged.length, 512, "the first batch's lines are in the killed run's own log");
  assert.equal((await fx.cli("run")).code, 0);
  assert.deepEqual(readTree(fx.backup), readTree(fx.source));
});

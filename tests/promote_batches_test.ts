/**
 * Promotions by the thousand (a folder of as many files renamed past the mass-deletion
 * guard, then `--force`) are applied a batch at a time, as deletions are: they were all
 * added to one batch, which held every action, journal entry and log line at once
 * (200,000 promotions: 550 MiB of peak RSS, and 20 s with nothing logged). A run killed
 * among them has logged the batches it applied, and the next run finishes the rest.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { listFiles, makeFixture, type Tree } from "./helpers.ts";
import { runTool } from "./reliability/util.ts";

/** More than one batch of actions (1,024: batch.ts). */
const FILES = 1200;

Deno.test("promotions of a renamed folder are applied a batch at a time; a run killed among them is finished by the next", async () => {
  const tree: Tree = {};
  for (let i = 0; i < FILES; i++) tree[`old/f${String(i).padStart(4, "0")}.txt`] = `file ${i}\n`;
  using fx = makeFixture(tree);
  assert.equal((await fx.cli("run")).code, 0);
  Deno.renameSync(join(fx.source, "old"), join(fx.source, "new"));
  const held = await fx.cli("run");
  assert.equal(held.code, 1, "the guard holds the deletions back; the files are duplicates");

  const cut = await runTool(["run", "--force", "--config", fx.config], {
    env: { BACKUP_TOOL_FAULT: "promoted:1100" },
  });
  assert.equal(cut.code, 137, cut.stderr);
  const promoted = fx.lastLog().filter((l) => l.startsWith("PROMOTED: "));
  assert.equal(promoted.length, 1024, "the first batch of promotions was applied and logged");

  const next = await fx.cli("run", "--json");
  assert.equal(next.code, 0, next.stderr);
  const stored = listFiles(fx.backup).filter((p) => !p.startsWith(".backup-tool/"));
  assert.equal(stored.filter((p) => p.startsWith("new/")).length, FILES);
  assert.equal(stored.filter((p) => p.startsWith("_duplicates/")).length, 0);
  assert.equal(stored.filter((p) => p.startsWith("_deleted/old/")).length, FILES);
  const verify = await fx.cli("verify");
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});

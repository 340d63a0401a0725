/**
 * A source disk unplugged while a run reads it: the source folder's path then shows
 * another folder (the empty mount point) in the middle of the walk, and the folders not
 * yet walked are gone, as if deleted just then. Their files must not be archived as
 * deleted (here half of them: not enough for the mass-deletion guard), and the run must
 * not end "complete" with exit 0. The run is paused in the middle of its walk
 * (BACKUP_TOOL_PAUSE, see engine/fault.ts) while the source is swapped for an empty folder.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture } from "../helpers.ts";
import { exists, pausedRun, runTool } from "./util.ts";

Deno.test("a source unplugged in the middle of a run: nothing archived as deleted, exit 1", async () => {
  const tree: Record<string, string> = {};
  for (let d = 0; d < 10; d++) {
    for (let f = 0; f < 10; f++) tree[`d${d}/f${f}.txt`] = `${d}/${f}\n`;
  }
  using fx = makeFixture(tree);
  assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
  // The 7th folder entered is d5 (the 1st is the source itself, then d0 … d4): d5 … d9,
  // half of the tree, are not walked yet when the disk goes.
  await using paused = await pausedRun(["run", "--config", fx.config], "folder:7", fx.dir);
  const { child, resume } = paused;
  Deno.renameSync(fx.source, `${fx.source}.unplugged`);
  Deno.mkdirSync(fx.source);
  resume();
  const out = await child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1, stderr);
  assert.match(stderr, /Source 'source' .* was unmounted or replaced while the run read it/);
  assert.ok(!exists(join(fx.backup, "_deleted")), "files of the unplugged disk were archived");
});

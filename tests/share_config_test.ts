/**
 * `share_blocks` and the kept copies' index, through the real CLI on a btrfs image
 * (share_helpers.ts: root on Linux with mkfs.btrfs and filefrag; ignored otherwise): with
 * `share_blocks: false` a duplicate's copy and a moved folder's files own every block of
 * theirs (`filefrag -v`: no extent shared) and no run makes the kept copies' index; set back
 * to true, the next session makes it. A `watch` session started on a sharing root whose
 * state lacks the index makes it at its start, or when its config is edited to turn
 * `share_blocks` on, and its passes then find kept copies by it (a deleted file made again
 * shares its `_deleted/` copy's blocks).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture, poll, writeConfig } from "./helpers.ts";
import { DEADLINE_MS, WatchProcess } from "./watch_helpers.ts";
import {
  BTRFS,
  bytesOf,
  hasKeptIndex,
  MIB,
  sharedAny,
  sharedWhole,
  withImage,
} from "./share_helpers.ts";

const WATCH = { watch: { debounce_ms: 200, rescan_interval: 0 } };

/** The fixture's config again, with `share_blocks` as given. */
function setShareBlocks(fx: Fixture, shareBlocks: boolean): void {
  writeConfig(fx.config, {
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    ...WATCH,
    share_blocks: shareBlocks,
  });
}

Deno.test({
  name:
    "run on btrfs with share_blocks false: duplicates and moved files own their blocks; no kept copies' index",
  ignore: !BTRFS,
  fn: async () => {
    const a = bytesOf(3 * MIB + 17, 31);
    const b = bytesOf(2 * MIB, 32);
    using fx = makeFixture({ "d/a.bin": a, "d/z.bin": a, "d/b.bin": b }, {
      share_blocks: false,
    });
    await withImage(fx, "btrfs", async () => {
      const first = await fx.cli("run");
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /2 new, 0 updated, 1 duplicate/);
      assert.ok(!(await sharedAny(join(fx.backup, "_duplicates", "d", "z.bin"))));
      assert.ok(!(await sharedAny(join(fx.backup, "d", "a.bin"))));
      assert.equal(hasKeptIndex(fx), false, "no index on the first run");
      // The folder moved: its files stored again whole, beside their old copies.
      Deno.renameSync(join(fx.source, "d"), join(fx.source, "e"));
      const moved = await fx.cli("run", "--force");
      assert.equal(moved.code, 0, moved.stderr);
      assert.match(moved.stdout, /2 new, 0 updated, 1 duplicate, 0 unchanged, 3 deleted/);
      for (const name of ["a.bin", "b.bin"]) {
        assert.ok(!(await sharedAny(join(fx.backup, "e", name))), `e/${name} owns its blocks`);
        assert.ok(!(await sharedAny(join(fx.backup, "_deleted", "d", name))), `_deleted/d/${name}`);
      }
      assert.deepEqual(Deno.readFileSync(join(fx.backup, "e", "b.bin")), b);
      assert.equal(hasKeptIndex(fx), false, "no index on a later run");
      const verify = await fx.cli("verify");
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      // Back to true: the next run makes the index, and a duplicate shares again.
      setShareBlocks(fx, true);
      Deno.writeFileSync(join(fx.source, "again.bin"), a);
      const on = await fx.cli("run");
      assert.equal(on.code, 0, on.stderr);
      assert.equal(hasKeptIndex(fx), true, "made once sharing is on");
      assert.ok(await sharedWhole(join(fx.backup, "_duplicates", "again.bin")));
    });
  },
});

Deno.test({
  name:
    "watch on btrfs: a state without the kept copies' index gets it at the session's start; a file made again shares its _deleted/ copy",
  ignore: !BTRFS,
  fn: async () => {
    const gone = bytesOf(2 * MIB, 33);
    using fx = makeFixture({ "gone.bin": gone, "keep.txt": "keep\n" }, {
      ...WATCH,
      share_blocks: false,
    });
    await withImage(fx, "btrfs", async () => {
      // Runs with sharing off: a deleted file's copy kept, and no index.
      const kept = await keptDeleted(fx, gone);
      assert.equal(hasKeptIndex(fx), false);
      setShareBlocks(fx, true);
      await using w = new WatchProcess(fx);
      await w.ready();
      await poll("the kept copies' index", () => hasKeptIndex(fx), DEADLINE_MS);
      // The deleted file's content made again: the watch's pass finds its kept copy.
      await madeAgainShares(fx, w, gone, kept);
    });
  },
});

Deno.test({
  name:
    "watch on btrfs: share_blocks set to true while it runs makes the kept copies' index; a file made again shares its _deleted/ copy",
  ignore: !BTRFS,
  fn: async () => {
    const gone = bytesOf(2 * MIB, 34);
    using fx = makeFixture({ "gone.bin": gone, "keep.txt": "keep\n" }, {
      ...WATCH,
      share_blocks: false,
    });
    await withImage(fx, "btrfs", async () => {
      const kept = await keptDeleted(fx, gone);
      await using w = new WatchProcess(fx);
      await w.ready();
      assert.equal(hasKeptIndex(fx), false, "sharing off: no index");
      setShareBlocks(fx, true); // as a run with it would, the reload makes the index
      const note = "reloaded: share_blocks true (was false); a full pass applies it";
      await poll(`'${note}' (${w.stderr})`, () => w.stderr.includes(note), DEADLINE_MS);
      await poll("the kept copies' index", () => hasKeptIndex(fx), DEADLINE_MS);
      await madeAgainShares(fx, w, gone, kept);
    });
  },
});

/** gone.bin backed up, deleted and archived (`run --force`): its `_deleted/` copy's path. */
async function keptDeleted(fx: Fixture, gone: Uint8Array): Promise<string> {
  assert.equal((await fx.cli("run")).code, 0);
  Deno.removeSync(join(fx.source, "gone.bin"));
  const deleted = await fx.cli("run", "--force");
  assert.equal(deleted.code, 0, deleted.stderr);
  const kept = join(fx.backup, "_deleted", "gone.bin");
  assert.deepEqual(Deno.readFileSync(kept), gone);
  return kept;
}

/**
 * gone.bin's content written again as back.bin while `w` watches: its copy, once stored and
 * the watch stopped without a warning, holds those bytes and shares its extents with `kept`.
 */
async function madeAgainShares(
  fx: Fixture,
  w: WatchProcess,
  gone: Uint8Array,
  kept: string,
): Promise<void> {
  Deno.writeFileSync(join(fx.source, "back.bin"), gone);
  const copy = join(fx.backup, "back.bin");
  await poll("back.bin in the backup", () => sizeOf(copy) === gone.length, DEADLINE_MS);
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  assert.doesNotMatch(exit.stderr, /WARNING/);
  assert.deepEqual(Deno.readFileSync(copy), gone);
  assert.ok(await sharedWhole(copy), "back.bin's copy shares its extents");
  assert.ok(await sharedWhole(kept), "with _deleted/gone.bin");
}

/** A file's size, or undefined where it is not (yet). */
function sizeOf(path: string): number | undefined {
  try {
    return Deno.statSync(path).size;
  } catch {
    return undefined;
  }
}

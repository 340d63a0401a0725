/**
 * A duplicate's copy sharing its disk blocks with its original's (share_extents.ts), on
 * real file systems: a small btrfs image, and an XFS one (reflink=1, mkfs.xfs' default;
 * 300 MiB, the least mkfs.xfs makes), each loop-mounted as the backup root (root on Linux
 * with mkfs.btrfs / mkfs.xfs and filefrag; ignored otherwise, with the reason said), always
 * unmounted in `finally`. The duplicate's copy is shared (`filefrag -v`: `shared`), holds
 * its bytes, mode and mtime, `verify` finds it intact and a restore gives its bytes, whether
 * its original is staged in the same batch, placed by an earlier one or recorded by an
 * earlier run; on a tmpfs root nothing is shared and nothing said; an original's copy damaged by hand (same
 * size, other bytes, times kept) leaves the duplicate's copy whole, with one warning.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture } from "./helpers.ts";
import {
  BTRFS,
  bytesOf,
  MIB,
  sharedWhole,
  TMPFS,
  withImage,
  withTmpfsRoot,
  XFS,
} from "./share_helpers.ts";

/**
 * Originals and their duplicates: 3 MiB; 20 MiB (two ranges of the ioctl's, the last
 * ending unaligned at the end); a small file of one block, left whole.
 */
function sourceTree(): Record<string, Uint8Array> {
  const three = bytesOf(3 * MIB + 123, 1);
  const twenty = bytesOf(20 * MIB + 5, 2);
  const small = bytesOf(3000, 3);
  return {
    "a/three.bin": three,
    "b/three copy.bin": three,
    "big.bin": twenty,
    "big2.bin": twenty,
    "small.txt": small,
    "small2.txt": small,
  };
}

/** The run, then what every file system that shares must show. */
async function backUpAndCheck(fx: Fixture): Promise<void> {
  // Mode and mtime of their own, for the copy to keep through the sharing.
  Deno.chmodSync(join(fx.source, "b/three copy.bin"), 0o600);
  Deno.utimeSync(
    join(fx.source, "big2.bin"),
    new Date(1_700_000_000_000),
    new Date(1_700_000_000_000),
  );
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /3 new, 0 updated, 3 duplicate/);
  assert.doesNotMatch(r.stdout + r.stderr, /WARNING/);
  for (const [dup, original] of [["b/three copy.bin", "a/three.bin"], ["big2.bin", "big.bin"]]) {
    const copy = join(fx.backup, "_duplicates", dup);
    assert.ok(await sharedWhole(copy), `${dup}'s copy shares its extents`);
    assert.ok(await sharedWhole(join(fx.backup, original)), `${original}'s copy too`);
    assert.deepEqual(Deno.readFileSync(copy), Deno.readFileSync(join(fx.source, dup)));
    const [was, is] = [Deno.statSync(join(fx.source, dup)), Deno.statSync(copy)];
    assert.equal(is.mode! & 0o7777, was.mode! & 0o7777, `${dup}'s mode`);
    assert.equal(is.mtime?.getTime(), was.mtime?.getTime(), `${dup}'s mtime`);
  }
  assert.ok(!(await sharedWhole(join(fx.backup, "_duplicates", "small2.txt"))), "one block: whole");
  const verify = await fx.cli("verify");
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.match(verify.stdout, /intact/);
  // A later run's duplicate shares the stored copy's extents (the state's original).
  Deno.mkdirSync(join(fx.source, "c"));
  Deno.copyFileSync(join(fx.source, "a/three.bin"), join(fx.source, "c/three again.bin"));
  const again = await fx.cli("run");
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /0 new, 0 updated, 1 duplicate/);
  assert.ok(await sharedWhole(join(fx.backup, "_duplicates", "c/three again.bin")));
  const out = join(fx.dir, "restored");
  const restore = await fx.cli("restore", "--to", out);
  assert.equal(restore.code, 0, restore.stderr);
  for (const [path, bytes] of Object.entries(sourceTree())) {
    assert.deepEqual(Deno.readFileSync(join(out, path)), bytes, `${path} restored`);
  }
}

Deno.test({
  name: "run on btrfs: a duplicate's copy shares its original's extents; verify and restore",
  ignore: !BTRFS,
  fn: async () => {
    using fx = makeFixture(sourceTree());
    await withImage(fx, "btrfs", () => backUpAndCheck(fx));
  },
});

Deno.test({
  name: "run on XFS (reflink=1): a duplicate's copy shares its original's extents",
  ignore: !XFS,
  fn: async () => {
    using fx = makeFixture(sourceTree());
    await withImage(fx, "xfs", () => backUpAndCheck(fx));
  },
});

Deno.test({
  name: "run on tmpfs: duplicates stored whole, nothing said",
  ignore: !TMPFS,
  fn: async () => {
    using fx = makeFixture(sourceTree());
    await withTmpfsRoot(fx, async () => {
      const r = await fx.cli("run");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /3 new, 0 updated, 3 duplicate/);
      assert.doesNotMatch(r.stdout + r.stderr, /WARNING|shar/i);
      assert.deepEqual(
        Deno.readFileSync(join(fx.backup, "_duplicates", "big2.bin")),
        Deno.readFileSync(join(fx.source, "big2.bin")),
      );
      assert.equal((await fx.cli("verify")).code, 0);
    });
  },
});

Deno.test({
  name:
    "run on btrfs: an original's copy damaged by hand is not shared; the duplicate's copy kept whole, with a warning",
  ignore: !BTRFS,
  fn: async () => {
    const content = bytesOf(2 * MIB, 4);
    using fx = makeFixture({ "orig.bin": content });
    await withImage(fx, "btrfs", async () => {
      assert.equal((await fx.cli("run")).code, 0);
      // Other bytes of the same size, its times kept: only reading it can tell.
      const stored = join(fx.backup, "orig.bin");
      const before = Deno.statSync(stored);
      Deno.writeFileSync(stored, bytesOf(2 * MIB, 5));
      Deno.utimeSync(stored, before.atime!, before.mtime!);
      Deno.writeFileSync(join(fx.source, "dup.bin"), content);
      // A damaged stored copy found, as a run says any: exit code 1, the warning on stderr.
      const r = await fx.cli("run");
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /0 new, 0 updated, 1 duplicate/);
      assert.match(r.stdout, /Copies missing or damaged: 1 stored copy/);
      const warnings = r.stderr.split("\n").filter((l) => l.startsWith("WARNING"));
      assert.deepEqual(warnings.length, 1, r.stdout);
      assert.match(warnings[0], /^WARNING: source\/dup\.bin: The copy 'orig\.bin' of its content/);
      assert.match(warnings[0], /verify --repair/);
      const copy = join(fx.backup, "_duplicates", "dup.bin");
      assert.deepEqual(Deno.readFileSync(copy), content);
      assert.ok(!(await sharedWhole(copy)), "kept whole");
      assert.deepEqual(
        Deno.readFileSync(stored),
        bytesOf(2 * MIB, 5),
        "the damaged copy untouched",
      );
      assert.equal(Deno.statSync(stored).mtime?.getTime(), before.mtime?.getTime());
      // verify says the same of it.
      const verify = await fx.cli("verify");
      assert.equal(verify.code, 1);
      assert.match(verify.stderr, /orig\.bin/);
    });
  },
});

Deno.test({
  name:
    "run on btrfs: a duplicate in a later batch than its original shares the copy that batch placed",
  ignore: !BTRFS,
  fn: async () => {
    // More than a batch's 512 staged files between them: `a.bin` is in its place, not yet
    // committed, when `z.bin` is staged.
    const content = bytesOf(MIB, 6);
    const tree: Record<string, string | Uint8Array> = { "a.bin": content, "z.bin": content };
    for (let i = 0; i < 520; i++) tree[`m/f${String(i).padStart(4, "0")}.txt`] = `${i}\n`;
    using fx = makeFixture(tree);
    await withImage(fx, "btrfs", async () => {
      const r = await fx.cli("run");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /521 new, 0 updated, 1 duplicate/);
      assert.ok(await sharedWhole(join(fx.backup, "_duplicates", "z.bin")));
      assert.deepEqual(Deno.readFileSync(join(fx.backup, "_duplicates", "z.bin")), content);
    });
  },
});

Deno.test({
  name:
    "run on btrfs: a duplicate of a content its original's change archives in the same batch shares the archived copy",
  ignore: !BTRFS,
  fn: async () => {
    // `m.bin` changes and `a.bin` (walked first) holds its old content, in one run: `a.bin`
    // is planned as a duplicate of `m.bin`'s stored copy, which the same batch then archives
    // as `m.bin`'s new content takes its place (and `a.bin` is promoted).
    const old = bytesOf(2 * MIB, 7);
    using fx = makeFixture({ "m.bin": old });
    await withImage(fx, "btrfs", async () => {
      assert.equal((await fx.cli("run")).code, 0);
      Deno.writeFileSync(join(fx.source, "a.bin"), old);
      Deno.writeFileSync(join(fx.source, "m.bin"), bytesOf(2 * MIB, 8));
      const r = await fx.cli("run");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /0 new, 1 updated, 1 duplicate/);
      assert.match(r.stdout, /1 duplicate\(s\) promoted/);
      assert.doesNotMatch(r.stdout + r.stderr, /WARNING/);
      const copy = join(fx.backup, "a.bin");
      assert.deepEqual(Deno.readFileSync(copy), old);
      assert.ok(await sharedWhole(copy), "a.bin's copy shares the archived copy's extents");
      assert.ok(await sharedWhole(join(fx.backup, "versions", "m.bin", "v1.bak")));
      assert.ok(!(await sharedWhole(join(fx.backup, "m.bin"))), "the new content whole");
      assert.equal((await fx.cli("verify")).code, 0);
    });
  },
});

/**
 * A new or changed file's copy sharing its disk blocks with a stored copy of the same
 * content (share_extents.ts, state/stored_copies.ts), through the real CLI on a btrfs image
 * (and XFS for the move; share_helpers.ts: root on Linux with mkfs.btrfs / mkfs.xfs and
 * filefrag; ignored otherwise): a folder moved (its files' new copies share the old paths'
 * copies, archived to `_deleted/` by the same run), a file put back to an earlier content
 * (shares its `versions/` copy), a deleted file made again whose `_deleted/` copy was
 * damaged by hand (kept whole, one warning, exit 1); on a tmpfs root nothing is shared, and
 * a tmpfs or ext4 root is known not to share before any lookup (`mayShareAt`). The kept
 * copies' index (`copies_kept_by_hash`) is made by the first run on btrfs, never on ext4
 * or tmpfs, whose states keep up no more indexes than before.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture } from "./helpers.ts";
import {
  BTRFS,
  bytesOf,
  EXT4,
  hasKeptIndex,
  MIB,
  sharedWhole,
  TMPFS,
  withImage,
  withTmpfsRoot,
  XFS,
} from "./share_helpers.ts";
import { mayShareAt } from "../src/engine/fs/share_extents.ts";

/** A folder moved on a file system of `kind`: its files' new copies share their old ones'. */
async function moveAndCheck(kind: "btrfs" | "xfs"): Promise<void> {
  const a = bytesOf(3 * MIB + 17, 11);
  const b = bytesOf(20 * MIB + 5, 12);
  using fx = makeFixture({ "photos/a.bin": a, "photos/b.bin": b, "photos/s.txt": "small\n" });
  await withImage(fx, kind, async () => {
    assert.ok(mayShareAt(fx.backup), `${kind}: may share`);
    assert.equal((await fx.cli("run")).code, 0);
    Deno.renameSync(join(fx.source, "photos"), join(fx.source, "archive"));
    // Every file moved: the deletion guard's --force.
    const r = await fx.cli("run", "--force");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /3 new, 0 updated, 0 duplicate/);
    assert.doesNotMatch(r.stdout + r.stderr, /WARNING/);
    for (const [name, bytes] of [["a.bin", a], ["b.bin", b]] as const) {
      const copy = join(fx.backup, "archive", name);
      const old = join(fx.backup, "_deleted", "photos", name);
      assert.ok(await sharedWhole(copy), `archive/${name}'s copy shares its extents`);
      assert.ok(await sharedWhole(old), `_deleted/photos/${name} too`);
      assert.deepEqual(Deno.readFileSync(copy), bytes);
      assert.deepEqual(Deno.readFileSync(old), bytes);
    }
    assert.ok(!(await sharedWhole(join(fx.backup, "archive", "s.txt"))), "one block: whole");
    const verify = await fx.cli("verify");
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });
}

Deno.test({
  name: "run on btrfs: a moved folder's files share their _deleted/ copies' extents",
  ignore: !BTRFS,
  fn: () => moveAndCheck("btrfs"),
});

Deno.test({
  name: "run on XFS (reflink=1): a moved folder's files share their _deleted/ copies' extents",
  ignore: !XFS,
  fn: () => moveAndCheck("xfs"),
});

Deno.test({
  name:
    "run on btrfs: a moved file in a later batch shares its copy an earlier batch of the run archived",
  ignore: !BTRFS,
  fn: async () => {
    // The 601 deletions are planned first: the run's first batch (1,024 actions) archives
    // them all, uncommitted still when `zz.bin` is staged in the next.
    const content = bytesOf(MIB + 3, 18);
    const tree: Record<string, string | Uint8Array> = { "old/zz.bin": content };
    for (let i = 0; i < 600; i++) tree[`old/m/f${String(i).padStart(4, "0")}.txt`] = `${i}\n`;
    using fx = makeFixture(tree);
    await withImage(fx, "btrfs", async () => {
      assert.equal((await fx.cli("run")).code, 0);
      Deno.renameSync(join(fx.source, "old"), join(fx.source, "new"));
      const r = await fx.cli("run", "--force");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /601 new, 0 updated, 0 duplicate, 0 unchanged, 601 deleted/);
      const copy = join(fx.backup, "new", "zz.bin");
      assert.ok(await sharedWhole(copy), "new/zz.bin's copy shares its extents");
      assert.ok(await sharedWhole(join(fx.backup, "_deleted", "old", "zz.bin")));
      assert.deepEqual(Deno.readFileSync(copy), content);
    });
  },
});

Deno.test({
  name: "run on btrfs: a file put back to an earlier content shares its versions/ copy",
  ignore: !BTRFS,
  fn: async () => {
    const first = bytesOf(2 * MIB, 13);
    const second = bytesOf(2 * MIB, 14);
    using fx = makeFixture({ "doc.bin": first });
    await withImage(fx, "btrfs", async () => {
      const at = join(fx.source, "doc.bin");
      assert.equal((await fx.cli("run")).code, 0);
      Deno.writeFileSync(at, second);
      Deno.utimeSync(at, new Date(1_700_000_000_000), new Date(1_700_000_000_000));
      assert.equal((await fx.cli("run")).code, 0);
      Deno.writeFileSync(at, first);
      const r = await fx.cli("run");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /0 new, 1 updated/);
      const v1 = join(fx.backup, "versions", "doc.bin", "v1.bak");
      assert.deepEqual(Deno.readFileSync(v1), first);
      assert.ok(await sharedWhole(join(fx.backup, "doc.bin")), "the new copy shares");
      assert.ok(await sharedWhole(v1), "with version 1");
      assert.ok(!(await sharedWhole(join(fx.backup, "versions", "doc.bin", "v2.bak"))));
      assert.deepEqual(Deno.readFileSync(join(fx.backup, "doc.bin")), first);
    });
  },
});

Deno.test({
  name:
    "run on btrfs: a deleted file made again whose _deleted/ copy was damaged: whole copy, a warning",
  ignore: !BTRFS,
  fn: async () => {
    const content = bytesOf(2 * MIB, 15);
    using fx = makeFixture({ "gone.bin": content });
    await withImage(fx, "btrfs", async () => {
      assert.equal((await fx.cli("run")).code, 0);
      Deno.removeSync(join(fx.source, "gone.bin"));
      assert.equal((await fx.cli("run", "--force")).code, 0);
      const kept = join(fx.backup, "_deleted", "gone.bin");
      const before = Deno.statSync(kept);
      Deno.writeFileSync(kept, bytesOf(2 * MIB, 16));
      Deno.utimeSync(kept, before.atime!, before.mtime!);
      Deno.writeFileSync(join(fx.source, "back.bin"), content);
      const r = await fx.cli("run");
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /1 new, 0 updated, 0 duplicate/);
      const warnings = r.stderr.split("\n").filter((l) => l.startsWith("WARNING"));
      assert.equal(warnings.length, 1, r.stderr);
      assert.match(
        warnings[0],
        /^WARNING: source\/back\.bin: The copy '_deleted\/gone\.bin' of its content .*verify --repair/,
      );
      const copy = join(fx.backup, "back.bin");
      assert.deepEqual(Deno.readFileSync(copy), content);
      assert.ok(!(await sharedWhole(copy)), "kept whole");
      assert.deepEqual(Deno.readFileSync(kept), bytesOf(2 * MIB, 16), "left as it was");
    });
  },
});

Deno.test({
  name: "run on tmpfs: a moved file is stored whole, the root known not to share before a lookup",
  ignore: !TMPFS,
  fn: async () => {
    const content = bytesOf(2 * MIB, 17);
    using fx = makeFixture({ "d/x.bin": content });
    await withTmpfsRoot(fx, async () => {
      assert.equal(mayShareAt(fx.backup), false, "tmpfs: no lookup made");
      assert.equal((await fx.cli("run")).code, 0);
      Deno.renameSync(join(fx.source, "d"), join(fx.source, "e"));
      const r = await fx.cli("run", "--force");
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout + r.stderr, /WARNING/);
      assert.deepEqual(Deno.readFileSync(join(fx.backup, "e", "x.bin")), content);
      assert.deepEqual(Deno.readFileSync(join(fx.backup, "_deleted", "d", "x.bin")), content);
    });
  },
});

Deno.test({
  name: "mayShareAt: ext4 says no before any file, btrfs yes",
  ignore: !EXT4 || !BTRFS,
  fn: async () => {
    {
      using fx = makeFixture({});
      await withImage(fx, "ext4", () => {
        assert.equal(mayShareAt(fx.backup), false);
        return Promise.resolve();
      });
    }
    using fx = makeFixture({});
    await withImage(fx, "btrfs", () => {
      assert.equal(mayShareAt(fx.backup), true);
      return Promise.resolve();
    });
  },
});

/** Runs that keep a version (`doc.bin` changed) and a deleted file's copy (`gone.bin`). */
async function archiveSome(fx: Fixture): Promise<void> {
  assert.equal((await fx.cli("run")).code, 0);
  const doc = join(fx.source, "doc.bin");
  Deno.writeFileSync(doc, bytesOf(2 * MIB, 22));
  Deno.utimeSync(doc, new Date(1_700_000_000_000), new Date(1_700_000_000_000));
  Deno.removeSync(join(fx.source, "gone.bin"));
  const r = await fx.cli("run", "--force");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /0 new, 1 updated, 0 duplicate, 0 unchanged, 1 deleted/);
  assert.ok(Deno.statSync(join(fx.backup, "versions", "doc.bin", "v1.bak")).isFile);
  assert.ok(Deno.statSync(join(fx.backup, "_deleted", "gone.bin")).isFile);
}

Deno.test({
  name: "the kept copies' index: made by a run on btrfs, never on ext4 or tmpfs",
  ignore: !EXT4 || !BTRFS || !TMPFS,
  fn: async () => {
    const tree = () => ({ "doc.bin": bytesOf(2 * MIB, 20), "gone.bin": bytesOf(2 * MIB, 21) });
    for (const kind of ["ext4", "tmpfs", "btrfs"] as const) {
      using fx = makeFixture(tree());
      const body = async () => {
        await archiveSome(fx);
        assert.equal(hasKeptIndex(fx), kind === "btrfs", `${kind}: the index made`);
        // On btrfs, made again by no later run; on the others still not made.
        assert.equal((await fx.cli("run")).code, 0);
        assert.equal(hasKeptIndex(fx), kind === "btrfs", `${kind}: after a later run`);
        const verify = await fx.cli("verify");
        assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      };
      if (kind === "tmpfs") await withTmpfsRoot(fx, body);
      else await withImage(fx, kind, body);
    }
  },
});

/**
 * `restore PATH --to -` of a stored copy the disk cannot read (an I/O error: a btrfs block
 * whose checksum fails), through the real CLI on a btrfs image (share_helpers.ts: root on
 * Linux with mkfs.btrfs and filefrag, and btrfs-map-logical here; ignored otherwise): a
 * file held whole before writing is said as the restore `--to DIR` says it (NOT RESTORED,
 * nothing written, exit 1); one failing once streamed says the output is cut short, exit 1;
 * where another stored copy of the same bytes owns its blocks (a duplicate's, with
 * `share_blocks: false`), `--to DIR` and `--to -` read it instead, with the WARNING.
 * Writes only in the fixture's temporary folder and the image there.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture } from "./helpers.ts";
import { raw } from "./restore_helpers.ts";
import { succeeds } from "./fstab_namespace.ts";
import { BTRFS, bytesOf, MIB, withImage } from "./share_helpers.ts";
import { unmount } from "./tmpfs.ts";

const MAP_LOGICAL = BTRFS && await succeeds("sh", "-c", "command -v btrfs-map-logical");
if (BTRFS && !MAP_LOGICAL) console.log("SKIP read error tests: need btrfs-map-logical");

/** The btrfs logical address of a byte of a file on the mounted image (`filefrag -v`). */
async function logicalOf(file: string, at: number): Promise<number> {
  const frag = await new Deno.Command("filefrag", { args: ["-v", "-b4096", file] }).output();
  const block = Math.floor(at / 4096);
  for (const m of new TextDecoder().decode(frag.stdout).matchAll(EXTENT)) {
    const [from, to, physical] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (from <= block && block <= to) return (physical + block - from) * 4096 + at % 4096;
  }
  throw new Error(`no extent of '${file}' holds byte ${at}`);
}

/** `filefrag -v`'s extent line: its first and last block in the file, its first on disk. */
const EXTENT = /^\s*\d+:\s+(\d+)\.\.\s*(\d+):\s+(\d+)\.\./gm;

/** Where in the (unmounted) image a btrfs logical address lies (`btrfs-map-logical`). */
async function imageOffset(image: string, logical: number): Promise<number> {
  const map = await new Deno.Command("btrfs-map-logical", {
    args: ["-l", String(logical), image],
  }).output();
  const found = new TextDecoder().decode(map.stdout).match(/physical (\d+)/);
  assert.ok(found, new TextDecoder().decode(map.stderr));
  return Number(found[1]);
}

/**
 * Overwrites a few bytes of each stored copy named (at its offset) in the image, unmounted
 * meanwhile: btrfs then fails every read of that block (its checksum), EIO.
 */
async function corrupt(fx: Fixture, image: string, where: [string, number][]): Promise<void> {
  const logical = [];
  for (const [file, at] of where) logical.push(await logicalOf(join(fx.backup, file), at));
  await unmount(fx.backup);
  using img = Deno.openSync(image, { write: true });
  for (const l of logical) {
    img.seekSync(await imageOffset(image, l), Deno.SeekMode.Start);
    img.writeSync(new TextEncoder().encode("CORRUPT"));
  }
  assert.ok(await succeeds("mount", "-o", "loop", image, fx.backup), "mount again");
}

Deno.test({
  name:
    "restore --to - of a stored copy the disk cannot read: NOT RESTORED as --to DIR says it, or the output cut short",
  ignore: !MAP_LOGICAL,
  fn: async () => {
    const small = bytesOf(MIB, 41);
    const large = bytesOf(12 * MIB, 42);
    using fx = makeFixture({ "small.bin": small, "large.bin": large });
    const image = join(fx.dir, "btrfs.img");
    await withImage(fx, "btrfs", async () => {
      const run = await fx.cli("run");
      assert.equal(run.code, 0, run.stderr);
      await corrupt(fx, image, [["small.bin", 100], ["large.bin", 6 * MIB + 100]]);
      // Held whole before writing: nothing written, the restore's own line.
      const r = await raw(fx, "restore", "small.bin", "--to", "-");
      const normal = await raw(fx, "restore", "small.bin", "--to", "r");
      assert.equal(normal.code, 1, normal.stderr);
      assert.match(normal.stderr, /^NOT RESTORED: source\/small\.bin \(v1\): .*os error 5/m);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout.length, 0);
      assert.equal(r.stderr.split("\n")[0], normal.stderr.split("\n")[0]);
      assert.match(r.stderr, /^Restore incomplete: nothing was written to standard output$/m);
      // Streamed: what was written before the failure is said cut short.
      const big = await raw(fx, "restore", "large.bin", "--to", "-");
      assert.equal(big.code, 1, big.stderr);
      assert.ok(big.stdout.length > 0 && big.stdout.length < large.length);
      assert.deepEqual(big.stdout, large.subarray(0, big.stdout.length));
      assert.match(
        big.stderr,
        new RegExp(
          "^ERROR: source/large\\.bin \\(v1\\): the output is cut short: .*os error 5.*, once " +
            `${big.stdout.length} bytes of it were written: discard them; run 'verify --config \\S+'`,
          "m",
        ),
      );
      assert.doesNotMatch(big.stderr, /Restore failed|Restore complete/);
    });
  },
});

Deno.test({
  name:
    "a stored copy the disk cannot read is read from another copy of the same bytes (share_blocks false: a duplicate owns its blocks), by restore --to DIR and --to -",
  ignore: !MAP_LOGICAL,
  fn: async () => {
    const small = bytesOf(MIB, 43);
    const large = bytesOf(12 * MIB, 44);
    using fx = makeFixture(
      { "a.bin": small, "copy_of_a.bin": small, "big.bin": large, "copy_of_big.bin": large },
      { share_blocks: false },
    );
    const image = join(fx.dir, "btrfs.img");
    await withImage(fx, "btrfs", async () => {
      const run = await fx.cli("run");
      assert.equal(run.code, 0, run.stderr);
      // The first block of each: nothing of it is written before the read fails.
      await corrupt(fx, image, [["a.bin", 100], ["big.bin", 100]]);
      for (const [file, bytes] of [["a.bin", small], ["big.bin", large]] as const) {
        const name = file.replace(".", "\\.");
        const warning = new RegExp(
          `^WARNING: source/${name} \\(v1\\): its copy '${name}' is missing or damaged: read ` +
            `from '_duplicates/copy_of_${name}', which holds the same content; run 'verify --repair --config \\S+'$`,
          "m",
        );
        const normal = await raw(fx, "restore", file, "--to", "r");
        assert.equal(normal.code, 0, normal.stderr);
        assert.match(normal.stderr, warning);
        assert.deepEqual(Deno.readFileSync(join(fx.dir, "r", file)), bytes);
        const out = await raw(fx, "restore", file, "--to", "-");
        assert.equal(out.code, 0, out.stderr);
        assert.match(out.stderr, warning);
        assert.deepEqual(out.stdout, bytes);
      }
    });
  },
});

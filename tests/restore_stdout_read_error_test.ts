/**
 * `restore PATH --to -` of a stored copy the disk cannot read (an I/O error: a btrfs block
 * whose checksum fails), through the real CLI on a btrfs image (share_helpers.ts: root on
 * Linux with mkfs.btrfs and filefrag, and btrfs-map-logical here; ignored otherwise): a
 * file held whole before writing is said as the restore `--to DIR` says it (NOT RESTORED,
 * nothing written, exit 1); one failing once streamed says the output is cut short, exit 1.
 * Writes only in the fixture's temporary folder and the image there.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture, toolCommand } from "./helpers.ts";
import { succeeds } from "./fstab_namespace.ts";
import { BTRFS, bytesOf, MIB, withImage } from "./share_helpers.ts";
import { unmount } from "./tmpfs.ts";

const MAP_LOGICAL = BTRFS && await succeeds("sh", "-c", "command -v btrfs-map-logical");
if (BTRFS && !MAP_LOGICAL) console.log("SKIP read error tests: need btrfs-map-logical");

/** The CLI on the fixture's config, its standard output as bytes. */
async function raw(fx: Fixture, ...args: string[]) {
  const { cmd, args: full } = toolCommand([...args, "--config", fx.config]);
  const out = await new Deno.Command(cmd, {
    args: full,
    cwd: fx.dir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: out.code, stdout: out.stdout, stderr: new TextDecoder().decode(out.stderr) };
}

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
      const logical = [
        await logicalOf(join(fx.backup, "small.bin"), 100),
        await logicalOf(join(fx.backup, "large.bin"), 6 * MIB + 100),
      ];
      await unmount(fx.backup);
      const spots = [];
      for (const l of logical) spots.push(await imageOffset(image, l));
      using img = Deno.openSync(image, { write: true });
      for (const at of spots) {
        img.seekSync(at, Deno.SeekMode.Start);
        img.writeSync(new TextEncoder().encode("CORRUPT"));
      }
      assert.ok(await succeeds("mount", "-o", "loop", image, fx.backup), "mount again");
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
            `${big.stdout.length} bytes of it were written: discard them; run 'verify'`,
          "m",
        ),
      );
      assert.doesNotMatch(big.stderr, /Restore failed|Restore complete/);
    });
  },
});

/**
 * Sparse files end to end, through the real CLI: a 64 MiB file holding a few KiB is backed
 * up as a copy that occupies a few KiB too (with its exact length, a last hole included),
 * keeps its holes when a change archives it into `versions/`, and is restored sparse (the
 * whole tree, one file, `--at` an earlier run, in place) and made again sparse by `verify
 * --repair`; every copy reads back as the source's bytes. A file of zeros that occupies
 * all its length is kept whole, as `cp --sparse=auto` keeps it. Linux only (elsewhere
 * copies are written whole: sparse.ts); skipped, saying why, where the temporary folder's
 * file system keeps no holes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { type Fixture, makeFixture } from "./helpers.ts";

const MiB = 1 << 20;
/** The sparse file's length: large against what it holds, small enough to read in a test. */
const SIZE = 64 * MiB;
/** What a copy of it may occupy at most: its few KiB of data, in whole blocks, and a margin. */
const SPARSE_MAX_BYTES = 1 * MiB;

/** Whether the file system of `dir` keeps holes: a file truncated to 1 MiB occupies less. */
function keepsHoles(dir: string): boolean {
  const probe = join(dir, "hole-probe");
  try {
    using f = Deno.openSync(probe, { write: true, createNew: true });
    f.truncateSync(MiB);
    return (f.statSync().blocks ?? MiB) * 512 < MiB;
  } finally {
    Deno.removeSync(probe);
  }
}

const why = (() => {
  if (Deno.build.os !== "linux") return "copies keep holes on Linux only";
  const dir = Deno.makeTempDirSync({ prefix: "bt-" });
  try {
    return keepsHoles(dir) ? undefined : `the file system of '${dir}' keeps no holes`;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
})();
if (why) console.log(`SKIP sparse file tests: ${why}`);

/** A file of `size` bytes holding only `parts` (text at an offset), holes elsewhere. */
function makeSparse(path: string, size: number, parts: [number, string][], mtimeSec: number) {
  {
    using f = Deno.openSync(path, { write: true, create: true });
    f.truncateSync(size);
    for (const [at, text] of parts) {
      f.seekSync(at, Deno.SeekMode.Start);
      f.writeSync(new TextEncoder().encode(text));
    }
  }
  Deno.utimeSync(path, mtimeSec, mtimeSec);
}

/** Bytes the file occupies on disk. */
const occupied = (path: string) => (Deno.statSync(path).blocks ?? 0) * 512;

const digestOf = (path: string) =>
  createHash("sha256").update(Deno.readFileSync(path)).digest("hex");

/** Asserts `copy` holds the bytes of `expected` (a path, or their digest) and is sparse. */
function assertSparseCopy(copy: string, expected: string, size: number, what: string) {
  assert.equal(Deno.statSync(copy).size, size, `${what}: its length`);
  const digest = expected.includes("/") ? digestOf(expected) : expected;
  assert.equal(digestOf(copy), digest, `${what}: its bytes`);
  assert.ok(occupied(copy) < SPARSE_MAX_BYTES, `${what} occupies ${occupied(copy)} bytes`);
}

async function ok(fx: Fixture, ...args: string[]): Promise<string> {
  const r = await fx.cli(...args);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** The one file under `folder` (a path's versions). */
function onlyFileIn(folder: string): string {
  const names = [...Deno.readDirSync(folder)].map((e) => e.name);
  assert.equal(names.length, 1, names.join(", "));
  return join(folder, names[0]);
}

Deno.test({
  name: "a sparse file is backed up, archived and restored sparse, with its bytes and length",
  ignore: why !== undefined,
  fn: async () => {
    using fx = makeFixture({ "small.txt": "small\n" });
    const img = join(fx.source, "vm.img");
    // Data at the start and in the middle; the last 32 MiB a hole: the length must be set.
    makeSparse(img, SIZE, [[0, "boot"], [32 * MiB + 5, "data"]], 1_700_000_000);
    const tail = join(fx.source, "tail.img");
    makeSparse(tail, SIZE + 3, [[SIZE, "end"]], 1_700_000_000); // data in the last bytes
    await ok(fx, "run");
    const first = { time: Date.now(), digest: digestOf(img) };
    assertSparseCopy(join(fx.backup, "vm.img"), img, SIZE, "the mirror copy");
    assertSparseCopy(join(fx.backup, "tail.img"), tail, SIZE + 3, "a copy ending in data");

    // Changed: the old copy goes to versions/ by rename, holes and all.
    makeSparse(img, SIZE, [[48 * MiB, "more"]], 1_700_000_100);
    await ok(fx, "run");
    assertSparseCopy(join(fx.backup, "vm.img"), img, SIZE, "the changed file's copy");
    const version = onlyFileIn(join(fx.backup, "versions", "vm.img"));
    assertSparseCopy(version, first.digest, SIZE, "the archived copy");
    await ok(fx, "verify"); // reads the logical bytes: holes are zeros to it

    // Restored: the whole tree, one file, as of the first run, and in place.
    const out = join(fx.dir, "out");
    await ok(fx, "restore", "--to", out);
    assertSparseCopy(join(out, "vm.img"), img, SIZE, "the restored tree's file");
    assertSparseCopy(join(out, "tail.img"), tail, SIZE + 3, "the restored file ending in data");
    await ok(fx, "restore", "vm.img", "--to", join(fx.dir, "one"));
    assertSparseCopy(join(fx.dir, "one", "vm.img"), img, SIZE, "a file restored alone");
    const then = join(fx.dir, "then");
    await ok(fx, "restore", "--at", new Date(first.time).toISOString(), "--to", then);
    assertSparseCopy(join(then, "vm.img"), first.digest, SIZE, "the file as of the first run");
    const now = digestOf(img);
    Deno.removeSync(img);
    await ok(fx, "restore");
    assertSparseCopy(img, now, SIZE, "the file restored in place");
  },
});

Deno.test({
  name: "verify --repair makes a sparse file's missing copy again, sparse",
  ignore: why !== undefined,
  fn: async () => {
    using fx = makeFixture({ "small.txt": "small\n" });
    const img = join(fx.source, "vm.img");
    makeSparse(img, SIZE, [[16 * MiB, "data"]], 1_700_000_000);
    await ok(fx, "run");
    const copy = join(fx.backup, "vm.img");
    Deno.removeSync(copy);
    const repair = await fx.cli("verify", "--repair");
    assert.equal(repair.code, 0, repair.stdout + repair.stderr);
    assertSparseCopy(copy, img, SIZE, "the copy made again");
  },
});

Deno.test({
  name: "a file of zeros that occupies all its length is kept whole, backed up and restored",
  ignore: why !== undefined,
  fn: async () => {
    const size = 8 * MiB;
    using fx = makeFixture({ "zeros.bin": new Uint8Array(size) });
    const zeros = join(fx.source, "zeros.bin");
    assert.ok(occupied(zeros) >= size, "the source occupies all its length");
    await ok(fx, "run");
    const copy = join(fx.backup, "zeros.bin");
    assert.equal(digestOf(copy), digestOf(zeros));
    assert.ok(occupied(copy) >= size, `the copy occupies ${occupied(copy)} bytes`);
    const out = join(fx.dir, "out");
    await ok(fx, "restore", "--to", out);
    assert.equal(digestOf(join(out, "zeros.bin")), digestOf(zeros));
    assert.ok(occupied(join(out, "zeros.bin")) >= size, "the restored file is whole too");
  },
});

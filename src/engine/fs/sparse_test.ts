/**
 * Unit tests of sparse.ts: the zero check (aligned or not, any length), the planning of a
 * block's parts to write, and the hole writer on a real temporary file (its bytes, its
 * exact length after a last hole, the space it occupies).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { dataParts, hasHoles, HOLE_BYTES, holeWriter, isZero } from "./sparse.ts";

const linux = Deno.build.os === "linux";

/** Whether the file system of `dir` keeps holes: a file only truncated to 1 MiB occupies less. */
function keepsHoles(dir: string): boolean {
  const probe = join(dir, "probe");
  using f = Deno.openSync(probe, { write: true, createNew: true });
  f.truncateSync(1 << 20);
  return (f.statSync().blocks ?? 0) * 512 < 1 << 20;
}

Deno.test("isZero: zeros of any length and alignment; any byte that is not zero is seen", () => {
  assert.ok(isZero(new Uint8Array(0)));
  for (const length of [1, 3, 4, 7, 31, 32, 33, 4096, 4099]) {
    const bytes = new Uint8Array(length + 3);
    for (const shift of [0, 1, 2, 3]) {
      const view = bytes.subarray(shift, shift + length);
      assert.ok(isZero(view), `${length} zeros at ${shift}`);
      for (const at of new Set([0, length >> 1, length - 1])) {
        view[at] = 0x80; // the top bit alone: a sign a float's compare would lose
        assert.ok(!isZero(view), `${length} bytes at ${shift}, one set at ${at}`);
        view[at] = 0;
      }
    }
  }
});

Deno.test("dataParts: pieces of zeros are left out, pieces with data joined", () => {
  const chunk = new Uint8Array(4 * HOLE_BYTES);
  assert.deepEqual(dataParts(chunk, 0), []);
  chunk[HOLE_BYTES + 5] = 1;
  assert.deepEqual(dataParts(chunk, 0), [HOLE_BYTES, 2 * HOLE_BYTES]);
  chunk[4 * HOLE_BYTES - 1] = 1; // the last byte: a part of its own
  assert.deepEqual(dataParts(chunk, 0), [
    HOLE_BYTES,
    2 * HOLE_BYTES,
    3 * HOLE_BYTES,
    4 * HOLE_BYTES,
  ]);
  chunk[2 * HOLE_BYTES] = 1; // the piece between: one part of three pieces
  assert.deepEqual(dataParts(chunk, 0), [HOLE_BYTES, 4 * HOLE_BYTES]);
});

Deno.test("dataParts: pieces follow the file's offsets, the last one short", () => {
  const chunk = new Uint8Array(2 * HOLE_BYTES + 10);
  // At file offset 100: the first piece ends where the file's first block does.
  chunk[0] = 1;
  assert.deepEqual(dataParts(chunk, 100), [0, HOLE_BYTES - 100]);
  chunk[0] = 0;
  chunk[chunk.length - 1] = 1; // in the short last piece
  assert.deepEqual(dataParts(chunk, 0), [2 * HOLE_BYTES, 2 * HOLE_BYTES + 10]);
  assert.deepEqual(dataParts(chunk.subarray(1), 1), [2 * HOLE_BYTES - 1, 2 * HOLE_BYTES + 9]);
});

Deno.test("hasHoles: only a file occupying less than its length, only on Linux", () => {
  assert.equal(hasHoles({ size: 64 << 20, blocks: 8 }), linux);
  assert.equal(hasHoles({ size: 4096, blocks: 8 }), false);
  assert.equal(hasHoles({ size: 100, blocks: 8 }), false); // a block for a few bytes
  assert.equal(hasHoles({ size: 64 << 20 }), false); // not said: written whole
});

Deno.test({
  name: "holeWriter: the bytes read back as written, holes where zeros were, the exact length",
  ignore: !linux,
  fn: () => {
    const dir = Deno.makeTempDirSync({ prefix: "bt-sparse-" });
    try {
      const path = join(dir, "copy");
      const MiB = 1 << 20;
      const data = new Uint8Array(8 * MiB);
      data.set(new TextEncoder().encode("head"), 0);
      data.set(new TextEncoder().encode("middle"), 3 * MiB + 17);
      // The last 2 MiB and a half are zeros: the copy ends in a hole.
      {
        using f = Deno.openSync(path, { write: true, createNew: true });
        const w = holeWriter(f);
        for (let at = 0; at < data.length; at += MiB / 2) w.write(data.subarray(at, at + MiB / 2));
        w.write(new Uint8Array(MiB / 2 + 3));
        w.end();
      }
      const back = Deno.readFileSync(path);
      assert.equal(back.length, data.length + MiB / 2 + 3);
      assert.deepEqual(back.subarray(0, data.length), data);
      assert.ok(isZero(back.subarray(data.length)));
      if (!keepsHoles(dir)) {
        console.log(`SKIP holeWriter's holes: the file system in '${dir}' keeps none`);
        return;
      }
      const occupied = (Deno.statSync(path).blocks ?? 0) * 512;
      assert.ok(occupied <= 256 * 1024, `the copy occupies ${occupied} bytes`);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "holeWriter: a file of zeros only is all hole, of its full length",
  ignore: !linux,
  fn: () => {
    const dir = Deno.makeTempDirSync({ prefix: "bt-sparse-" });
    try {
      const path = join(dir, "zeros");
      {
        using f = Deno.openSync(path, { write: true, createNew: true });
        const w = holeWriter(f);
        w.write(new Uint8Array(3 * HOLE_BYTES + 1));
        w.end();
      }
      const info = Deno.statSync(path);
      assert.equal(info.size, 3 * HOLE_BYTES + 1);
      assert.ok(isZero(Deno.readFileSync(path)));
      if (keepsHoles(dir)) assert.equal(info.blocks, 0);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

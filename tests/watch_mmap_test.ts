/**
 * A file written through a shared memory mapping, as databases (LMDB, SQLite's mmap mode)
 * write: the first write to a clean page stamps the file's times, but later writes to pages
 * still dirty stamp nothing, so its fingerprint stays as the last pass saw it. A watch
 * session still hears the close after writing, and reads such a file again. The mapping is
 * made with the C library through FFI (Linux only).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture } from "./helpers.ts";
import { openLibc } from "../src/engine/fs/libc.ts";
import { backedUp, filler, WatchProcess } from "./watch_helpers.ts";

const SIZE = 64 * 1024;

/** A file opened read-write and mapped shared, written through the mapping. */
const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
} as const;

/** glibc's, where it is there (not on musl, nor off Linux). */
function glibc() {
  return openLibc(SYMBOLS);
}

class MappedFile implements Disposable {
  readonly #libc = glibc()!;
  readonly #fd: number;
  readonly #map: Deno.PointerObject;
  #open = true;

  constructor(path: string, size: number) {
    Deno.writeFileSync(path, new Uint8Array(size)); // zeros: the mapping needs the length
    // Close-on-exec: a watch process spawned meanwhile must not hold it open (its close is
    // the event).
    const O_RDWR_CLOEXEC = 0o2000002, PROT_READ_WRITE = 3, MAP_SHARED = 1;
    this.#fd = this.#libc.symbols.open(new TextEncoder().encode(`${path}\0`), O_RDWR_CLOEXEC, 0);
    assert.ok(this.#fd >= 0, `open '${path}'`);
    const map = this.#libc.symbols.mmap(
      null,
      BigInt(size),
      PROT_READ_WRITE,
      MAP_SHARED,
      this.#fd,
      0n,
    );
    assert.ok(map !== null && Deno.UnsafePointer.value(map) !== 2n ** 64n - 1n, "mmap");
    this.#map = map!;
  }

  /** Fills the whole file with `byte`, through the mapping (no write call). */
  fill(byte: number): void {
    new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(this.#map, SIZE)).fill(byte);
  }

  /** Unmaps and closes it: the close of a file opened for writing is the event. */
  [Symbol.dispose](): void {
    if (!this.#open) return;
    this.#open = false;
    this.#libc.symbols.munmap(this.#map, BigInt(SIZE));
    this.#libc.symbols.close(this.#fd);
    this.#libc.close();
  }
}

Deno.test({
  name:
    "watch: a file rewritten through a memory mapping, its times unmoved, is read again once closed",
  ignore: (() => {
    const lib = glibc();
    lib?.close();
    return lib === undefined;
  })(),
  fn: async () => {
    using fx = makeFixture(filler(), { watch: { debounce_ms: 200, rescan_interval: 0 } });
    const path = join(fx.source, "db");
    const stamped = () => {
      const info = Deno.statSync(path);
      return [info.mtime!.getTime(), info.ctime!.getTime(), info.size];
    };
    {
      using mapped = new MappedFile(path, SIZE);
      mapped.fill(0x41); // "A": the pages are dirty now, the times stamped once
      const before = stamped();
      // Past the window in which a fingerprint is not trusted (a change in the same moment
      // as the walk): the first pass must take this one at its word, as a later pass would.
      await new Promise((r) => setTimeout(r, 2500));
      await using w = new WatchProcess(fx);
      await w.ready();
      await backedUp(fx.backup, "db", "A".repeat(SIZE));
      mapped.fill(0x42); // "B", through pages still dirty: no time moves
      if (JSON.stringify(stamped()) !== JSON.stringify(before)) {
        return console.log("SKIP: this kernel stamped the rewrite: nothing to test");
      }
      mapped[Symbol.dispose]();
      await backedUp(fx.backup, "db", "B".repeat(SIZE));
      await backedUp(fx.backup, "versions/db/v1.bak", "A".repeat(SIZE));
      const exit = await w.stop();
      assert.equal(exit.code, 0, exit.stderr);
    }
  },
});

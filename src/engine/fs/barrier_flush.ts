/**
 * Flushing a batch of files on macOS: each written out to the drive by a plain fsync(2),
 * then the drive's cache flushed once, by a full flush (F_FULLFSYNC) of one of them, as
 * git's `core.fsyncMethod = batch` does there. On macOS fsync(2) moves a file's data to
 * the drive but not through its cache; F_FULLFSYNC asks the drive to write all it holds,
 * so one after the plain ones (one a disk) makes the whole batch durable. Deno's own
 * flushes are full ones there (Rust's sync_data), one per file: Apple's drives take some
 * tens of those a second (Hector Martin measured 46 on an M1 in 2022), which for 20,000 new
 * files would be minutes. fsync(2) itself is reached through the system's C library by
 * FFI, run off the main thread (`nonblocking`); without FFI (`--allow-ffi` refused) every
 * file gets Deno's full flush, as before. A plain fsync that fails fails the batch: its
 * errno is another thread's, so a full flush is made to name the cause, but its success
 * proves nothing (a write-back error is told once, and pages that failed to be written may
 * be dropped: a second flush then finds nothing to write). Nothing here writes: an
 * interruption leaves the files as the system has them, which the caller's rename order
 * makes safe.
 */
import type { FileHandle } from "node:fs/promises";
import { inWaves } from "./flush.ts";

/** The C library a plain fsync comes from, by system: macOS's, or glibc (for the tests). */
const LIBRARIES: Partial<Record<typeof Deno.build.os, string>> = {
  darwin: "/usr/lib/libSystem.B.dylib",
  linux: "libc.so.6",
};

/** A plain fsync(2) of a descriptor, off the main thread: 0, or -1 where it failed. */
type WriteOut = (fd: number) => Promise<number>;

/** fsync(2) from the C library of `os`; undefined without FFI or where none binds. */
export function plainFsync(os: typeof Deno.build.os = Deno.build.os): WriteOut | undefined {
  const path = LIBRARIES[os];
  if (path === undefined || Deno.build.os !== os) return undefined;
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return undefined;
  try {
    const lib = Deno.dlopen(path, {
      fsync: { parameters: ["i32"], result: "i32", nonblocking: true },
    });
    return (fd) => lib.symbols.fsync(fd);
  } catch {
    return undefined;
  }
}

/**
 * The plain fsync(2) batches use here: macOS's, with FFI (flush.ts). Bound when the module
 * loads and held for the process: bound at the first flush, inside whichever test made it
 * first, it failed that test's resource check ("A dynamic library was loaded during the
 * test"). Here, after what it uses, not in flush.ts: the two import each other, and this
 * module may be the one loaded first (its test), its constants not yet made when flush.ts
 * runs.
 */
export const WRITE_OUT_HERE: WriteOut | undefined = Deno.build.os === "darwin"
  ? plainFsync("darwin")
  : undefined;

/** How one file is opened to be written out, and how a full flush of one is made. */
export interface BarrierSteps {
  writeOut: WriteOut;
  /** Opens a file to write it out (node:fs flags); a file not to flush throws. */
  open(path: string): Promise<FileHandle>;
  /** A full flush of one file: its data and the drive's cache (Deno's, F_FULLFSYNC). */
  full(path: string): Promise<void>;
  failure(path: string, e: unknown): Error;
}

/**
 * Writes each file out, `parallel` at a time, then flushes each drive's cache once, through
 * the last file written out on it (a restore's folders may span disks). A file whose plain
 * fsync fails fails the batch, named (see the module's comment).
 */
export async function flushWithBarrier(
  paths: string[],
  parallel: number,
  steps: BarrierSteps,
): Promise<void> {
  const lastOn = new Map<number, string>();
  await inWaves(paths, parallel, async (p) => {
    const handle = await steps.open(p);
    try {
      const { dev } = await handle.stat();
      if (await steps.writeOut(handle.fd) === 0) return void lastOn.set(dev, p);
    } finally {
      await handle.close();
    }
    // Its error says why (the plain call's errno is another thread's); its success does not
    // undo the failure, whose data may be lost with nothing left to flush.
    await steps.full(p);
    throw new Error("fsync failed (the system gave no reason)");
  }, steps.failure);
  for (const last of lastOn.values()) {
    await steps.full(last).catch((e) => {
      throw steps.failure(last, e);
    });
  }
}

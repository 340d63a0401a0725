/**
 * syncfs(2) on Linux, through Deno's FFI to the C library: one call writes back every dirty
 * page and inode of a file system and waits for the disk. For a batch of hundreds of new
 * files it replaces hundreds of fdatasyncs, each of which forces its own journal commit on
 * ext4 (20,000-file first backup on journaled ext4: 2.1 s of fsync waves became 0.85 s).
 *
 * It is used only where it is known to be honest: a local file system from
 * SYNCFS_FILE_SYSTEMS (FUSE and network file systems may return success without flushing
 * anything) and FFI permitted (`deno run -A` and the compiled binary; elsewhere batches are
 * flushed per file); for staged copies, whose write errors it must report, only from Linux
 * 5.8 on (`reportsErrors`: earlier kernels do not report write-back errors from syncfs),
 * while the folder entries moves changed it flushes on any kernel (an error writing them
 * back stops the file system's journal, which the next write then meets).
 * The descriptor is opened when the session starts: the kernel reports through it every
 * write-back error on that file system since it was opened, once, at the next syncfs.
 * Nothing here writes; an interruption leaves nothing behind.
 */
import { FILE_SYMBOLS, O_RDONLY_CLOEXEC, openLibc } from "./libc.ts";
import { fileSystemTypeOf } from "./mounts.ts";

/** Local file systems whose syncfs writes back and waits, and reports write errors. */
const SYNCFS_FILE_SYSTEMS = new Set(["ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs"]);
/** syncfs reports write-back errors from Linux 5.8 on (errseq on the superblock). */
const MIN_KERNEL = [5, 8];
const SYMBOLS = {
  ...FILE_SYMBOLS,
  syncfs: { parameters: ["i32"], result: "i32", nonblocking: true },
} as const;

/** An open handle on one file system, to flush it whole. */
export interface SyncFs {
  /** Writes back everything dirty on the file system; throws on a write-back error. */
  sync(): Promise<void>;
  /** Whether `sync` reports a file's write-back error (Linux 5.8 on). */
  reportsErrors: boolean;
  /** The file system's device number (`Deno.FileInfo.dev`), as its files have it. */
  dev: number | null;
  close(): void;
}

/** A handle on the file system holding `dir`, or undefined where syncfs cannot be trusted. */
export function openSyncFs(dir: string): SyncFs | undefined {
  if (Deno.build.os !== "linux" || !sysPermitted()) return undefined;
  const type = fileSystemTypeOf(dir);
  if (type === undefined || !SYNCFS_FILE_SYSTEMS.has(type)) return undefined;
  const lib = openLibc(SYMBOLS);
  if (!lib) return undefined; // flush per file
  const fd = lib.symbols.open(new TextEncoder().encode(`${dir}\0`), O_RDONLY_CLOEXEC);
  if (fd < 0) {
    lib.close();
    return undefined;
  }
  let dev: number | null = null;
  try {
    dev = Deno.statSync(dir).dev;
  } catch { /* not known: nothing is taken as flushed by `sync` but what it is asked for */ }
  return {
    reportsErrors: kernelAtLeast(MIN_KERNEL),
    dev,
    async sync() {
      if (await lib.symbols.syncfs(fd) === 0) return;
      // No errno to show: the call ran on another thread, whose errno this one cannot read
      // (syncfs fails with EIO, ENOSPC or EDQUOT for a write the disk refused).
      throw new Error(
        `Cannot flush the files written under '${dir}' to disk: syncfs reported a write ` +
          "error (an I/O error, a full disk or quota): check the disk and run again",
      );
    },
    close() {
      lib.symbols.close(fd);
      lib.close();
    },
  };
}

/** The kernel's version is needed (FFI itself is checked by `openLibc`). */
function sysPermitted(): boolean {
  return Deno.permissions.querySync({ name: "sys", kind: "osRelease" }).state === "granted";
}

function kernelAtLeast([major, minor]: number[]): boolean {
  const m = /^(\d+)\.(\d+)/.exec(Deno.osRelease());
  if (!m) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > major || (a === major && b >= minor);
}

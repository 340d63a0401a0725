/**
 * A file opened to be read by the hasher, verify and restore: never following a symlink at
 * the end of its path (O_NOFOLLOW) and never waiting on a FIFO (O_NONBLOCK). Deno's open
 * does neither, so a file replaced by a FIFO between the walk and its read blocked the
 * open until some process opened that FIFO to write: forever, for a scheduled run that
 * holds the backup root's lock. What was opened is told by `stat()` of the descriptor,
 * which the caller compares with what the walk saw.
 *
 * On Linux with glibc and FFI permitted: open, read, statx and close of the C library,
 * about 6 µs for a small file against 10 µs for Deno's open, read, stat and close (5,000
 * files of 2 KiB, measured here). Elsewhere on Linux (another C library) and on macOS:
 * node:fs, whose open passes both flags to the system and whose fstat Deno builds from its
 * own stat, so it gives what Deno's lstat gives; about 17 µs. Windows has neither flag,
 * nor FIFOs among files: Deno's open, as before. Errors are Deno's classes (NotFound,
 * PermissionDenied, NotADirectory, IsADirectory, FilesystemLoop) with Deno's wording, so
 * callers tell them apart as before. Read-only; a descriptor is held until disposed
 * (`using`), and the C library is bound once per thread (each worker loads this module),
 * for the thread's life.
 */
import {
  callFailure,
  cStringIn,
  EINTR,
  errnoOf,
  ERROR_CLASSES,
  FILE_SYMBOLS,
  O_NOFOLLOW,
  O_NONBLOCK,
  O_RDONLY_CLOEXEC,
  openLibc,
  PATH_BYTES,
} from "./libc.ts";
import {
  AT_EMPTY_PATH,
  fromFileInfo,
  fromStatx,
  kindOf,
  type StatResult,
  STATX_BASIC_STATS,
  STATX_SIZE,
} from "./folders.ts";

export interface SourceFile extends Disposable {
  /** Reads into `buf`; 0 at the end. */
  read(buf: Uint8Array): number;
  /** What the open file is now: its kind and fingerprint fields, as an lstat gives them. */
  stat(): StatResult;
  /** Its descriptor, where it is a system one (not Windows, whose handle Deno keeps). */
  readonly fd?: number;
}

export type Opener = (path: string) => SourceFile;

/** Opens `path` to read, without following a symlink at its end or waiting on a FIFO. */
export function openSource(path: string): SourceFile {
  return opener(path);
}

const SYMBOLS = {
  ...FILE_SYMBOLS,
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
} as const;

/** The FFI opener, or undefined where the C library cannot be used. */
function ffiOpener(): Opener | undefined {
  const lib = openLibc(SYMBOLS);
  if (!lib) return undefined;
  const { open, read, statx, close } = lib.symbols;
  const flags = O_RDONLY_CLOEXEC | O_NONBLOCK | O_NOFOLLOW;
  const path = new Uint8Array(PATH_BYTES);
  const out = new Uint8Array(STATX_SIZE);
  const view = new DataView(out.buffer);
  const empty = new Uint8Array(1);
  // A call interrupted by a signal is made again (Deno's own calls do the same).
  const retried = (call: () => number): number => {
    for (;;) {
      const r = call();
      if (r >= 0 || errnoOf(lib) !== EINTR) return r;
    }
  };
  return (abs) => {
    const at = cStringIn(abs, path);
    if (!at) throw new Error(`File name too long (os error 36): open '${abs}'`);
    const fd = retried(() => open(at, flags));
    if (fd < 0) throw callFailure(lib, "open", abs);
    let open_ = true;
    return {
      fd,
      read: (buf) => {
        const n = retried(() => Number(read(fd, buf, BigInt(buf.length))));
        if (n < 0) throw callFailure(lib, "read", abs);
        return n;
      },
      stat: () => {
        if (statx(fd, empty, AT_EMPTY_PATH, STATX_BASIC_STATS, out) !== 0) {
          throw callFailure(lib, "fstat", abs);
        }
        return fromStatx(view);
      },
      [Symbol.dispose]: () => {
        if (open_) close(fd);
        open_ = false;
      },
    };
  };
}

/**
 * The node:fs opener, for everywhere else. node:fs is handed in: imported where it is
 * needed only (its set-up costs a run about 30 ms at start, measured here).
 */
export function nodeOpener(fs: typeof import("node:fs")): Opener {
  const flags = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0) |
    (fs.constants.O_NOFOLLOW ?? 0);
  return (abs) => {
    const fd = denoErrors("open", abs, () => fs.openSync(abs, flags));
    let open = true;
    return {
      fd,
      read: (buf) => denoErrors("read", abs, () => fs.readSync(fd, buf, 0, buf.length, null)),
      stat: () => fromNodeStats(denoErrors("fstat", abs, () => fs.fstatSync(fd))),
      [Symbol.dispose]: () => {
        if (open) fs.closeSync(fd);
        open = false;
      },
    };
  };
}

/** `call`'s result; a node:fs error is thrown again as Deno's class, in Deno's words. */
function denoErrors<T>(call: string, abs: string, body: () => T): T {
  try {
    return body();
  } catch (e) {
    const { code, errno, message } = e as { code?: string; errno?: number; message?: string };
    if (code === undefined) throw e;
    // Another errno (EAGAIN, ENXIO, EIO...) is a plain Error, worded alike.
    const Kind = ERROR_CLASSES[code] ?? Error;
    // "ENOENT: no such file or directory, open '/x'" → "No such file or directory".
    const what = /^\w+: ([^,]+)/.exec(message ?? "")?.[1] ?? code;
    const number = errno === undefined ? "" : ` (os error ${Math.abs(errno)})`;
    throw new Kind(`${what[0].toUpperCase()}${what.slice(1)}${number}: ${call} '${abs}'`);
  }
}

function fromNodeStats(s: import("node:fs").Stats): StatResult {
  // Deno leaves what the system does not give null; node:fs may turn it into NaN.
  const known = (n: number) => Number.isFinite(n) ? n : 0;
  return {
    kind: kindOf(s.mode), // node:fs is not used on Windows, whose modes lack the type bits
    size: s.size,
    mtimeMs: known(s.mtimeMs),
    ctimeMs: known(s.ctimeMs), // to the second, as Deno's own (node:fs is Deno's here)
    ino: known(s.ino),
    dev: known(s.dev),
    mode: known(s.mode),
    uid: Number.isFinite(s.uid) ? s.uid : undefined,
    gid: Number.isFinite(s.gid) ? s.gid : undefined,
    nlink: Number.isFinite(s.nlink) ? s.nlink : undefined,
    blocks: Number.isFinite(s.blocks) ? s.blocks : undefined,
  };
}

/**
 * Deno's own open, for Windows, which has neither flag nor FIFOs among files: what this
 * module's users did everywhere before (a fingerprint taken there compares as before).
 */
export function denoOpen(abs: string): SourceFile {
  const f = Deno.openSync(abs, { read: true });
  return {
    read: (buf) => f.readSync(buf) ?? 0,
    stat: () => fromFileInfo(f.statSync()),
    [Symbol.dispose]: () => f.close(),
  };
}

// Bound when the module loads (each worker loads its own): for the thread's life, and
// before any test starts, whose resource check would count the library as leaked.
const opener: Opener = ffiOpener() ??
  (Deno.build.os === "windows" ? denoOpen : nodeOpener(await import("node:fs")));

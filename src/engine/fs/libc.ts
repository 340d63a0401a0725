/**
 * The C library through Deno's FFI, for the few Linux calls Deno has no API for: syncfs,
 * getdents64 and statx relative to a folder's descriptor, an open that neither follows
 * a symlink nor waits on a FIFO, and the FIDEDUPERANGE ioctl (share_extents.ts). Only on
 * Linux with glibc and FFI permitted (`deno run -A`, and the compiled binary, which is
 * built with every permission); every user falls back to Deno's own API (or node:fs), or
 * does without, where `openLibc` gives nothing. Nothing here writes.
 */

/** open(2) flags O_RDONLY | O_CLOEXEC: the same value on every Linux architecture. */
export const O_RDONLY_CLOEXEC = 0o2000000;
/**
 * O_NONBLOCK: an open of a FIFO returns at once instead of waiting for a writer; reads of
 * files and folders are not affected. The same on the architectures Deno runs on (x86_64,
 * aarch64; not alpha, mips, parisc or sparc).
 */
export const O_NONBLOCK = 0o4000;
/** O_NOFOLLOW: a symlink at the path's end fails the open (ELOOP). aarch64 has its own. */
export const O_NOFOLLOW = Deno.build.arch === "aarch64" ? 0o100000 : 0o400000;
/** O_DIRECTORY: anything but a folder fails the open (ENOTDIR). aarch64 has its own. */
export const O_DIRECTORY = Deno.build.arch === "aarch64" ? 0o40000 : 0o200000;

/** The symbols every user needs: a descriptor's open and close, errno and its text. */
export const FILE_SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

/** glibc with `symbols` bound, or undefined (not Linux, FFI not permitted, or not glibc). */
export function openLibc<const S extends Deno.ForeignLibraryInterface>(
  symbols: S,
): Deno.DynamicLibrary<S> | undefined {
  if (Deno.build.os !== "linux") return undefined;
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return undefined;
  try {
    return Deno.dlopen("libc.so.6", symbols);
  } catch {
    return undefined; // another C library, or a symbol this glibc lacks
  }
}

/** What reading errno takes: any library bound with FILE_SYMBOLS' errno calls. */
type FileLibrary = {
  symbols: Pick<
    Deno.DynamicLibrary<typeof FILE_SYMBOLS>["symbols"],
    "__errno_location" | "strerror"
  >;
};

/** The calling thread's errno, right after a failed call. */
export function errnoOf(lib: FileLibrary): number {
  const at = lib.symbols.__errno_location();
  return at === null ? 0 : new Deno.UnsafePointerView(at).getInt32();
}

/** errno EINTR: a call interrupted by a signal, to be made again. */
export const EINTR = 4;

/**
 * Deno's error classes for the errors callers tell apart, by the C name of the errno (the
 * numbers differ between systems; node:fs errors carry the name as `code`).
 */
export const ERROR_CLASSES: Record<string, new (message: string) => Error> = {
  ENOENT: Deno.errors.NotFound,
  EACCES: Deno.errors.PermissionDenied,
  EPERM: Deno.errors.PermissionDenied,
  ENOTDIR: Deno.errors.NotADirectory,
  EISDIR: Deno.errors.IsADirectory,
  ELOOP: Deno.errors.FilesystemLoop,
};

/** Linux's numbers for the names above. */
const LINUX_ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  13: "EACCES",
  20: "ENOTDIR",
  21: "EISDIR",
  40: "ELOOP",
};

/**
 * The error of the failed call `call` on `path`, as Deno words it ("Permission denied (os
 * error 13): open '/x'"), of Deno's class for it; errno is read at once.
 */
export function callFailure(lib: FileLibrary, call: string, path: string): Error {
  const errno = errnoOf(lib);
  const text = lib.symbols.strerror(errno);
  const what = text === null ? "Unknown error" : Deno.UnsafePointerView.getCString(text);
  const Kind = ERROR_CLASSES[LINUX_ERRNO_NAMES[errno]] ?? Error;
  return new Kind(`${what} (os error ${errno}): ${call} '${path}'`);
}

/**
 * A C string of `s` in `into` (reused: the result is valid until the next call), or
 * undefined if it does not fit. Most paths are ASCII: copied by a plain loop, they skip
 * encodeInto's call into the runtime, which cost 0.8 µs a file (4% of a no-change run over
 * 100,000 files).
 */
export function cStringIn(s: string, into: Uint8Array): Uint8Array | undefined {
  let i = 0;
  for (; i < s.length && i < into.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) break;
    into[i] = c;
  }
  if (i === s.length) {
    into[i] = 0;
    return into;
  }
  const { read, written } = encoder.encodeInto(s, into);
  if (read < s.length || written >= into.length) return undefined; // too long for PATH_MAX
  into[written] = 0;
  return into;
}

const encoder = new TextEncoder();

/** Room for the longest path Linux takes (PATH_MAX, 4,096 bytes with its NUL). */
export const PATH_BYTES = 4096 + 1;

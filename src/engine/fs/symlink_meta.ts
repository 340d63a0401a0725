/**
 * A restored symlink's own metadata, given to the link itself, never to what it leads to:
 * its recorded owner and group (run as root) and modification time, exact to the recorded
 * millisecond, before 1970 too. On Linux with FFI only (libc.ts): the link is opened with
 * O_PATH | O_NOFOLLOW, checked to be a symlink holding the target just written
 * (readlinkat), and changed through that descriptor (fchownat and utimensat with
 * AT_EMPTY_PATH), so that a file swapped in at its temporary name meanwhile (a hard link to
 * someone else's file) is never chowned. A kernel older than 5.8, whose utimensat takes no
 * AT_EMPTY_PATH, gets the time by path with AT_SYMLINK_NOFOLLOW, once the check passed.
 * Elsewhere (macOS, Windows, no FFI) the link keeps the time it was made at and the
 * restoring user's owner. Best effort: a link whose owner or time the system refuses is
 * restored all the same, as before either was given. Only the link's metadata changes: an
 * interruption leaves a temporary link with some of it set, which its caller removes.
 */
import { EINTR, errnoOf, FILE_SYMBOLS, O_NOFOLLOW, openLibc } from "./libc.ts";
import { GIVES_OWNERS } from "./owner.ts";

const lib = openLibc({
  ...FILE_SYMBOLS,
  readlinkat: { parameters: ["i32", "buffer", "buffer", "usize"], result: "isize" },
  fchownat: { parameters: ["i32", "buffer", "u32", "u32", "i32"], result: "i32" },
  utimensat: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
});

/** open(2) flags: the link itself, not what it leads to (Linux's values, every arch). */
const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000;
/** The *at calls' "the descriptor itself" and "not following a symlink" flags, and cwd. */
const AT_EMPTY_PATH = 0x1000;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_FDCWD = -100;
/** errno EINVAL: a flag this kernel's call does not take. */
const EINVAL = 22;
/** A `struct timespec` on 64-bit Linux: tv_sec and tv_nsec, 8 bytes each. */
const TIMESPEC_BYTES = 16;
/** PATH_MAX: the longest target a symlink holds, in bytes, and one more to see it end. */
const TARGET_MAX_BYTES = 4096 + 1;

const encoder = new TextEncoder();
const EMPTY = new Uint8Array([0]);

/**
 * Gives the symlink at `path` (its end not followed; the folders on the way may be
 * `/proc/self/fd/N`), which holds `target`, its recorded owner, where this process gives
 * owners, and time.
 */
export function finishSymlink(
  path: string,
  target: string,
  meta: { uid?: number; gid?: number; mtimeMs: number },
): void {
  if (!lib) return;
  const { open, close, fchownat, utimensat } = lib.symbols;
  const name = encoder.encode(`${path}\0`);
  const fd = retried(() => open(name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (fd < 0) return;
  try {
    if (!holds(fd, target)) return; // not the link just made: left alone
    if (GIVES_OWNERS && meta.uid !== undefined && meta.gid !== undefined) {
      retried(() => fchownat(fd, EMPTY, meta.uid!, meta.gid!, AT_EMPTY_PATH));
    }
    const times = timespecs(meta.mtimeMs);
    const r = retried(() => utimensat(fd, EMPTY, times, AT_EMPTY_PATH));
    if (r !== 0 && errnoOf(lib) === EINVAL) {
      retried(() => utimensat(AT_FDCWD, name, times, AT_SYMLINK_NOFOLLOW));
    }
  } finally {
    close(fd);
  }
}

/** Whether the descriptor is of a symlink whose target is `target`. */
function holds(fd: number, target: string): boolean {
  const buf = new Uint8Array(TARGET_MAX_BYTES);
  const n = Number(lib!.symbols.readlinkat(fd, EMPTY, buf, BigInt(buf.length)));
  if (n < 0 || n >= buf.length) return false; // not a symlink (EINVAL, ENOENT)
  const expected = encoder.encode(target);
  return n === expected.length && expected.every((b, i) => buf[i] === b);
}

function retried(call: () => number): number {
  for (;;) {
    const r = call();
    if (r >= 0 || errnoOf(lib!) !== EINTR) return r;
  }
}

/**
 * utimensat's two `struct timespec` (access, then modification time: both `ms`), as 64-bit
 * Linux lays each out: 8 bytes of seconds, 8 of nanoseconds, little-endian on x86-64 and
 * aarch64.
 */
function timespecs(ms: number): Uint8Array {
  const seconds = Math.floor(ms / 1000);
  const nanoseconds = Math.round((ms - seconds * 1000) * 1_000_000);
  const buf = new Uint8Array(2 * TIMESPEC_BYTES);
  const view = new DataView(buf.buffer);
  for (const at of [0, TIMESPEC_BYTES]) {
    view.setBigInt64(at, BigInt(seconds), true);
    view.setBigInt64(at + 8, BigInt(nanoseconds), true);
  }
  return buf;
}

/**
 * Renaming a file to a name that must be free, in one call: renameat2(2) with
 * RENAME_NOREPLACE, through Deno's FFI to the C library, which refuses an existing target
 * atomically (EEXIST) as link(2) does, without link's second call (the unlink of the old
 * name) and its two journal updates of the file's link count. A restore places each file
 * so (100,000 files: three calls a file instead of five, measured with strace).
 *
 * Where it cannot be used (not Linux, FFI not permitted, a C library without renameat2, a
 * file system that does not take the flag: EINVAL, a kernel without the call: ENOSYS, or a
 * seccomp filter that does not know it: EPERM, as older container runtimes have)
 * `renameNoReplace` says so, and the caller links then unlinks as before: an EPERM of the
 * disk's own (an immutable file, a sticky folder) is then said by those calls, as before. Another failure
 * is thrown as Deno's own calls throw it (NotFound, PermissionDenied, ...). The rename is
 * atomic: an interruption leaves the file under one of its two names.
 */
import {
  callFailure,
  cStringIn,
  EINTR,
  errnoOf,
  FILE_SYMBOLS,
  openLibc,
  PATH_BYTES,
} from "./libc.ts";

const SYMBOLS = {
  ...FILE_SYMBOLS,
  renameat2: { parameters: ["i32", "buffer", "i32", "buffer", "u32"], result: "i32" },
} as const;

/** AT_FDCWD: paths relative to the current folder (absolute ones ignore it). */
const AT_FDCWD = -100;
/** renameat2's flag: fail with EEXIST where the target exists. */
const RENAME_NOREPLACE = 1;
const EEXIST = 17;
/**
 * The flag or the call unknown here: EINVAL (a file system without it), ENOSYS, EOPNOTSUPP,
 * and EPERM (a seccomp filter's refusal of a call it does not know; link tells a real one).
 */
const UNSUPPORTED = new Set([1, 22, 38, 95]);

/** Bound when the module loads (as source_file.ts does), for the thread's life; or undefined. */
const lib = openLibc(SYMBOLS);
const fromBytes = new Uint8Array(PATH_BYTES);
const toBytes = new Uint8Array(PATH_BYTES);

/**
 * Renames `from` to `to` unless something is at `to`: "renamed", "taken" (something is
 * there: nothing changed), or "unsupported" (nothing changed: link and unlink instead).
 */
export function renameNoReplace(from: string, to: string): "renamed" | "taken" | "unsupported" {
  if (lib === undefined) return "unsupported";
  const a = cStringIn(from, fromBytes);
  const b = cStringIn(to, toBytes);
  if (!a || !b) return "unsupported"; // too long: the caller's calls say so
  for (;;) {
    if (lib.symbols.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_NOREPLACE) === 0) return "renamed";
    const errno = errnoOf(lib);
    if (errno === EINTR) continue;
    if (errno === EEXIST) return "taken";
    if (UNSUPPORTED.has(errno)) return "unsupported";
    throw callFailure(lib, "rename", `${from}' -> '${to}`);
  }
}

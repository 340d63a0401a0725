/**
 * What differs between the platforms and file systems a backup lands on: Windows' brief
 * refusals of a rename (another program holds the file; retried for a moment), symlinks
 * that need a kind or a privilege there, names FAT, exFAT and NTFS refuse, and calls a
 * file system does not implement. Each step is a single call: an interruption leaves the
 * file at its old name or its new one.
 */
import { dirname } from "node:path";
import { errorText, isNameTooLong } from "../errors.ts";

// Windows refuses a rename while another process (an indexer, an antivirus) has the file
// open; those holds are short, so a rename is retried for about 2 s in total.
const RENAME_RETRIES = 20;
const RENAME_RETRY_MS = 100;

/**
 * A refusal that may pass in a moment (Windows: another program has the file open). On
 * Linux and macOS an EPERM never passes by itself (an immutable or append-only entry, a
 * sticky folder): retried, each such copy cost 2 s.
 */
export function isTransient(e: unknown, os: string = Deno.build.os): boolean {
  const code = (e as { code?: string }).code;
  return e instanceof Deno.errors.Busy || code === "EBUSY" ||
    (os === "windows" && (code === "EPERM" || e instanceof Deno.errors.PermissionDenied));
}

/** Runs a file step, retrying a moment on EPERM/EBUSY as Windows needs. */
export async function withRetry(step: () => void): Promise<void> {
  for (let attempt = 0;; attempt++) {
    try {
      step();
      return;
    } catch (e) {
      if (!isTransient(e) || attempt >= RENAME_RETRIES) throw e;
      await new Promise((r) => setTimeout(r, RENAME_RETRY_MS));
    }
  }
}

/** Renames, retrying a moment on EPERM/EBUSY as Windows needs. */
export function renameWithRetry(from: string, to: string): Promise<void> {
  return withRetry(() => Deno.renameSync(from, to));
}

/**
 * Creates a symlink: a staged copy of one, or one put back (`restoredAs`: the path it is
 * restored to, which a disk without symlinks names, with a restore's remedy: the temporary
 * `path` may be reached through a folder's descriptor, `/proc/self/fd/N`). On Windows a symlink is made
 * either for a file or for a folder, and without being told which, Deno looks at the target
 * (relative to the current folder, not to the link) and refuses one it cannot find ("an
 * `options` argument is required if the target does not exist"), as a relative or dangling
 * target mostly is from there. The kind comes from the mode recorded for the link: Deno on
 * Windows gives a folder's symlink the folder type bits. Elsewhere the option is ignored.
 */
export function makeSymlink(
  target: string,
  path: string,
  mode: number,
  restoredAs?: string,
): void {
  try {
    Deno.symlinkSync(target, path, { type: symlinkType(mode) });
  } catch (e) {
    if (notImplementedHere(e) || (Deno.build.os !== "windows" && isPermissionError(e))) {
      throw new Error(noSymlinksThere(restoredAs ?? path, restoredAs !== undefined));
    }
    // os error 1314: creating symlinks needs a privilege ordinary Windows accounts lack
    // (Deno gives it as a plain error, its code EPERM).
    if (Deno.build.os !== "windows" || !isPermissionError(e)) throw e;
    throw new Deno.errors.PermissionDenied(
      `${
        (e as Error).message
      }: Windows lets only administrators create symlinks unless Developer ` +
        "Mode is on (Settings, System, For developers); turn it on or run as administrator",
    );
  }
}

/** What a disk without symlinks (FAT, exFAT) answers a symlink made at `path` with. */
function noSymlinksThere(path: string, restoring: boolean): string {
  const formats = "a disk formatted ext4, btrfs, xfs, APFS or NTFS";
  return `Cannot make a symlink in '${dirname(path)}': its file system has none (FAT and ` +
    "exFAT have none): " +
    (restoring
      ? `restore it with --to a folder on ${formats}`
      : `exclude the symlinks, or back up to ${formats}`);
}

/**
 * A call the file system does not implement: ENOSYS, ENOTSUP or EOPNOTSUPP (Linux 38 and
 * 95, macOS 78, 45 and 102, Windows ERROR_INVALID_FUNCTION and ERROR_NOT_SUPPORTED, 1 and
 * 50), which Deno reports as a plain error with the number in its text. FAT and exFAT
 * through FUSE answer so to chmod and symlink, and SMB mounts on macOS to a full flush
 * (F_FULLFSYNC, which Deno's flushes are there).
 */
export function notImplementedHere(e: unknown, os: string = Deno.build.os): boolean {
  if (e instanceof Deno.errors.NotSupported) return true;
  const codes = { darwin: "78|45|102", windows: "1|50" }[os] ?? "38|95";
  return new RegExp(`\\(os error (${codes})\\)`).test((e as Error)?.message ?? "");
}

function isPermissionError(e: unknown): boolean {
  return e instanceof Deno.errors.PermissionDenied || (e as { code?: string }).code === "EPERM";
}

/**
 * The device names Windows reserves, with or without an extension (`aux`, `con.txt`,
 * `COM²`), as Microsoft's "Naming Files" lists them (COM0 and LPT0 too), and the console's
 * `CONIN$` and `CONOUT$`; refused by ntfs-3g's `windows_names` too.
 */
export const WINDOWS_DEVICE_NAME =
  /^(con|prn|aux|nul|conin\$|conout\$|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3])( *\.|$)/i;

/**
 * Characters FAT, exFAT and NTFS refuse in a name (besides control characters), a
 * trailing dot or space, which they drop, and Windows' device names: a copy named so
 * cannot be placed on such a disk.
 */
// deno-lint-ignore no-control-regex -- control characters are what these disks refuse
const UNPORTABLE_CHARACTERS = /[:*?"<>|\\\x00-\x1f]|[. ]$/;
const isUnportableName = (name: string) =>
  UNPORTABLE_CHARACTERS.test(name) || WINDOWS_DEVICE_NAME.test(name);

/**
 * Why placing a copy at a storage path failed, in words: a name the backup disk refuses
 * (`refusedName`) is said as such.
 */
export function placeFailure(
  storage: string,
  e: unknown,
  os: typeof Deno.build.os = Deno.build.os,
): string {
  if (isNameTooLong(e)) {
    return `${errorText(e)}: its path in the backup is too long (a path holds at most 4095 ` +
      "bytes, the backup root's included, and a name 255): shorten the path in the source, " +
      "or exclude it; the copy stored before, if any, is kept";
  }
  const odd = refusedName(storage.split("/"), e, os);
  if (odd === undefined) return errorText(e);
  return `the backup disk ${notAllowed(odd)}: rename it in the source, or exclude it`;
}

/**
 * The name among `names` (those a failed call made or named) that FAT, exFAT or NTFS
 * refuses, where `e` is how such a disk answers one: "no such file" or "invalid argument"
 * (Linux and macOS), ERROR_INVALID_NAME (Windows, 123; on Linux 123 is ENOMEDIUM, a card
 * pulled from its reader, which no name causes). Undefined for any other failure, or where
 * every name is one those disks take.
 */
export function refusedName(
  names: readonly string[],
  e: unknown,
  os: typeof Deno.build.os = Deno.build.os,
): string | undefined {
  const codes = os === "windows" ? /\(os error (22|84|123)\)/ : /\(os error (22|84)\)/;
  const refused = (x: unknown) =>
    x instanceof Deno.errors.NotFound || x instanceof Deno.errors.InvalidData ||
    codes.test((x as Error)?.message ?? "");
  // Or its cause: a restore's folder that could not be made (pinned.ts).
  return refused(e) || refused((e as Error)?.cause) ? names.find(isUnportableName) : undefined;
}

/** `does not allow the name '…' (…)`: what the disks that refuse names refuse. */
export function notAllowed(name: string): string {
  return `does not allow the name '${name}' (FAT, exFAT and NTFS refuse ` +
    `: * ? " < > | \\ and a trailing dot or space, and Windows the device names CON, PRN, ` +
    `AUX, NUL, COM0-9, LPT0-9, CONIN$ and CONOUT$, with any extension)`;
}

/**
 * The target a recorded symlink is restored with on `os`. Windows resolves a symlink's
 * target with backslashes only: one made with the `/` of a Linux or macOS target
 * (`../shared/a.txt`) is made without a word but leads nowhere (opening it fails with
 * "The filename, directory name, or volume label syntax is incorrect"), and Deno passes a
 * target as it is given. There each `/` becomes `\`, as Node's `fs.symlink` does; a
 * verbatim path (`\\?\…`), where `/` separates nothing, is left as it is. Elsewhere the
 * target is the recorded one, byte for byte.
 */
export function restoredLinkTarget(
  target: string,
  os: typeof Deno.build.os = Deno.build.os,
): string {
  if (os !== "windows" || target.startsWith("\\\\?\\")) return target;
  return target.replaceAll("/", "\\");
}

/**
 * Why a stored copy could not be moved to `to` in `versions/` or `_deleted/` (which make a
 * path near 4,096 bytes longer than its copy's), where that place is too long for the
 * system; undefined for any other failure. The source offers no way out: a deleted file is
 * gone from it, and one renamed or excluded there is deleted from its old path in the end
 * (vanished.ts), whose place in `_deleted/` is as long. A shorter backup root is.
 */
export function movedTooLong(to: string, e: unknown): string | undefined {
  if (!isNameTooLong(e)) return undefined;
  const top = to.split("/")[0];
  const place = top === "versions" || top === "_deleted" ? `${top}/` : "the backup";
  return `${errorText(e)}: its place in ${place} is too long (a path holds at most 4095 ` +
    "bytes, the backup root's included): move the backup root to a shorter path, then " +
    "point backup_root at it; its copy is kept where it is";
}

/** Which kind of Windows symlink a link with this recorded mode is. */
export function symlinkType(mode: number): "file" | "dir" {
  return (mode & 0o170000) === 0o040000 ? "dir" : "file";
}

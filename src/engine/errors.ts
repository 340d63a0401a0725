/**
 * Error classes that carry a meaning for the CLI's exit code, the helper that turns any
 * thrown value into message text, and what an error says of its cause (nothing there, a
 * full disk, no file descriptors left). Pure.
 */

/** Wrong usage: unknown command or flag, missing value, a PATH that names nothing (exit code 2). */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Another process holds the backup root's lock (exit code 3). */
export class LockedError extends Error {
  override name = "LockedError";
}

/** The run cannot start: a source is unreadable or missing (exit code 2, nothing changed). */
export class PreflightError extends Error {
  override name = "PreflightError";
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Whether an error says nothing is at the path: NotFound, or NotADirectory (a name on its
 * way is not a folder, as where a folder was replaced by a file).
 */
export function isGone(e: unknown): boolean {
  return e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory;
}

/** ENAMETOOLONG: Linux and macOS 36 and 63 ("File name too long"), Windows 206. */
export function isNameTooLong(e: unknown): boolean {
  return /File name too long|filename or extension is too long|os error (36|63|206)\b/.test(
    errorText(e),
  );
}

/** Why a disk that was writable may be read-only now, for the remedy. */
export const READ_ONLY_WHY = "as a disk found with errors is remounted: the system's log says why";

/**
 * Whether an error says its disk is mounted read-only: EROFS on Linux and macOS (30), and
 * on Windows ERROR_WRITE_PROTECT (19), where 30 is ERROR_READ_FAULT, a disk that could not
 * be read.
 */
export function isReadOnlyDisk(e: unknown, os: string = Deno.build.os): boolean {
  return new RegExp(`\\(os error ${os === "windows" ? 19 : 30}\\)`).test(errorText(e));
}

/**
 * Whether an error's text says the disk had no room: SQLite's words, or the system's
 * ENOSPC or EDQUOT (a quota: the same remedy): Linux 28 and 122, macOS 28 and 69, Windows
 * ERROR_DISK_FULL and ERROR_HANDLE_DISK_FULL (112, "There is not enough space on the disk",
 * and 39).
 */
export function isDiskFull(message: string, os: string = Deno.build.os): boolean {
  const codes = { darwin: "28|69", windows: "112|39" }[os] ?? "28|122";
  return /disk is full|No space left on device|not enough space on the disk|quota exceeded/i
    .test(message) || new RegExp(`os error (${codes})\\b`).test(message);
}

/** A run (or `what`) stopped by a full backup disk, worded with the remedy. */
export function diskFullError(root: string, message: string, what = "run"): Error {
  return new Error(diskFullText(root, message, `then ${what} again`));
}

/**
 * A full backup disk said with the remedy, and `then`, what to do once there is room (a
 * watch, which retries by itself, gives none).
 */
export function diskFullText(root: string, message: string, then?: string): string {
  return `the backup disk is full (${message}): free space on the disk of '${root}' (a lower ` +
    `max_versions_per_file has the next run remove old versions)${then ? `, ${then}` : ""}; ` +
    "every copy stored before is intact";
}

/**
 * Whether an error's text says the process ran out of file descriptors: EMFILE, 24 on
 * Linux and macOS ("Too many open files", or as node:fs says it, "EMFILE: too many open
 * files"); Windows has no such per-process limit. Not ENFILE ("Too many open files in
 * system", 23): the whole system's limit, which `ulimit` does not raise.
 */
export function isOutOfOpenFiles(message: string): boolean {
  return /Too many open files(?! in system)|os error 24\b|\bEMFILE\b/.test(message);
}

/**
 * Whether an error's text says another program holds the file so that it cannot be read
 * just now: Windows' sharing violation (os error 32, ERROR_SHARING_VIOLATION: an editor
 * saving it, a program that opened it without sharing) and lock violation (33), which Deno
 * gives as a plain Error, in the system's language. Elsewhere those numbers mean other
 * things (EPIPE, EDOM): locks there are advisory and keep no reader out.
 */
export function isHeldByAnother(message: string, os: string = Deno.build.os): boolean {
  return os === "windows" && /os error 3[23]\b/.test(message);
}

/**
 * Whether an error's text says the system was short of something for a moment: EAGAIN,
 * 11 on Linux ("Resource temporarily unavailable"; 35 on macOS), as Deno reports an async
 * call whose thread could not be started while the machine ran at its limit of threads.
 * Worth another try, fewer at a time.
 */
export function isMomentarilyUnavailable(message: string): boolean {
  return /Resource temporarily unavailable|\bEAGAIN\b/.test(message);
}

/**
 * `: <remedy>` to follow an error's detail, or nothing where the error is the process out of
 * open files: "check the path and its permissions" would point elsewhere, and the remedy
 * that fits, the limit raised, is added where the error is reported (main.ts).
 */
export function remedyUnlessOutOfFiles(e: unknown, remedy: string): string {
  return isOutOfOpenFiles(errorText(e)) ? "" : `: ${remedy}`;
}

/**
 * The remedy for a failure for want of file descriptors, given the open files limit
 * (undefined where even that could not be read): the failure's own text ("check the path,
 * its permissions") would point elsewhere.
 */
export function openFilesRemedy(limit: number | undefined): string {
  if (limit === undefined) {
    return "the process ran out of open files: raise the limit ('ulimit -n') to 1024 or more " +
      "and run again";
  }
  return `the process ran out of open files (the limit, 'ulimit -n', is ${limit}): raise it ` +
    "(to 1024 or more) and run again";
}

/**
 * What becomes of a file that could not be read as one state: said after its failure. A
 * watch reads it again on its events, and a file written through a memory mapping makes
 * none (until it is closed): the next full rescan reads that one.
 */
export const RETRIED = "it will be retried by the next run (a watch: at the next change the " +
  "system reports for it, or at the next full rescan)";

/**
 * `message`, a failed step's (a remove, a rename, a link, a file opened to write), with
 * its cause and remedy where it is EPERM on Linux or macOS (os error 1): the entry or its
 * folder is immutable or append-only (`chattr +i`, `+a`; macOS' `chflags uchg`, `uappnd`),
 * all that refuses such a step to root, or, to another user, another's entry in a sticky
 * folder. `then`: what to do once the flag is off ("then run again"). Other failures, and
 * Windows' (where 1 is ERROR_INVALID_FUNCTION), are given back as they are.
 */
export function withFlagsRemedy(
  message: string,
  then: string,
  os: string = Deno.build.os,
): string {
  if (os === "windows" || !/\(os error 1\)/.test(message)) return message;
  const { look, off } = flagWords(os);
  return `${message}: the entry or its folder is immutable or append-only (${look} on ` +
    `either): take the flag off with ${off}${rootOrNot() ? "" : STICKY}, ${then}`;
}

/** How to see the flags (`look`: what shows them) and take them off (`off`), on `os`. */
export function flagWords(os: string = Deno.build.os): { look: string; off: string } {
  return os === "darwin"
    ? { look: "'ls -lOd' shows uchg or uappnd", off: "'chflags nouchg' or 'chflags nouappnd'" }
    : { look: "'lsattr -d' shows i or a", off: "'chattr -i' or 'chattr -a'" };
}

/** What else refuses such a step to a user other than root. */
const STICKY = ", or, in a sticky folder (such as /tmp), act as the entry's owner";

function rootOrNot(): boolean {
  try {
    return Deno.uid() === 0;
  } catch {
    return false;
  }
}

/**
 * `message`, a failed rename's in the backup root, with its cause and remedy where it is
 * EXDEV (Linux and macOS 18; Windows' ERROR_NOT_SAME_DEVICE, 17): one of its folders is a
 * mount of its own (a bind mount of it, read-only or not; another disk mounted there), and
 * no rename crosses from one mount to another, as every move of a copy between its folders
 * (into versions/, _deleted/, from .backup-tool/tmp) is. Other failures as they came.
 */
export function withMountRemedy(message: string, then: string, os: string = Deno.build.os): string {
  if (!new RegExp(`\\(os error ${os === "windows" ? 17 : 18}\\)`).test(message)) return message;
  const list = os === "linux" ? " ('findmnt -R' on the backup root lists them)" : "";
  return `${message}: a folder of the backup root is a mount of its own (a bind mount, ` +
    `another disk mounted in it)${list}, and copies move between its folders by renaming, ` +
    `which cannot cross mounts: unmount it, ${then}`;
}

/**
 * `message`, a failed step's in the backup root, with its remedy where it is this user
 * being denied a folder (EACCES: Linux and macOS 13; Windows' ERROR_ACCESS_DENIED, 5): a
 * folder another user owns, or whose mode lets this one not write or enter, as a copy or a
 * folder root made where the rest is this user's. Other failures as they came.
 */
export function withAccessRemedy(
  message: string,
  then: string,
  os: string = Deno.build.os,
): string {
  if (!new RegExp(`\\(os error ${os === "windows" ? 5 : 13}\\)`).test(message)) return message;
  return `${message}: this user may not write in a folder of the backup root on the way ` +
    "(another user's, or its mode): run as the user who owns the backup root, or give this " +
    `one write access to its folders, ${then}`;
}

/**
 * Error classes that carry a meaning for the CLI's exit code, and the one helper that turns
 * any thrown value into message text.
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
 * Whether an error's text says the disk had no room: SQLite's words, or the system's
 * ENOSPC (28) or EDQUOT (122, a quota: the same remedy).
 */
export function isDiskFull(message: string): boolean {
  return /disk is full|No space left on device|quota exceeded|os error (28|122)\b/i.test(message);
}

/** A run stopped by a full backup disk, worded with the remedy. */
export function diskFullError(root: string, message: string): Error {
  return new Error(
    `the backup disk is full (${message}): free space on the disk of '${root}', ` +
      "then run again; every copy stored before is intact",
  );
}

/** What becomes of a file that could not be read as one state: said after its failure. */
export const RETRIED =
  "it will be retried on the next pass (the next run, or a watch's next batch)";

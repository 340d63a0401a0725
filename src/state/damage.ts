/**
 * A state found damaged after it was opened: a page in the middle of the file overwritten
 * (a disk fault, a copy cut short) passes the checks made at open, and SQLite then says
 * only "database disk image is malformed", from whichever query met the page. The state
 * files opened in this process are noted here, so that the command's error can name the
 * file and say what to do, as a damage found at open does (exit 2 there; here the command
 * had begun, so it keeps its failure's exit code). Memory only; nothing to leave behind.
 */

/** The state files opened in this process, the latest last (one per command). */
const opened: string[] = [];

/** What to do about a state that cannot be used. */
export const MOVE_ASIDE = "put back a copy of it if you have one, or move it aside: the next " +
  "run then starts a new state, leaving the files already in the backup root as they are";

/** Notes a state file opened (its own path, not that of a private copy read instead). */
export function noteStateOpened(file: string): void {
  if (opened.at(-1) !== file) opened.push(file);
}

/** Whether SQLite's message says the file is damaged. */
export function saysDamaged(detail: string): boolean {
  return /file is not a database|database disk image is malformed/i.test(detail);
}

/** The message for a damaged state file. */
export function damagedStateMessage(file: string, detail: string): string {
  return `Cannot read backup state '${file}': ${detail}: the state is damaged; ${MOVE_ASIDE}`;
}

/**
 * `e` worded as a damaged state, naming the file last opened, where SQLite's message says
 * the state is damaged and the message names no file yet; `e` itself otherwise.
 */
export function explainedDamage(e: unknown): unknown {
  const file = opened.at(-1);
  if (!(e instanceof Error) || file === undefined) return e;
  if (!saysDamaged(e.message) || e.message.includes(file)) return e;
  return new Error(damagedStateMessage(file, e.message));
}

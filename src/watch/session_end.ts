/**
 * The end of a watch session, once its passes have stopped: the files left unstored said
 * (each a failure: changing.ts), `Watch stopped (N passes)` logged, and the session closed
 * with its outcome recorded (the log closed, the lock released). On a full disk the room
 * kept for the state is given up for it, as for a commit (`StateStore.finishRun`); where a
 * pass used it already and it could not be made again, the outcome goes unrecorded:
 * `history` then shows the session interrupted, and one that had problems exits 1
 * (`WatchTotals.unrecorded`). A warning after the close (the watchers are closed last) is
 * appended to the log by itself (`appendAfterClose`). A process killed here leaves the run
 * recorded as running, which the next session takes for interrupted.
 */
import { diskFullText } from "../engine/errors.ts";
import { diskFullAt } from "../engine/session/reserve.ts";
import type { Session } from "../engine/session/session.ts";
import type { Unstored } from "./changing.ts";
import type { WatchOptions, WatchTotals } from "./watch.ts";
import { oneLine } from "../log/one_line.ts";

export interface Ending {
  /** A full pass went through every source, recorded so: the backup is whole since. */
  following: boolean;
  /** A pass threw at some point (see pass_failure.ts). */
  passFailed: boolean;
  /** The files left unstored as the session stops (see `ChangingFiles.atStop`). */
  unstored: Unstored[];
  onUnstored: WatchOptions["onUnstored"];
  /** Called once the session is closed, or failed to close: its log is closed. */
  onClosed(): void;
}

/**
 * Ends the session, with `totals` counting the unstored files as failed; returns the
 * warning to give where its end could not be recorded (set as `totals.unrecorded` too
 * where it had problems).
 */
export function endSession(
  session: Session,
  totals: WatchTotals,
  ending: Ending,
): string | undefined {
  for (const unstored of ending.unstored) {
    totals.counts.failed++;
    session.log.line(`ERROR: ${unstored.path}: ${unstored.message}`);
    ending.onUnstored?.(unstored);
  }
  const passes = totals.passes === 1 ? "1 pass" : `${totals.passes} passes`;
  session.log.line(`Watch stopped (${passes})`);
  // A session stopped because its backup root was lost records nothing: its state is
  // another run's now. One stopped in its first pass went through part of the sources only.
  // A file that failed, or a pass that threw, is a problem, even if a later pass made up
  // for it.
  const whole = totals.counts.failed > 0 || ending.passFailed ? "partial" : "ok";
  const status = ending.following ? whole : "stopped";
  let unrecorded: string | undefined;
  try {
    unrecorded = session.close(status, totals);
  } finally {
    ending.onClosed();
  }
  // Not recorded (a full disk): `history` shows it interrupted. With problems, exit 1.
  if (unrecorded === undefined) return undefined;
  const message = unrecordedEnd(session, unrecorded, status);
  if (status === "partial") totals.unrecorded = message;
  return message;
}

/**
 * The session's end not recorded (`why`, a full disk): `history` shows it interrupted,
 * where it ended with `status` (`partial`: with problems).
 */
export function unrecordedEnd(session: Session, why: string, status: string): string {
  const problems = status === "partial" ? ", though it finished with problems" : "";
  const remedy = diskFullAt(why, session.tmpDir) ? `: ${diskFullText(session.root, why)}` : "";
  return `Cannot record the end of the watch session (run ${session.runId}): ${why}: ` +
    `'history' shows it as interrupted${problems}${remedy}`;
}

/** A line added to a log already closed (a warning while the watchers close, last). */
export function appendAfterClose(path: string, message: string): void {
  try {
    Deno.writeTextFileSync(path, `${new Date().toISOString()} ${oneLine(message)}\n`, {
      append: true,
    });
  } catch {
    // Said on stderr already; the log is complete without it.
  }
}

/**
 * When the watchers are opened again after a failure: after a pause that starts at
 * REOPEN_FIRST_MS and doubles with each failure in a row, up to REOPEN_MAX_MS
 * (`reopenPause`), one reopening pending at a time (`Reopening`, whose timer runs the
 * follower's opening). An event that comes ends the row (`working`); a deliberate restart
 * starts it anew and brings a later reopening forward to the first pause (`bringForward`).
 * The missing sources' looks (missing_roots.ts) keep the same pauses. Memory and one timer:
 * `cancel()` clears it; an interruption leaves nothing behind.
 */

/** First pause before reopening a failed watcher; it doubles on each failure in a row. */
export const REOPEN_FIRST_MS = 1000;
/** Longest pause between reopening attempts, so a source that comes back is seen soon. */
export const REOPEN_MAX_MS = 60_000;

/** The pause before the attempt that follows `before` in a row: REOPEN_FIRST_MS doubled. */
export function reopenPause(before: number): number {
  return Math.min(REOPEN_FIRST_MS * 2 ** before, REOPEN_MAX_MS);
}

/** The failures in a row, and the reopening they have pending. */
export class Reopening {
  readonly #open: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the pending reopening is due (`performance.now()` time: monotonic). */
  #dueAt = 0;
  #failures = 0;

  /** `open` runs when a reopening is due; it calls `fired()` first. */
  constructor(open: () => void) {
    this.#open = open;
  }

  /** Whether a reopening is pending (or was, before `cancel()`). */
  get pending(): boolean {
    return this.#timer !== undefined;
  }

  /** The pending reopening is running: none is pending any more. */
  fired(): void {
    this.#timer = undefined;
  }

  /** An event came: the watchers work again, and the next failure is the first in a row. */
  working(): void {
    this.#failures = 0;
  }

  /** A failure counted: which one in a row it is, and the pause before the reopening. */
  countFailure(): { attempt: number; pauseMs: number } {
    this.#failures++;
    return { attempt: this.#failures, pauseMs: reopenPause(this.#failures - 1) };
  }

  /** The reopening, after `pauseMs`. */
  schedule(pauseMs: number): void {
    this.#dueAt = performance.now() + pauseMs;
    this.#timer = setTimeout(this.#open, pauseMs);
  }

  /**
   * The pending reopening, if due later than REOPEN_FIRST_MS from now, moved to then: a
   * restart for a source that may be back soon (a disk mounted) waits no longer.
   */
  bringForward(): void {
    if (this.#dueAt - performance.now() <= REOPEN_FIRST_MS) return;
    clearTimeout(this.#timer);
    this.schedule(REOPEN_FIRST_MS);
  }

  /** A deliberate restart: its failure is said again, and reopened after the first pause. */
  forgetFailures(): void {
    this.#failures = 0;
  }

  /** The pending reopening, if any, never runs. */
  cancel(): void {
    clearTimeout(this.#timer);
  }
}

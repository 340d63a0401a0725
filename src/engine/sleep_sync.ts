/**
 * A synchronous pause: the thread waits on a value no one changes, for `ms` at most, and
 * goes on. For the few places that must wait without giving the event loop a turn (a lock
 * tried again, a reader's open tried again, a full pipe draining, a test's pause point),
 * where an `await` would let other work run in between. Keeps nothing; an interruption
 * leaves nothing.
 */

/** The one cell every pause waits on: nothing ever wakes it, so each wait runs its time. */
const NEVER_WOKEN = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));

/** Blocks this thread for `ms` milliseconds. */
export function sleepSync(ms: number): void {
  Atomics.wait(NEVER_WOKEN, 0, 0, ms);
}

/**
 * A turn of the event loop meant to let a stop signal that has come reach its listeners:
 * the only moment a pass of synchronous reads (a re-hash, a restore of a large file) can
 * learn of one. It changes nothing on disk, so an interruption leaves nothing behind.
 *
 * The runtime reads pending signals only when the loop waits for something. A timer alone
 * often does not make it wait: one already due by the time the loop looks (the thread was
 * preempted, a microtask ran long) fires at once, and a re-hash under load in CI ignored a
 * SIGTERM to its end. A file system call answered from a worker thread first, then a
 * timer, made the loop wait in all but about 1 of 300 turns under a long microtask on a
 * loaded machine (against none of 20 for a timer alone), so a signal is heard at the next
 * turn or, rarely, the one after.
 */
export async function hearSignals(): Promise<void> {
  await Deno.lstat(".").catch(() => undefined); // the answer does not matter, the trip does
  await new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * The event loop gets a turn this often in a pass of synchronous work (a large file read,
 * a re-hash, a run with nothing to flush), so that a stop signal is heard (and a second
 * one ends the process) within about this long. A turn costs about 3.4 ms (a file system
 * call's round trip and a timer's minimum delay): about 1.4% of the time.
 */
const TURN_MS = 250;

/** A read given up because a stop signal came meanwhile. */
export class StoppedError extends Error {}

/** Called as often as convenient: gives the event loop a turn every TURN_MS. */
export function turnEvery(): () => Promise<void> {
  let due = performance.now() + TURN_MS;
  return async () => {
    if (performance.now() < due) return;
    await hearSignals();
    due = performance.now() + TURN_MS;
  };
}

/**
 * Called for each block read: `turnEvery`'s turns, and `StoppedError` thrown when a stop
 * signal came meanwhile.
 */
export function turnTaker(signal?: AbortSignal): () => Promise<void> {
  const turn = turnEvery();
  return async () => {
    await turn();
    if (signal?.aborted) throw new StoppedError("stopped");
  };
}

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

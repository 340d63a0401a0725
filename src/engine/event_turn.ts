/**
 * A turn of the event loop in which a stop signal that has come is sure to be heard: the
 * only moment a pass of synchronous reads (a re-hash, a restore of a large file) can learn
 * of one. It changes nothing on disk, so an interruption leaves nothing behind.
 *
 * A timer alone is not enough. When it is already due by the time the loop looks (the
 * thread was preempted, a microtask ran long), it fires at once and the runtime never gets
 * control back to read pending signals: a re-hash under load in CI ignored a SIGTERM to
 * its end. A file system call is answered from a worker thread through the runtime, which
 * reads pending signals on the way; the timer after it lets a signal delivered in that
 * same tick reach its listeners before the caller looks.
 */
export async function hearSignals(): Promise<void> {
  await Deno.lstat(".").catch(() => undefined); // the answer does not matter, the trip does
  await new Promise((resolve) => setTimeout(resolve, 0));
}

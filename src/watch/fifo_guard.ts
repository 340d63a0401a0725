/**
 * Keeps a FIFO from holding this thread for good (Linux). Each call into Deno's watcher that
 * adds or removes a watch (`Deno.watchFs`, and the end of a closed FsWatcher, once its
 * pending read has ended) waits for Deno's watcher thread: for the lock it holds while it
 * hands an event on, and for its answer. With the watchers in their worker
 * (watcher_host.ts), that worker makes the calls, and this thread waits for its answer to
 * an opening all the same; a close no longer waits here. That thread opens the path each event names, and
 * the open of a FIFO waits for a writer (see held_open.ts), so a FIFO made in a source just
 * before such a call, after `freeWatcher` looked, held the call, and with it this thread, for
 * good: no timer, no event and no signal handler ran any more, and a stopped watch never
 * ended (seen with Deno 2.9.6: the main thread in a futex, the watcher thread in openat on
 * the new FIFO, SIGINT heard by nobody, no `Watch stopped` in the log).
 *
 * Only another thread can free it, so a worker (fifo_guard_worker.ts) looks at Deno's
 * watcher thread every few milliseconds while such a call may be under way (`on()` until
 * its `off()`), and opens a FIFO that holds it, as `freeWatcher` does. It keeps what it
 * opened until the last call under way has ended: `off()` then has it closed (once the
 * watches are gone, a close is no event any more). A thread held by a FIFO removed or
 * renamed while it opened it can be freed by nothing; if a call under way waits on it for
 * STUCK_MS (in the worker), the worker writes why to the session's log (the `GuardContext`
 * given at `on()`) and to stderr, and ends the process with the context's exit code
 * (through the C library's `_exit` where FFI is permitted, else by SIGKILL: 137), as a
 * second signal would; the next run completes a batch cut short.
 *
 * Elsewhere than on Linux, and where no thread can be made now, there is no guard, and
 * calls are made as they were. `close()` ends the worker; the FIFOs it held are closed
 * with it. An interruption leaves nothing.
 */

/** Where, and with which exit code, the process ends if this thread is held for good. */
export interface GuardContext {
  /** The session's log file, which gets the last line. */
  logFile: string;
  /** 0 where the session was being stopped already (as asked: a signal), else 1. */
  code: number;
}

export interface FifoGuard {
  /**
   * The guard on until the returned `off()`, which resolves once the FIFOs the worker
   * opened are closed (at once when another call is still under way: at its end).
   */
  on(): () => Promise<void>;
  /** Ends the worker. */
  close(): void;
}

/** The index of the count of guarded calls under way, in the buffer shared with the worker. */
export const ARMED = 0;

/**
 * Longest wait for the worker to close the FIFOs it opened: a few milliseconds, unless it
 * failed; the watch goes on regardless (a FIFO left open is closed by `close()`).
 */
const RELEASE_WAIT_MS = 1000;

/** Messages to the worker. */
export type GuardRequest =
  | { type: "start"; flags: Int32Array }
  | ({ type: "on" } & GuardContext)
  | { type: "release"; n: number };

/** Messages from the worker: the FIFOs opened until `release` `n` are closed. */
export type GuardAnswer = { type: "released"; n: number };

const NO_GUARD: FifoGuard = { on: () => () => Promise.resolve(), close() {} };

/** A guard, whose worker gets `context()` each time it is turned on. */
export function startGuard(context: () => GuardContext): FifoGuard {
  if (Deno.build.os !== "linux") return NO_GUARD;
  let worker: Worker;
  try {
    worker = new Worker(new URL("./fifo_guard_worker.ts", import.meta.url), { type: "module" });
  } catch (e) {
    // No thread can be made now (a limit of threads: see staging.ts): calls go unguarded.
    if (e instanceof Deno.errors.WouldBlock) return NO_GUARD;
    throw e;
  }
  const flags = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  let failed = false;
  let asked = 0;
  const waiting = new Map<number, () => void>();
  worker.onerror = (e) => {
    e.preventDefault(); // a guard that failed guards nothing more; the watch goes on
    failed = true;
    for (const resolve of waiting.values()) resolve();
  };
  worker.onmessage = (e: MessageEvent<GuardAnswer>) => waiting.get(e.data.n)?.();
  const post = (request: GuardRequest) => {
    if (!failed) worker.postMessage(request);
  };
  post({ type: "start", flags });

  const release = async () => {
    if (failed) return;
    const n = ++asked;
    const answered = new Promise<void>((resolve) => waiting.set(n, resolve));
    post({ type: "release", n });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([answered, new Promise((r) => timer = setTimeout(r, RELEASE_WAIT_MS))]);
    } finally {
      clearTimeout(timer);
      waiting.delete(n);
    }
  };

  return {
    on() {
      Atomics.add(flags, ARMED, 1);
      post({ type: "on", ...context() }); // wakes the worker, which looks until all are off
      let off: Promise<void> | undefined;
      return () => {
        off ??= Atomics.sub(flags, ARMED, 1) === 1 ? release() : Promise.resolve();
        return off;
      };
    },
    close() {
      failed = true;
      worker.terminate();
    },
  };
}

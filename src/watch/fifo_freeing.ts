/**
 * Keeps Deno's watcher thread free of FIFOs around the follower's opens and closes. Each
 * watch ends once its reading loop has (Deno removes it then), and adding or removing one
 * waits for Deno's watcher thread: one held opening a FIFO (held_open.ts) would hold this
 * thread with it, for good (with the watchers in their worker, watcher_host.ts, an opening
 * still waits here; a close waits in the worker, whose reading loops end only once that
 * thread is freed). So every watch is opened and closed with the FIFO guard on
 * (fifo_guard.ts: another thread frees it meanwhile); `dropWatchers` frees the thread
 * first, closes the watchers, and frees it again while their loops end; and
 * `checkForHeldWatcher` looks every HELD_CHECK_MS while they run, since events stop
 * meanwhile. The FIFOs opened to free it are closed only once the watchers are gone, so
 * that none takes their close up as an event and opens a FIFO again. A thread held by a
 * FIFO removed while it opened it can be freed by nothing: the watchers are given up
 * (never closed: the close would wait for good). Where the thread cannot be looked at (no
 * /proc/self: macOS, or Linux without --allow-all), nothing finds it held: the session's
 * last close then waits for the loops a bounded time (`Overdue`) and has their worker
 * ended (watcher_host.ts), which ends them. An interruption leaves nothing behind: the
 * FIFOs opened are closed with the process.
 */
import { pausePoint } from "../engine/fault.ts";
import type { FifoGuard } from "./fifo_guard.ts";
import { freeWatcher, heldFifo, watcherHeld } from "./held_open.ts";

/**
 * How often the watcher thread is looked at for an open held by a FIFO (held_open.ts):
 * events stop for at most about this long; a look reads a few small /proc files.
 */
const HELD_CHECK_MS = 2000;
/** How often watchers being closed are looked at for that: their loops end within a few ms. */
const CLOSING_CHECK_MS = 50;

/** The watchers open now, and their reading loops. */
export interface OpenWatchers {
  /** Emptied once they are closed or given up: a loop ends at its watcher's next event. */
  current: Deno.FsWatcher[];
  /** Each loop removes itself once it has ended. */
  readonly reading: Set<Promise<void>>;
}

/** What a close does once its watchers' reading loops have not ended for `afterMs`. */
export interface Overdue {
  afterMs: number;
  /** Called once; ends the loops (by ending the watchers' worker), or nothing can. */
  act(): void;
}

/**
 * Closes the watchers and waits for their reading loops to end. Deno's watcher thread is
 * freed first (held_open.ts), and again while the loops end (a FIFO made just before a
 * stop), and the guard frees it from another thread if a FIFO comes after the last look
 * (seen: a FIFO made as a watch stopped held it in a futex, deaf to SIGINT). Where it is
 * held for good, the watchers are left open and `giveUp` is called instead. With `overdue`,
 * loops still running after its `afterMs` have it act (a thread held where nothing finds it).
 */
export async function dropWatchers(
  guard: FifoGuard,
  open: OpenWatchers,
  giveUp: () => void,
  overdue?: Overdue,
): Promise<void> {
  pausePoint("dropping"); // tests: Deno's watcher held here is found by the first look
  const freed: Deno.FsFile[] = [];
  const off = guard.on();
  try {
    if (!freeWatcher(freed)) return giveUp();
    open.current.forEach(closeQuietly);
    open.current = [];
    let ended = false;
    const loops = Promise.all(open.reading).then(() => ended = true);
    const until = performance.now() + (overdue?.afterMs ?? Infinity);
    while (!ended) {
      if (!freeWatcher(freed)) return giveUp();
      if (performance.now() >= until && overdue !== undefined) {
        const { act } = overdue;
        overdue = undefined; // once
        act(); // the loops end within a few ms where it ended them
      }
      pausePoint("unwatching"); // tests: a FIFO made here comes after the last look
      await settledOrAfter(loops, CLOSING_CHECK_MS);
    }
  } finally {
    for (const f of freed) f.close();
    await off();
  }
}

/**
 * Ends a watch whose reading loop has ended, with the guard on: its close waits for Deno's
 * thread. Never for one given up, which would wait for good, with nothing to free it.
 */
export function closeGuarded(guard: FifoGuard, watcher: Deno.FsWatcher): void {
  const off = guard.on();
  closeQuietly(watcher);
  void off();
}

/**
 * Every HELD_CHECK_MS, unless `idle()`, looks whether Deno's watcher thread waits on a FIFO
 * and calls `onHeld` with that FIFO's path (undefined where it cannot be read) to have it
 * freed. Linux only (elsewhere there is no /proc): undefined, no timer.
 */
export function checkForHeldWatcher(
  idle: () => boolean,
  onHeld: (fifo: string | undefined) => void,
): ReturnType<typeof setInterval> | undefined {
  if (Deno.build.os !== "linux") return undefined;
  return setInterval(() => {
    if (idle() || !watcherHeld()) return;
    onHeld(heldFifo());
  }, HELD_CHECK_MS);
}

export function closeQuietly(w: Deno.FsWatcher): void {
  try {
    w.close();
  } catch { /* already closed */ }
}

/** Resolves once `p` has settled, or after `ms`, whichever comes first. */
async function settledOrAfter(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([p, new Promise((resolve) => timer = setTimeout(resolve, ms))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Follows `Deno.watchFs` on the source folders, recursively, and hands each event on.
 * Events are hints, never the truth: the caller rescans what they name. When the watcher
 * fails, cannot be opened (a source is missing, the system's watch limit is reached) or
 * is restarted (a source folder itself was removed, so its watch is gone), it is reopened
 * after a pause that doubles up to a minute. Events in the gap are lost, so `onReopen`
 * tells the caller to run a full rescan. Where a source holds a folder that cannot be read,
 * which fails a recursive watch as a whole, the sources are followed around it (see
 * coverage.ts) and reopened when an event changes that plan. `close()` ends the watchers,
 * their reading loops and the reopening timer; nothing is left behind.
 */
import { type Coverage, planCoverage, replanTest } from "./coverage.ts";

/** First pause before reopening a failed watcher; it doubles on each failure in a row. */
const REOPEN_FIRST_MS = 1000;
/** Longest pause between reopening attempts, so a source that comes back is seen soon. */
const REOPEN_MAX_MS = 60_000;

export interface EventHandlers {
  onEvent(event: Deno.FsEvent): void;
  /**
   * An event came whose path is not valid UTF-8 (Deno cannot decode it, so it is not
   * known): the watcher goes on.
   */
  onUndecodable(): void;
  /** The watcher failed for the `attempt`-th time in a row; it is reopened after `retryMs`. */
  onError(e: unknown, attempt: number, retryMs: number): void;
  /** A watcher was reopened after a failure: events may have been lost. */
  onReopen(): void;
  /** The sources are followed around folders that cannot be read (listed in `plan`). */
  onPartial(plan: Coverage): void;
}

export interface EventFollower {
  /** Drops the current watcher and opens a new one after the usual pause. */
  restart(reason: string): void;
  close(): Promise<void>;
}

export function followEvents(paths: string[], handlers: EventHandlers): EventFollower {
  let closed = false;
  /** The watchers open now: one, or two where the sources are followed around folders. */
  let watchers: Deno.FsWatcher[] = [];
  /** Where followed around folders: whether an event changes that. */
  let replan: ((event: Deno.FsEvent) => boolean) | undefined;
  const reading = new Set<Promise<void>>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** When the pending reopening is due (Date.now() time). */
  let dueAt = 0;
  let failures = 0;

  const open = () => {
    timer = undefined;
    if (closed) return;
    try {
      watchers = openWatchers();
    } catch (e) {
      fail(e);
      return;
    }
    if (failures > 0) handlers.onReopen();
    for (const w of watchers) {
      const r = read(w).finally(() => reading.delete(r));
      reading.add(r);
    }
  };

  const openWatchers = (): Deno.FsWatcher[] => {
    replan = undefined;
    try {
      return [Deno.watchFs(paths, { recursive: true })];
    } catch (e) {
      if (!(e instanceof Deno.errors.PermissionDenied)) throw e;
      const plan = planCoverage(paths);
      if (plan.recursive.length + plan.flat.length === 0) throw e;
      const opened: Deno.FsWatcher[] = [];
      try {
        if (plan.recursive.length > 0) opened.push(Deno.watchFs(plan.recursive));
        if (plan.flat.length > 0) opened.push(Deno.watchFs(plan.flat, { recursive: false }));
      } catch (e) {
        opened.forEach(closeQuietly);
        throw e;
      }
      replan = replanTest(plan);
      handlers.onPartial(plan);
      return opened;
    }
  };

  const fail = (e: unknown) => {
    if (closed || timer !== undefined) return;
    failures++;
    const pause = Math.min(REOPEN_FIRST_MS * 2 ** (failures - 1), REOPEN_MAX_MS);
    handlers.onError(e, failures, pause);
    dueAt = Date.now() + pause;
    timer = setTimeout(open, pause);
  };

  const read = async (w: Deno.FsWatcher) => {
    const events = w[Symbol.asyncIterator]();
    try {
      while (true) {
        let next;
        try {
          next = await events.next();
        } catch (e) {
          // Deno throws for one event it cannot decode, and delivers the next ones.
          if (!(e instanceof TypeError && /invalid UTF-8/i.test(e.message))) throw e;
          if (!watchers.includes(w)) break;
          handlers.onUndecodable();
          continue;
        }
        if (next.done || !watchers.includes(w)) break; // ended, or dropped by restart()
        failures = 0; // working again
        handlers.onEvent(next.value);
        if (replan?.(next.value)) follower.restart("the folders that cannot be read changed");
      }
      if (watchers.includes(w)) fail(new Error("the watcher ended unexpectedly"));
    } catch (e) {
      if (watchers.includes(w)) fail(e);
    } finally {
      closeQuietly(w);
    }
  };

  const drop = () => {
    watchers.forEach(closeQuietly);
    watchers = [];
  };

  open();
  const follower: EventFollower = {
    restart(reason) {
      drop();
      if (timer !== undefined) {
        // A reopening already due covers this one (and asks for its rescan when it comes),
        // but no later than after the first pause: the source may be back (a disk mounted).
        if (dueAt - Date.now() > REOPEN_FIRST_MS) {
          clearTimeout(timer);
          dueAt = Date.now() + REOPEN_FIRST_MS;
          timer = setTimeout(open, REOPEN_FIRST_MS);
        }
        return;
      }
      failures = 0; // a deliberate restart: said again, and reopened after the first pause
      fail(new Error(reason));
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      drop();
      await Promise.all(reading);
    },
  };
  return follower;
}

function closeQuietly(w: Deno.FsWatcher): void {
  try {
    w.close();
  } catch { /* already closed */ }
}

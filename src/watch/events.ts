/**
 * Follows `Deno.watchFs` on the source folders, recursively, and hands each event on.
 * Events are hints, never the truth: the caller rescans what they name. When the watcher
 * fails, cannot be opened (a source is missing, the system's watch limit is reached) or
 * is restarted (a source folder itself was removed, so its watch is gone), it is reopened
 * after a pause that doubles up to a minute (reopening.ts). Events in the gap are lost, so
 * `onReopen` tells the caller to run a full rescan. Where a source holds a folder that
 * cannot be read, which fails a recursive watch as a whole, or a symlink to a folder, which
 * a recursive watch follows, the sources are followed around it (coverage.ts, opened by
 * watcher_opening.ts) and reopened when an event changes that plan, when events come named
 * through such a symlink (one Deno followed in a folder made or moved in since), or when a
 * source missing or unreadable meanwhile can be listed again (missing_roots.ts). A watcher
 * held by a FIFO (Deno opens the paths events name, and an open of a FIFO waits) is freed
 * and reopened (held_open.ts); every watch opened or closed is so under the FIFO guard
 * (fifo_guard.ts, fifo_freeing.ts), since Deno's watcher held so would hold this thread
 * too, for good. The watchers live in a worker (watcher_host.ts), ended whenever they are
 * all closed (before each full rescan, at a new plan, after a failure): Deno's watcher keeps
 * kernel watches and memory of folders removed for the life of its thread, and gives them
 * back only so.
 *
 * This file holds the follower itself: when it opens, reads, fails, plans again and closes.
 * `close()` ends the watchers, their reading loops, the guard and the timers; nothing is
 * left behind. Where Deno's watcher thread does not let the watchers end within
 * CLOSE_WAIT_MS (held opening a FIFO where nothing finds it: no /proc/self), `close()` ends
 * their worker instead of waiting on it for good.
 */
import type { Coverage } from "./coverage.ts";
import {
  checkForHeldWatcher,
  closeGuarded,
  dropWatchers,
  type OpenWatchers,
} from "./fifo_freeing.ts";
import { type GuardContext, startGuard } from "./fifo_guard.ts";
import { MissingRoots } from "./missing_roots.ts";
import { Reopening } from "./reopening.ts";
import { hostWatchers, isUndecodable } from "./watcher_host.ts";
import { type FollowedPlan, type Opening, openWatchers } from "./watcher_opening.ts";
import { unwatchedFolders } from "./watch_count.ts";

/**
 * Longest wait at the stop for the watchers to end: a few ms, or a second or two per
 * 100,000 folders for Deno to remove their kernel watches. Past it, their worker is ended
 * (the process exits next anyway): a thread held by a FIFO where nothing can find it
 * (without /proc/self) held the stop, after `Watch stopped`, for good.
 */
const CLOSE_WAIT_MS = 5000;

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
  /**
   * Deno's watcher was held opening the FIFO at `path` (see held_open.ts): it is freed, and
   * the watchers are reopened (`onReopen` follows).
   */
  onHeld(path: string): void;
  /**
   * Deno's watcher waits on a FIFO removed while it opened it, which nothing can free: no
   * event comes any more, and no watcher can be opened or closed (both would wait for it).
   * The watchers are given up; only a new process watches again.
   */
  onStuck(): void;
  /**
   * The watchers, closed at the stop, had not ended after `ms`: Deno's watcher thread does
   * not answer (held where nothing finds it: see `close`). Their worker is ended.
   */
  onCloseOverdue(ms: number): void;
  /**
   * Where to say it, and with which exit code to end the process, if a watch being opened or
   * closed waits on Deno's watcher held so for good (see fifo_guard.ts).
   */
  ending(): GuardContext;
}

export interface EventFollower {
  /** Drops the current watcher and opens a new one after the usual pause. */
  restart(reason: string): void;
  /**
   * Opens the watchers anew, now; resolves once they are open. Before a full rescan: the
   * watchers may have fallen behind the disk (a folder made while the kernel's event queue
   * overflowed, which Deno does not report, goes unfollowed; a folder moved out of the
   * sources may stay followed, seen in a soak test). Events in the gap are the rescan's.
   */
  renew(): Promise<void>;
  /**
   * Folders a pass could not list: one the watchers do not already go around (it appeared
   * unreadable below a folder followed whole, which Deno.watchFs does not report) makes a
   * new plan, once per folder.
   */
  noticeUnlisted(folders: string[]): void;
  /**
   * Events named paths through a symlink to a folder: Deno followed one below a folder made
   * or moved in (it follows them as it adds that folder's watches), and names that folder's
   * events by the link's path since. The watchers are opened anew, around it, and
   * `onReopen` asks for the rescan that finds what those events were of.
   */
  noticeLinked(): void;
  /**
   * The source folders to follow from the next opening on (a watch's config reloaded), and
   * the folders in them left out: `renew()` opens the watchers on them.
   */
  follow(paths: string[], leftOut: ReadonlySet<string>): void;
  /**
   * How many folders the sources hold that no watch follows (watch_count.ts: Linux; 0
   * elsewhere, and while no watchers are open or they are being opened anew); `within`:
   * only in and below those folders.
   */
  unwatchedFolders(within?: readonly string[]): number;
  close(): Promise<void>;
}

export function followEvents(
  paths: string[],
  handlers: EventHandlers,
  { watchFs, leftOut = new Set() }: {
    /**
     * Deno's, in a worker (watcher_host.ts) by default; tests give one that fails as a tree
     * changing under it makes it fail.
     */
    watchFs?: typeof Deno.watchFs;
    /** Folders in the sources not followed (the backup root: see coverage.ts). */
    leftOut?: ReadonlySet<string>;
  } = {},
): EventFollower {
  let closed = false;
  /** The watchers open now: one, or two where the sources are followed around folders. */
  const live: OpenWatchers = { current: [], reading: new Set() };
  /** Whether an event changes the plan, and the unreadable folders it goes around. */
  const followed: FollowedPlan = { replan: undefined, goneAround: new Set() };
  /** Folders a pass could not list that made a new plan already (once each). */
  const noticed = new Set<string>();
  /** A new plan waits for the old watchers to be gone (see `planAgain`). */
  let replanning = false;
  /** Deno's watcher thread cannot be freed (see `onStuck`): nothing more is opened. */
  let stuck = false;
  /**
   * Events may have been lost since the last `onReopen` (a watcher failed or was dropped):
   * said once, at the next opening. Not the failures in a row, which count on until an
   * event comes: every opening before then, a full rescan's own renewal among them, asked
   * for another rescan, which renewed the watchers again, 150 times a second.
   */
  let lost = false;
  /** Frees Deno's watcher thread while a watch is opened or closed (see fifo_guard.ts). */
  const guard = startGuard(() => handlers.ending());
  /** The watchers' worker, ended whenever none is open (see watcher_host.ts). */
  const host = watchFs === undefined ? hostWatchers() : undefined;
  const reopening = new Reopening(() => open());
  /** A source itself missing or unreadable, with others followed: looked for again. */
  const missingRoots = new MissingRoots(() => void planAgain(false), () => !closed && !stuck);
  const opening: Opening = {
    paths,
    leftOut,
    watchFs: watchFs ?? host!.watchFs,
    followed,
    lookForRoots: (roots) => missingRoots.lookFor(roots),
    onPartial: (plan) => handlers.onPartial(plan),
  };

  /** `aroundUnreadable`: plan around unreadable folders without trying the sources whole. */
  const open = (aroundUnreadable = false) => {
    reopening.fired();
    if (closed || stuck) return;
    const off = guard.on();
    try {
      live.current = openWatchers(opening, aroundUnreadable);
    } catch (e) {
      fail(e);
      return;
    } finally {
      // A FIFO the guard opened meanwhile is closed now: Deno's watcher, held again by that
      // close, is freed by the next look (fifo_freeing.ts), the watchers reopened.
      void off();
    }
    if (lost) {
      lost = false;
      handlers.onReopen();
    }
    for (const w of live.current) {
      const r = read(w).finally(() => live.reading.delete(r));
      live.reading.add(r);
    }
  };

  const fail = (e: unknown) => {
    if (closed || reopening.pending) return;
    const { attempt, pauseMs } = reopening.countFailure();
    lost = true;
    handlers.onError(e, attempt, pauseMs);
    reopening.schedule(pauseMs);
  };

  const read = async (w: Deno.FsWatcher) => {
    const events = w[Symbol.asyncIterator]();
    const dropped = () => !live.current.includes(w); // by restart() or a new plan
    try {
      while (true) {
        let next;
        try {
          next = await events.next();
        } catch (e) {
          // Deno throws for one event it cannot decode, and delivers the next ones.
          if (!isUndecodable(e)) throw e;
          if (dropped()) break;
          handlers.onUndecodable();
          continue;
        }
        if (next.done || dropped()) break;
        reopening.working();
        handlers.onEvent(next.value);
        if (followed.replan?.(next.value)) void planAgain();
      }
      if (!dropped()) fail(new Error("the watcher ended unexpectedly"));
    } catch (e) {
      if (!dropped()) fail(e);
    } finally {
      // Its reading ended, the watch ends with its close: never one given up (`giveUp`).
      if (!stuck) closeGuarded(guard, w);
    }
  };

  /**
   * The watchers opened anew, at once (no failure: nothing to pause for or to say): around
   * unreadable folders with `around`, else whole where they can be. `onReopen` is told
   * unless `quietly` (the caller rescans anyway).
   */
  const planAgain = async (around = true, quietly = false) => {
    if (closed || reopening.pending || replanning) return; // a reopening is due anyway
    replanning = true;
    // Deno shares one watcher within a thread: a watch whose reading ends only after the
    // new ones are added removes theirs on the same folders (seen: a folder moved in then
    // made no event), and one not yet removed hides an unreadable folder from the new. Once
    // all have ended, their worker is ended too, and the new ones open in a new one.
    await drop();
    replanning = false;
    if (closed || reopening.pending) return;
    open(around);
    if (live.current.length > 0 && !quietly) handlers.onReopen(); // events in between are lost
  };

  /** Closes the watchers and waits for their reading loops to end (fifo_freeing.ts). */
  const drop = () => dropWatchers(guard, live, giveUp);

  /**
   * The watchers are left as they are, never closed (see `onStuck`), and said once: their
   * reading loops, which end at their next event, leave them too.
   */
  const giveUp = () => {
    live.current = [];
    if (stuck) return;
    stuck = true;
    handlers.onStuck();
  };

  const heldCheck = checkForHeldWatcher(
    () => live.current.length === 0 || replanning,
    (fifo) => {
      if (fifo !== undefined) handlers.onHeld(fifo);
      void planAgain(followed.replan !== undefined); // frees it, or finds it held for good
    },
  );

  open();
  return {
    restart(reason) {
      void drop(); // reopened after a pause: by then the reading loops have ended
      if (reopening.pending) {
        // A reopening already due covers this one (and asks for its rescan when it comes),
        // but no later than after the first pause: the source may be back (a disk mounted).
        reopening.bringForward();
        return;
      }
      reopening.forgetFailures(); // a deliberate restart: said again, after the first pause
      fail(new Error(reason));
    },
    renew: () => planAgain(followed.replan !== undefined, true),
    noticeUnlisted(folders) {
      const fresh = folders.filter((f) => !followed.goneAround.has(f) && !noticed.has(f));
      if (fresh.length === 0) return;
      for (const f of fresh) noticed.add(f);
      void planAgain();
    },
    noticeLinked() {
      void planAgain();
    },
    follow(paths, leftOut) {
      opening.paths = paths;
      opening.leftOut = leftOut;
    },
    unwatchedFolders(within) {
      const settled = !closed && !stuck && !replanning && !reopening.pending;
      if (!settled || live.current.length === 0) return 0;
      return unwatchedFolders(opening.paths, opening.leftOut, within);
    },
    async close() {
      closed = true;
      reopening.cancel();
      missingRoots.close();
      clearInterval(heldCheck);
      try {
        // The last close: the worker ended, nothing waits on Deno's watcher thread any more.
        await dropWatchers(guard, live, giveUp, {
          afterMs: CLOSE_WAIT_MS,
          act: () => {
            handlers.onCloseOverdue(CLOSE_WAIT_MS);
            host?.close();
          },
        });
      } finally {
        host?.close();
        guard.close();
      }
    },
  };
}

/**
 * Follows `Deno.watchFs` on the source folders, recursively, and hands each event on.
 * Events are hints, never the truth: the caller rescans what they name. When the watcher
 * fails, cannot be opened (a source is missing, the system's watch limit is reached) or
 * is restarted (a source folder itself was removed, so its watch is gone), it is reopened
 * after a pause that doubles up to a minute. Events in the gap are lost, so `onReopen`
 * tells the caller to run a full rescan. Where a source holds a folder that cannot be read,
 * which fails a recursive watch as a whole, or a symlink to a folder, which a recursive
 * watch follows, the sources are followed around it (see coverage.ts) and reopened when an
 * event changes that plan, when events come named through such a symlink (one Deno
 * followed in a folder made or moved in since), or when a source missing or unreadable
 * meanwhile can be listed again (looked at after the same pauses). A watcher
 * held by a FIFO (Deno opens the paths events name, and an open of a FIFO waits) is freed
 * and reopened (see held_open.ts); every watch opened or closed is so under the FIFO guard
 * (fifo_guard.ts), since Deno's watcher held so would hold this thread too, for good.
 * `close()` ends the watchers, their reading loops, the guard and the timers; nothing is
 * left behind.
 */
import { pausePoint } from "../engine/fault.ts";
import { type Coverage, followsWhole, planCoverage, replanTest } from "./coverage.ts";
import { type GuardContext, startGuard } from "./fifo_guard.ts";
import { freeWatcher, heldFifo, watcherHeld } from "./held_open.ts";

/** First pause before reopening a failed watcher; it doubles on each failure in a row. */
const REOPEN_FIRST_MS = 1000;
/** Longest pause between reopening attempts, so a source that comes back is seen soon. */
const REOPEN_MAX_MS = 60_000;
/**
 * How often the watcher thread is looked at for an open held by a FIFO (held_open.ts):
 * events stop for at most about this long; a look reads a few small /proc files.
 */
const HELD_CHECK_MS = 2000;
/** How often watchers being closed are looked at for that: their loops end within a few ms. */
const CLOSING_CHECK_MS = 50;
/**
 * Openings tried in a row, each on a plan made anew, when a folder planned is gone by the
 * time Deno watches it (removed, renamed or replaced by a file meanwhile, a tree changing
 * as it is planned or as Deno walks it): before, the first such failure was a `Watcher failed` warning, a
 * second with no events followed, and a full rescan (a soak under folder churn: six in ten
 * minutes).
 */
const OPEN_ATTEMPTS = 5;

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
  close(): Promise<void>;
}

export function followEvents(
  paths: string[],
  handlers: EventHandlers,
  /** Deno's; tests give one that fails as a tree changing under it makes it fail. */
  watchFs: typeof Deno.watchFs = Deno.watchFs,
): EventFollower {
  let closed = false;
  /** The watchers open now: one, or two where the sources are followed around folders. */
  let watchers: Deno.FsWatcher[] = [];
  /** Where followed around folders: whether an event changes that. */
  let replan: ((event: Deno.FsEvent) => boolean) | undefined;
  /** The folders that cannot be read that the watchers go around now. */
  let goneAround = new Set<string>();
  /** Folders a pass could not list that made a new plan already (once each). */
  const noticed = new Set<string>();
  const reading = new Set<Promise<void>>();
  /** A new plan waits for the old watchers to be gone (see `planAgain`). */
  let replanning = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** When the pending reopening is due (`performance.now()` time: monotonic). */
  let dueAt = 0;
  let failures = 0;
  /** Deno's watcher thread cannot be freed (see `onStuck`): nothing more is opened. */
  let stuck = false;
  /**
   * Events may have been lost since the last `onReopen` (a watcher failed or was dropped):
   * said once, at the next opening. Not `failures`, which counts on until an event comes:
   * every opening before then, a full rescan's own renewal among them, asked for another
   * rescan, which renewed the watchers again, 150 times a second.
   */
  let lost = false;
  /**
   * A source itself missing or unreadable, with others followed (see `lookForRoots`): the
   * next look, and how many were made in a row.
   */
  let rootsTimer: ReturnType<typeof setTimeout> | undefined;
  let rootsLooks = 0;
  /** Frees Deno's watcher thread while a watch is opened or closed (see fifo_guard.ts). */
  const guard = startGuard(() => handlers.ending());

  /** `aroundUnreadable`: plan around unreadable folders without trying the sources whole. */
  const open = (aroundUnreadable = false) => {
    timer = undefined;
    if (closed || stuck) return;
    const off = guard.on();
    try {
      watchers = openAnew(aroundUnreadable);
    } catch (e) {
      fail(e);
      return;
    } finally {
      // A FIFO the guard opened meanwhile is closed now: Deno's watcher, held again by that
      // close, is freed by the next look (HELD_CHECK_MS), the watchers reopened.
      void off();
    }
    if (lost) {
      lost = false;
      handlers.onReopen();
    }
    for (const w of watchers) {
      const r = read(w).finally(() => reading.delete(r));
      reading.add(r);
    }
  };

  /** Opens the watchers, on a plan made anew while a folder planned is gone when watched. */
  const openAnew = (aroundUnreadable: boolean): Deno.FsWatcher[] => {
    for (let attempt = 1;; attempt++) {
      try {
        return aroundUnreadable ? openAround() : openWhole();
      } catch (e) {
        const gone = e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory;
        if (!gone || attempt >= OPEN_ATTEMPTS) throw e;
      }
    }
  };

  /**
   * Follows the sources whole where nothing in them is unreadable or a symlink to a folder
   * (the plan's walk says), else around those (see coverage.ts). A source gone (a disk
   * unmounted) is planned around: the others are followed meanwhile, and the roots' check
   * sees it come back.
   */
  const openWhole = (): Deno.FsWatcher[] => {
    const plan = planCoverage(paths);
    if (!followsWhole(plan, paths)) return openAround(undefined, plan);
    try {
      replan = undefined;
      goneAround = new Set();
      const whole = [watchFs(paths, { recursive: true })];
      lookForRoots([]);
      return whole;
    } catch (e) {
      // A folder made unreadable since the plan's walk; one gone is planned anew.
      if (!(e instanceof Deno.errors.PermissionDenied)) throw e;
      return openAround(e);
    }
  };

  /**
   * Follows the sources around the folders that cannot be read and the symlinks to folders
   * (see coverage.ts). A folder that appears unreadable below one followed whole goes
   * unreported by Deno.watchFs: once a pass finds one, the plan is made without trying the
   * sources whole first.
   */
  const openAround = (cause?: unknown, plan = planCoverage(paths)): Deno.FsWatcher[] => {
    if (plan.recursive.length + plan.flat.length === 0) {
      const why = plan.unreadable[0]?.error;
      throw cause ?? new Error(`no source folder can be read${why ? ` (${why})` : ""}`);
    }
    const opened: Deno.FsWatcher[] = [];
    try {
      if (plan.recursive.length > 0) opened.push(watchFs(plan.recursive));
      if (plan.flat.length > 0) opened.push(watchFs(plan.flat, { recursive: false }));
    } catch (e) {
      opened.forEach(closeQuietly);
      throw e;
    }
    replan = replanTest(plan);
    goneAround = new Set(plan.unreadable.map((u) => u.path));
    lookForRoots(paths.filter((p) => goneAround.has(p)));
    handlers.onPartial(plan);
    return opened;
  };

  /**
   * Looks again, after a pause that doubles up to a minute, whether a source that is
   * missing or unreadable while the others are followed can be listed now; once one can,
   * the watchers are opened anew (and `onReopen` asks for the rescan). No event would say
   * so: nothing above a source is followed, and the roots' check (roots.ts) sees a folder
   * come back only where one of its looks fell while it was gone, not after a brief move.
   */
  const lookForRoots = (roots: string[]) => {
    clearTimeout(rootsTimer);
    rootsTimer = undefined;
    if (roots.length === 0) {
      rootsLooks = 0;
      return;
    }
    const pause = Math.min(REOPEN_FIRST_MS * 2 ** rootsLooks++, REOPEN_MAX_MS);
    rootsTimer = setTimeout(() => {
      rootsTimer = undefined;
      if (closed || stuck) return;
      if (roots.some(canList)) void planAgain(false);
      else lookForRoots(roots);
    }, pause);
  };

  const fail = (e: unknown) => {
    if (closed || timer !== undefined) return;
    failures++;
    lost = true;
    const pause = Math.min(REOPEN_FIRST_MS * 2 ** (failures - 1), REOPEN_MAX_MS);
    handlers.onError(e, failures, pause);
    dueAt = performance.now() + pause;
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
        if (replan?.(next.value)) void planAgain();
      }
      if (watchers.includes(w)) fail(new Error("the watcher ended unexpectedly"));
    } catch (e) {
      if (watchers.includes(w)) fail(e);
    } finally {
      // Its reading ended, the watch ends with its close, which waits for Deno's thread:
      // never one given up (see `giveUp`), which would wait for good, with nothing to free it.
      if (!stuck) {
        const off = guard.on();
        closeQuietly(w);
        void off();
      }
    }
  };

  /**
   * The watchers opened anew, at once (no failure: nothing to pause for or to say): around
   * unreadable folders with `around`, else whole where they can be. `onReopen` is told
   * unless `quietly` (the caller rescans anyway).
   */
  const planAgain = async (around = true, quietly = false) => {
    if (closed || timer !== undefined || replanning) return; // a reopening is due anyway
    replanning = true;
    // Deno shares one watcher within a process: a watch whose reading ends only after the
    // new ones are added removes theirs on the same folders (seen: a folder moved in then
    // made no event), and one not yet removed hides an unreadable folder from the new.
    await drop();
    replanning = false;
    if (closed || timer !== undefined) return;
    open(around);
    if (watchers.length > 0 && !quietly) handlers.onReopen(); // events in between are lost
  };

  /**
   * Closes the watchers and waits for their reading loops to end. Each watch ends once its
   * loop has (Deno removes it then), which waits for Deno's watcher thread: one held opening
   * a FIFO would hold this thread with it, for good. It is freed first (held_open.ts), and
   * again while the loops end (a FIFO made just before a stop), and the guard frees it from
   * another thread if a FIFO comes after the last look (seen: a FIFO made as a watch
   * stopped held it in a futex, deaf to SIGINT). The FIFOs opened to free it are closed only
   * once the watchers are gone, so that none takes their close up as an event and opens a
   * FIFO again.
   */
  const drop = async () => {
    pausePoint("dropping"); // tests: Deno's watcher held here is found by the first look
    const freed: Deno.FsFile[] = [];
    const off = guard.on();
    try {
      if (!freeWatcher(freed)) return giveUp();
      watchers.forEach(closeQuietly);
      watchers = [];
      let ended = false;
      const loops = Promise.all(reading).then(() => ended = true);
      while (!ended) {
        if (!freeWatcher(freed)) return giveUp();
        pausePoint("unwatching"); // tests: a FIFO made here comes after the last look
        await settledOrAfter(loops, CLOSING_CHECK_MS);
      }
    } finally {
      for (const f of freed) f.close();
      await off();
    }
  };

  /**
   * The watchers are left as they are, never closed (see `onStuck`), and said once: their
   * reading loops, which end at their next event, leave them too.
   */
  const giveUp = () => {
    watchers = [];
    if (stuck) return;
    stuck = true;
    handlers.onStuck();
  };

  const heldCheck = Deno.build.os !== "linux" ? undefined : setInterval(() => {
    if (watchers.length === 0 || replanning || !watcherHeld()) return;
    const path = heldFifo();
    if (path !== undefined) handlers.onHeld(path);
    void planAgain(replan !== undefined); // frees it, or finds it held for good
  }, HELD_CHECK_MS);

  open();
  return {
    restart(reason) {
      void drop(); // reopened after a pause: by then the reading loops have ended
      if (timer !== undefined) {
        // A reopening already due covers this one (and asks for its rescan when it comes),
        // but no later than after the first pause: the source may be back (a disk mounted).
        if (dueAt - performance.now() > REOPEN_FIRST_MS) {
          clearTimeout(timer);
          dueAt = performance.now() + REOPEN_FIRST_MS;
          timer = setTimeout(open, REOPEN_FIRST_MS);
        }
        return;
      }
      failures = 0; // a deliberate restart: said again, and reopened after the first pause
      fail(new Error(reason));
    },
    renew: () => planAgain(replan !== undefined, true),
    noticeUnlisted(folders) {
      const fresh = folders.filter((f) => !goneAround.has(f) && !noticed.has(f));
      if (fresh.length === 0) return;
      for (const f of fresh) noticed.add(f);
      void planAgain();
    },
    noticeLinked() {
      void planAgain();
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      clearTimeout(rootsTimer);
      clearInterval(heldCheck);
      try {
        await drop();
      } finally {
        guard.close();
      }
    },
  };
}

/** Whether `dir` is a folder that can be listed now. */
function canList(dir: string): boolean {
  try {
    Deno.readDirSync(dir)[Symbol.iterator]().next();
    return true;
  } catch {
    return false;
  }
}

function closeQuietly(w: Deno.FsWatcher): void {
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

/**
 * The events side of a watch session: follows file system events in the sources
 * (events.ts), hands the paths the session's filter keeps to the scheduler, asks for a full
 * rescan where events were lost (a queue overflow, a reopened watcher, a path that is not
 * UTF-8, folders followed by no watch or a burst the kernel may not have queued whole, once
 * events have settled: `afterPass`), restarts the watchers when a source folder is removed,
 * and says once what it cannot follow. Paths named by a close after writing are remembered
 * until a pass takes them (`takeClosed`). Paths named through a symlink to a folder are
 * left out of a pass, and the watchers opened anew around it (`leaveLinked`; what the state
 * tracks at a path asked by `trackedAt`). Writes nothing but the session's warnings: an
 * interruption leaves nothing behind.
 */
import { dirname, join, relative, resolve, sep } from "node:path";
import { errorText, isOutOfOpenFiles, openFilesRemedy } from "../engine/errors.ts";
import { shownOpenFilesLimit } from "../engine/fs/flush.ts";
import { realPathOrNone } from "../engine/fs/identity.ts";
import { lstatOrNone } from "../engine/fs/fsops.ts";
import { QUEUE_LIMIT_FILE, readWatchLimit } from "./limits.ts";
import { type EventFollower, followEvents } from "./events.ts";
import type { Coverage } from "./coverage.ts";
import type { GuardContext } from "./fifo_guard.ts";
import type { Job, Scheduler } from "./scheduler.ts";
import { isWithin, type PathFilter, sourceOf } from "./scope.ts";
import type { Session } from "../engine/session/session.ts";

/**
 * An event whose path is not valid UTF-8 names a file this tool cannot back up (Deno cannot
 * name it either); only a rename to or from such a name hides a change in it, which a full
 * rescan within a minute catches. A busy file so named costs one full rescan a minute.
 */
const UNDECODABLE_RESCAN_MS = 60_000;

/**
 * Events (any, those filtered out too) since the last pass that left nothing waiting, from
 * which on the folders no watch follows are counted (`afterPass`): about 300 files made. A
 * count walks every folder of the sources, as opening the watchers does; short of that,
 * only the folders made or moved in are counted.
 */
export const BURST_EVENTS = 1000;

/**
 * The open files limit and the remedy, after an error that is the process out of them: a
 * watch's own failures are retried, and would otherwise be retried in vain without a word
 * of what to change.
 */
export function outOfFiles(e: unknown): string {
  return isOutOfOpenFiles(errorText(e)) ? ` (${openFilesRemedy(shownOpenFilesLimit())})` : "";
}

/** What the state tracks at a path: a symlink's target with it. */
export interface Tracked {
  linkTarget?: string;
}

/** The events of one watch session: what they ask of its scheduler, what a pass rereads. */
export class WatchEvents {
  /** The watchers: renewed before a full pass, restarted and closed by the session. */
  readonly follower: EventFollower;
  /** Paths named by a close after writing, until a pass reads them (see `#onEvent`). */
  readonly closedAfterWrite = new Set<string>();
  readonly #keep: PathFilter;
  readonly #roots: Set<string>;
  readonly #trackedAt: (path: string) => Tracked | undefined;
  readonly #scheduler: Scheduler;
  readonly #warn: (message: string) => void;
  /** No event would come any more (see EventHandlers.onStuck): the session ends. */
  readonly #onStuck: () => void;
  /** Where and how the process ends if a watch waits on Deno's watcher for good. */
  readonly #ending: () => GuardContext;
  /** The warning about events with undecodable paths was given (once a session). */
  #undecodableSaid = false;
  /** The folders last said not to be followed (see `#onPartial`). */
  #unfollowed = "";
  /** The FIFOs said to have held Deno's watcher (see `#onHeld`). */
  readonly #heldSaid = new Set<string>();
  /** Events named through a symlink to a folder were said (once a session: `leaveLinked`). */
  #linkedSaid = false;
  /** Paths events named through a symlink to a folder, as they came (see `leaveLinked`). */
  readonly #namedThroughLink = new Set<string>();
  /**
   * The paths create and rename events named since the job before last started, by job
   * (`#movedIn`): the newest last.
   */
  #madeOrMoved: [Set<string>, Set<string>] = [new Set(), new Set()];
  /** Whether each folder events named is reached through a symlink, until the next job. */
  readonly #eventFolders = new Map<string, boolean>();
  /** Events since a pass last left nothing waiting (see `afterPass`). */
  #burst = 0;
  /** The paths create and rename events named meanwhile, short of a burst (`afterPass`). */
  #madeSinceSettled = new Set<string>();

  /**
   * `backupRoot`: where a source holds it, not followed (see coverage.ts); `trackedAt`:
   * what the state tracks at a path, if anything (`leaveLinked`).
   */
  constructor(
    roots: Set<string>,
    backupRoot: string,
    trackedAt: (path: string) => Tracked | undefined,
    keep: PathFilter,
    scheduler: Scheduler,
    warn: (message: string) => void,
    onStuck: () => void,
    ending: () => GuardContext,
    /**
     * Deno's, in a worker (watcher_host.ts) by default; tests give one that misses folders,
     * as a burst's lost events make it.
     */
    watchFs?: typeof Deno.watchFs,
  ) {
    this.#roots = roots;
    this.#trackedAt = trackedAt;
    this.#keep = keep;
    this.#scheduler = scheduler;
    this.#warn = warn;
    this.#onStuck = onStuck;
    this.#ending = ending;
    this.follower = followEvents([...this.#roots], {
      onEvent: (event) => this.#onEvent(event),
      onError: (e, attempt, retryMs) => {
        // Only the first failure in a row is shown; the retries double up to a minute.
        if (attempt === 1) {
          this.#warn(
            `Watcher failed: ${errorText(e)}${outOfFiles(e)}: retrying in ${retryMs / 1000} s`,
          );
        }
      },
      onReopen: () => this.#scheduler.requestFull("the watcher was reopened"),
      onUndecodable: () => this.#onUndecodable(),
      onPartial: (plan) => this.#onPartial(plan),
      onHeld: (path) => this.#onHeld(path),
      onStuck: () => this.#onStuck(),
      onCloseOverdue: (ms) =>
        this.#warn(
          `Cannot close the watchers within ${ms / 1000} s: Deno's watcher thread does not ` +
            "answer (held, perhaps, opening a FIFO made in a source): the watch stops without " +
            "waiting for it",
        ),
      ending: () => this.#ending(),
    }, { leftOut: foldersLeftOut([...roots], backupRoot), watchFs });
  }

  #onEvent(event: Deno.FsEvent): void {
    this.#burst++;
    if (event.flag === "rescan") return this.#scheduler.requestFull("events lost: queue overflow");
    // "access" is a file closed after writing (reading makes no event): usually after a
    // "modify", but a write through a memory mapping makes this one alone, and may leave
    // the file's times as they were (its pages already dirty): such a file is read again.
    const paths = event.paths.filter(this.#keep);
    if (event.kind === "access") { for (const p of paths) this.closedAfterWrite.add(p); }
    // Asked now too: a link removed before the job runs leaves its path looking gone.
    for (const p of paths) {
      if (this.#throughLink(p, this.#eventFolders)) this.#namedThroughLink.add(p);
    }
    if (event.kind === "create" || event.kind === "rename") {
      for (const p of paths) this.#madeOrMoved[1].add(p);
      // Not through a symlink: the watchers are opened anew around it (`leaveLinked`).
      const made = paths.filter((p) => !this.#namedThroughLink.has(p));
      if (this.#burst < BURST_EVENTS) { for (const p of made) this.#madeSinceSettled.add(p); }
    }
    this.#scheduler.add(paths);
    const root = event.kind === "remove" && event.paths.find((p) => this.#roots.has(p));
    if (root) this.follower.restart(`source folder '${root}' was removed`);
  }

  /** Says which folders are not followed, when that changes. */
  #onPartial(plan: Coverage): void {
    const unreadable = plan.unreadable.map((u) => u.path).join("\n");
    if (unreadable === this.#unfollowed) return;
    this.#unfollowed = unreadable;
    const [first, ...more] = plan.unreadable;
    if (first === undefined) return; // readable again by the time it was walked
    const others = more.length === 0 ? "" : ` and ${more.length} more`;
    this.#warn(
      `Cannot follow events in '${first.path}'${others}: ${first.error}: the rest of the ` +
        "sources is followed; a run reports such folders until they can be read",
    );
  }

  /** Says once per FIFO that Deno's watcher was held opening it (see held_open.ts). */
  #onHeld(path: string): void {
    if (this.#heldSaid.has(path)) return;
    this.#heldSaid.add(path);
    this.#warn(
      `Deno's watcher was held opening the FIFO '${path}' (it opens each path an event ` +
        "names, and an open of a FIFO waits for a writer): freed; the watchers are reopened " +
        "and a full rescan follows (FIFOs are never backed up)",
    );
  }

  #onUndecodable(): void {
    if (!this.#undecodableSaid) {
      this.#undecodableSaid = true;
      this.#warn(
        "An event named a path that is not valid UTF-8 (such names cannot be backed up): a " +
          `full rescan follows within ${UNDECODABLE_RESCAN_MS / 1000} s, and once a minute ` +
          "at most while such events come; rename the file to back it up",
      );
    }
    this.#scheduler.requestFullLater(
      "events named a path that is not UTF-8",
      UNDECODABLE_RESCAN_MS,
    );
  }

  /**
   * `job` without the paths named through a symlink to a folder on the way. Deno's watcher
   * follows the symlinks to folders in a folder made or moved in, and names the events of
   * the folder one leads to by the link's path from then on (coverage.ts): a pass took such
   * a path for a folder replaced by a symlink while walked (an error each) or, the link
   * tracked, for the link itself, and the change it was of waited for the next periodic
   * rescan. The watchers are opened anew, around the link, and a full rescan follows
   * (`EventFollower.noticeLinked`). A path whose folder is gone is kept: the pass sees it
   * gone, unless an event named it through a link when it came (a link removed since). One
   * realpath per folder named, as events come and as the job runs. A symlink to a folder
   * removed does the same (`#removedLinkToFolder`).
   */
  leaveLinked(job: Job): Job {
    this.#eventFolders.clear();
    const movedIn = this.#madeOrMoved;
    this.#madeOrMoved = [movedIn[1], new Set()];
    if (job.kind !== "paths") {
      this.#namedThroughLink.clear(); // a full pass looks everywhere
      return job;
    }
    const linked = new Map<string, boolean>();
    const kept = job.paths.filter((path) => {
      const named = this.#namedThroughLink.delete(path);
      return !named && !this.#throughLink(path, linked);
    });
    if (kept.length === job.paths.length) {
      const removed = (path: string) => this.#removedLinkToFolder(path, movedIn);
      if (job.paths.some(removed)) this.follower.noticeLinked();
      return job;
    }
    if (!this.#linkedSaid) {
      this.#linkedSaid = true;
      const first = job.paths.find((p) => !kept.includes(p));
      this.#warn(
        `Events named '${first}' through a symlink to a folder (Deno's watcher follows the ` +
          "symlinks in a folder made or moved in): the watchers are opened anew around it, " +
          "and a full rescan follows",
      );
    }
    this.#namedThroughLink.clear(); // the full rescan that follows looks everywhere
    this.follower.noticeLinked();
    return { kind: "paths", paths: kept };
  }

  /**
   * Whether the symlink the state tracks at `path`, which leads to a folder in the sources,
   * is gone (removed, or pointed elsewhere). Deno may have followed it (in a
   * folder made or moved in) with no event named through it yet, and the link's removal
   * takes that folder's watch with it: its changes went unseen until the next periodic
   * rescan (tests/reliability/watch_model_test.ts). One state lookup per path a job names
   * that is gone or a symlink now. A path the state does not track yet may have been such a
   * link too, removed before a pass recorded it (`#movedIn`).
   */
  #removedLinkToFolder(path: string, movedIn: Set<string>[]): boolean {
    try {
      const now = lstatOrNone(path);
      if (now !== undefined && !now.isSymlink) return false; // made a file or folder: not asked
      const tracked = this.#trackedAt(path);
      if (tracked === undefined) return this.#movedIn(path, movedIn);
      const target = tracked.linkTarget;
      if (target === undefined) return false;
      if (now !== undefined && Deno.readLinkSync(path) === target) return false;
      const real = realPathOrNone(resolve(dirname(path), target));
      if (real === undefined || !Deno.statSync(real).isDirectory) return false;
      return [...this.#roots].some((root) => isWithin(real, realPathOrNone(root) ?? root));
    } catch {
      return false; // cannot be told: the next periodic rescan catches what was missed
    }
  }

  /**
   * Whether `path` was in a folder as it was made or moved in (named by a create or rename
   * event), not made or moved there itself since: Deno, adding that folder's watches,
   * followed each symlink to a folder in it. Such a path gone before any pass recorded it
   * may have been one (the cost: a file so moved in and removed at once has the watchers
   * opened anew and a full rescan run too). One set lookup per folder on its way.
   */
  #movedIn(path: string, movedIn: Set<string>[]): boolean {
    const named = (p: string) => movedIn.some((paths) => paths.has(p));
    const root = [...this.#roots].find((r) => isWithin(path, r));
    if (root === undefined || named(path)) return false;
    for (let dir = dirname(path); dir !== root && isWithin(dir, root); dir = dirname(dir)) {
      if (named(dir)) return true;
    }
    return false;
  }

  /**
   * Whether the folder of `path` is reached through a symlink to a folder (its real path is
   * not its path below its source's), each folder asked once per `folders`.
   */
  #throughLink(path: string, folders: Map<string, boolean>): boolean {
    const root = [...this.#roots].find((r) => isWithin(path, r));
    const dir = dirname(path);
    if (root === undefined || path === root || dir === root) return false;
    let through = folders.get(dir);
    if (through === undefined) {
      const real = realPathOrNone(dir);
      const rootReal = realPathOrNone(root);
      through = real !== undefined && rootReal !== undefined &&
        real !== join(rootReal, relative(root, dir));
      folders.set(dir, through);
    }
    return through;
  }

  /**
   * After a pass that went through; `settled` when nothing waits for another. Once a burst
   * of events has settled, the folders no watch follows are counted (watch_count.ts): a
   * folder whose making was lost in the burst (Deno's recursive watch adds one as it reads
   * that event) is followed by nothing, and the files written in it were seen by no pass.
   * Short of a burst, only the folders events said were made or moved in are counted (and
   * those below them): one was seen unwatched after a few events in a soak. Any such
   * folder asks for a full rescan, which opens the watchers anew first and backs those
   * files up; before, they waited for the next periodic rescan. The folders found so;
   * undefined where none were counted.
   *
   * A burst of half the kernel's `max_queued_events` or more asks for a full rescan instead:
   * Deno 2.9.6 drops the kernel's notice of an overflow (it names no path); a `touch` of
   * 10,000 files left about 4,000 unseen so in two tries of three. Half: those queued all
   * come but for the opens among them, which Deno leaves out (a third of a touch's).
   */
  afterPass(settled: boolean): number | undefined {
    if (!settled) return undefined;
    const burst = this.#burst;
    const made = this.#madeSinceSettled;
    this.#burst = 0; // settled: the next burst counts from here
    this.#madeSinceSettled = new Set();
    const queued = readWatchLimit(QUEUE_LIMIT_FILE);
    if (queued !== undefined && burst >= queued / 2) {
      // The rescan opens the watchers anew too: no folder to count.
      this.#scheduler.requestFull(
        `events may have been lost: a burst of ${burst} events (the kernel queues ${queued})`,
      );
      return undefined;
    }
    const madeFolders = burst < BURST_EVENTS ? [...made].filter(isFolder) : undefined;
    if (madeFolders?.length === 0) return undefined;
    const unwatched = this.follower.unwatchedFolders(madeFolders);
    if (unwatched === 0) return 0;
    const folders = unwatched === 1 ? "1 folder" : `${unwatched} folders`;
    this.#scheduler.requestFull(`events lost: ${folders} followed by no watch`);
    return unwatched;
  }

  /**
   * A full pass begins, its watchers just opened anew: it reads every file and follows every
   * folder there now, so the burst before it asks for nothing more (`afterPass`).
   */
  fullPassBegins(): void {
    this.#burst = 0;
    this.#madeSinceSettled = new Set();
  }

  /** The paths closed after writing that `job` covers (all, for a full pass), taken. */
  takeClosed(job: Job): Set<string> {
    const closed = this.closedAfterWrite;
    const taken = job.kind === "full"
      ? new Set(closed)
      : new Set(job.paths.filter((p) => closed.has(p)));
    for (const p of taken) closed.delete(p);
    return taken;
  }
}

/**
 * The backup root by its path in each source that holds it (by the source's real path
 * too), not followed: Deno's watcher thread opens the paths events name, which drops the
 * session's locks on its state (see coverage.ts).
 */
export function foldersLeftOut(roots: string[], backupRoot: string): Set<string> {
  const out = new Set<string>();
  const realRoot = realPathOrNone(backupRoot) ?? backupRoot;
  for (const root of roots) {
    const ways: [string | undefined, string][] = [[root, backupRoot], [
      realPathOrNone(root),
      realRoot,
    ]];
    for (const [source, backup] of ways) {
      if (source === undefined || backup === source || !isWithin(backup, source)) continue;
      out.add(join(root, relative(source, backup)));
    }
  }
  return out;
}

/** Whether a folder (not a symlink to one) is at `path` now; false where that cannot be told. */
function isFolder(path: string): boolean {
  try {
    return lstatOrNone(path)?.isDirectory === true;
  } catch {
    return false;
  }
}

/** What the state tracks at `path` (absolute), if anything: a symlink's target too. */
export function trackedAt(session: Session, path: string): Tracked | undefined {
  const source = sourceOf(path, session.config.sources);
  if (source === undefined || path === source.path) return {}; // never a link the pass stores
  const logical = `${source.name}/${relative(source.path, path).split(sep).join("/")}`;
  try {
    const tracked = session.store.trackedOne(logical);
    if (tracked === undefined) return undefined;
    if (tracked.kind !== "symlink") return {};
    const copy = session.store.copiesOf(logical).find((c) => c.id === tracked.copyId);
    return { linkTarget: copy?.linkTarget ?? undefined };
  } catch {
    return {}; // cannot be told: taken for no link
  }
}

/**
 * The parts of a watch session made from its config: the source folders it follows (their
 * watchers: events.ts; their identity's check: roots.ts), which event paths count
 * (scope.ts), the scheduler's times; and, with a config reloaded while it runs
 * (config_reload.ts), all of them made anew from it (`apply`), between two passes. The only
 * writes are the sources a reloaded config adds, recorded in the state as a run's start
 * records them, in one transaction, and the kept copies' index where it turns share_blocks
 * on (stored_copies.ts), in one of its own, as a start makes it: a process killed meanwhile
 * leaves what one killed in a pass leaves (the config then is the old one in memory only,
 * and the next start reads the file). The watchers are opened on the new folders by the
 * full pass that follows, whose renewal closes the old ones first.
 */
import type { Config } from "../config/config.ts";
import { movedSourceNotes, type Session } from "../engine/session/session.ts";
import { faultPoint } from "../engine/fault.ts";
import type { EventFollower } from "./events.ts";
import { checkRoots, type RootCheck } from "./roots.ts";
import type { Scheduler } from "./scheduler.ts";
import { eventFilter, type PathFilter } from "./scope.ts";
import { leftSources } from "../engine/backup.ts";
import { lstatOrNone } from "../engine/fs/fsops.ts";
import { mayShareAt } from "../engine/fs/share_extents.ts";
import { isRunLogFile } from "../log/log_files.ts";
import { foldersLeftOut } from "./watch_events.ts";

/**
 * A path written to without pause is still applied after 10 × debounce_ms: a log file
 * that is always being appended gets a copy now and then instead of never.
 */
export const MAX_WAIT_FACTOR = 10;

/** The scheduler's times of `config`. */
export function timesOf(config: Config): Parameters<Scheduler["retime"]>[0] {
  const { debounceMs, rescanIntervalMs } = config.watch;
  return { debounceMs, maxWaitMs: debounceMs * MAX_WAIT_FACTOR, rescanIntervalMs };
}

/** What applying a reloaded config has to say beside what changed. */
export interface Applied {
  /** Sources added that the state knows at another folder (`movedSourceNotes`). */
  moved: string[];
  /** Sources were removed: the state may still track their files (said as at a start). */
  removed: boolean;
  /** Sources were added or moved: the folders to watch may be more than the system allows. */
  added: boolean;
}

export class SessionConfig {
  /** The source folders followed, shared with the events' side (watch_events.ts). */
  readonly roots: Set<string>;
  readonly #session: Session;
  readonly #keepFor: (config: Config) => PathFilter;
  #keep: PathFilter;
  readonly #onRootChange: (root: string) => void;
  readonly #rootCheckMs: number | undefined;
  #rootCheck: RootCheck | undefined;
  /** Closed (the session stops): no check is started any more. */
  #closed = false;

  /**
   * `onRootChange`: a source folder's identity changed (roots.ts), once checks started.
   */
  constructor(
    session: Session,
    onRootChange: (root: string) => void,
    rootCheckMs?: number,
  ) {
    this.#session = session;
    this.#keepFor = keepFor(session);
    this.#keep = this.#keepFor(session.config);
    this.#onRootChange = onRootChange;
    this.#rootCheckMs = rootCheckMs;
    this.roots = new Set(session.config.sources.map((s) => s.path));
  }

  /** Whether an event path is one to apply, by the config in use. */
  readonly keep: PathFilter = (path) => this.#keep(path);

  /** Starts checking the source folders' identity (roots.ts). */
  checkRoots(): void {
    if (this.#closed) return;
    this.#rootCheck = checkRoots([...this.roots], this.#onRootChange, this.#rootCheckMs);
  }

  /**
   * Makes `config` the session's: its sources recorded first (throws where they cannot be,
   * a full disk: then nothing changed), then every part made from it.
   */
  async apply(
    config: Config,
    parts: { follower: EventFollower; scheduler: Scheduler; saidLarge: Set<string> },
  ): Promise<Applied> {
    const s = this.#session;
    const known = new Map(s.config.sources.map((x) => [x.name, x.path]));
    const fresh = config.sources.filter((x) => known.get(x.name) !== x.path);
    const names = new Set(config.sources.map((x) => x.name));
    const removed = [...known.keys()].some((name) => !names.has(name));
    let moved: string[] = [];
    if (fresh.length > 0) {
      moved = movedSourceNotes(fresh, s.store.sourcePaths());
      s.prefixes = s.store.addSources(config.sources, s.store.recordedTime());
      faultPoint("reloaded");
    }
    // share_blocks turned on: the kept copies' index a start on a sharing root makes (in a
    // transaction of its own). Only lookups use it: where it cannot be made now (a full
    // disk, the state busy), they ask for current copies only, and the next start makes it.
    if (config.shareBlocks && !s.config.shareBlocks && mayShareAt(config.backupRoot)) {
      try {
        s.store.keepKeptCopiesIndex();
      } catch { /* not applying the edit for it would be worse */ }
    }
    s.config = config;
    this.roots.clear();
    for (const source of config.sources) this.roots.add(source.path);
    parts.follower.follow([...this.roots], foldersLeftOut([...this.roots], s.root));
    this.#keep = this.#keepFor(config);
    parts.scheduler.retime(timesOf(config));
    parts.saidLarge.clear(); // exclude_larger_than may be another: said again where it holds
    await this.#rootCheck?.close();
    this.checkRoots();
    return { moved, removed, added: fresh.length > 0 };
  }

  /** Stops the roots' check, waiting for one in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#rootCheck?.close();
  }
}

/**
 * The event paths to apply by a config (scope.ts `eventFilter`). The session's own log
 * (written all along) by its path; any other by its first line. An excluded file or folder
 * the state tracks, gone: archived, as `run` archives it; a folder the state records as
 * standing, gone: its span ends (folder_spans.ts). Up to three indexed lookups for an
 * excluded path gone; kept where they fail (the pass then looks). A folder now where the
 * state tracks a file is not that file (see vanished.ts): that file is gone too (removed and
 * a folder made at once, its events read after both).
 */
function keepFor(session: Session): (config: Config) => PathFilter {
  const goneTracked = (path: string, logical: string) => {
    try {
      const info = lstatOrNone(path);
      if (info !== undefined && !info.isDirectory) return false;
      return session.store.trackedOne(logical) !== undefined ||
        (info === undefined &&
          (session.store.isTrackedBelow(logical) || session.store.folderStood(logical)));
    } catch {
      return true;
    }
  };
  const ownLog = (p: string) => p === session.log.path || isRunLogFile(p);
  return (config) => eventFilter(config, ownLog, goneTracked);
}

/**
 * Sources the state tracks that the config no longer names, said as `run` says them: a
 * source folder renamed before a watch (a service's usual way to run), or removed from a
 * config reloaded, is otherwise stored anew under its new name without a word of why.
 */
export function leftSourcesNote(s: Session): string | undefined {
  try {
    return leftSources(s.config, s.prefixes, s.store);
  } catch {
    // A note only: a state that cannot count them now (busy, an I/O error) must not fail
    // the pass just made, nor keep the session from being said started (#started).
    return undefined;
  }
}

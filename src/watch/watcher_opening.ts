/**
 * Opens the watchers on a plan of the sources (coverage.ts): one recursive watch of them
 * whole where nothing in them is unreadable or a symlink to a folder, else a recursive watch
 * of the largest subtrees that hold neither and a plain one of the folders on the way
 * (two watchers). The plan the watchers follow is kept in a `FollowedPlan`, which says
 * whether an event changes it and which folders it goes around. A folder planned that is
 * gone by the time Deno watches it (removed, renamed, or replaced by a file meanwhile) has
 * the plan made anew, up to OPEN_ATTEMPTS times. Watches only: the caller opens them under
 * the FIFO guard (fifo_freeing.ts), and a watch opened before an opening failed is closed;
 * an interruption leaves nothing behind.
 */
import { type Coverage, followsWhole, planCoverage, replanTest } from "./coverage.ts";
import { closeQuietly } from "./fifo_freeing.ts";

/**
 * Openings tried in a row, each on a plan made anew, when a folder planned is gone by the
 * time Deno watches it (removed, renamed or replaced by a file meanwhile, a tree changing
 * as it is planned or as Deno walks it): before, the first such failure was a `Watcher
 * failed` warning, a second with no events followed, and a full rescan (a soak under
 * folder churn: six in ten minutes).
 */
const OPEN_ATTEMPTS = 5;

/** The plan the watchers open now follow: set by each opening as it commits to one. */
export interface FollowedPlan {
  /** Where followed around folders: whether an event changes that. */
  replan: ((event: Deno.FsEvent) => boolean) | undefined;
  /** The folders that cannot be read that the watchers go around. */
  goneAround: Set<string>;
}

/** What an opening works with, and whom it tells. */
export interface Opening {
  /** The source folders. */
  paths: string[];
  /** Folders in them not followed (the backup root: see coverage.ts). */
  leftOut: ReadonlySet<string>;
  /** Deno's; tests give one that fails as a tree changing under it makes it fail. */
  watchFs: typeof Deno.watchFs;
  /** Updated as the opening plans (also where it fails after that). */
  followed: FollowedPlan;
  /** The sources missing or unreadable, to look for again (missing_roots.ts); [] if none. */
  lookForRoots(roots: string[]): void;
  /** The sources are followed around folders that cannot be read (listed in `plan`). */
  onPartial(plan: Coverage): void;
}

/**
 * The watchers, opened on a plan made anew while a folder planned is gone when watched.
 * `aroundUnreadable`: planned around unreadable folders without trying the sources whole.
 */
export function openWatchers(opening: Opening, aroundUnreadable: boolean): Deno.FsWatcher[] {
  for (let attempt = 1;; attempt++) {
    try {
      return aroundUnreadable ? openAround(opening) : openWhole(opening);
    } catch (e) {
      const gone = e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory;
      if (!gone || attempt >= OPEN_ATTEMPTS) throw e;
    }
  }
}

/**
 * Follows the sources whole where nothing in them is unreadable or a symlink to a folder
 * (the plan's walk says), else around those (see coverage.ts). A source gone (a disk
 * unmounted) is planned around: the others are followed meanwhile, and the roots' check
 * sees it come back.
 */
function openWhole(opening: Opening): Deno.FsWatcher[] {
  const { paths, followed } = opening;
  const plan = planCoverage(paths, undefined, opening.leftOut);
  if (!followsWhole(plan, paths)) return openAround(opening, undefined, plan);
  try {
    followed.replan = undefined;
    followed.goneAround = new Set();
    const whole = [opening.watchFs(paths, { recursive: true })];
    opening.lookForRoots([]);
    return whole;
  } catch (e) {
    // A folder made unreadable since the plan's walk; one gone is planned anew.
    if (!(e instanceof Deno.errors.PermissionDenied)) throw e;
    return openAround(opening, e);
  }
}

/**
 * Follows the sources around the folders that cannot be read and the symlinks to folders
 * (see coverage.ts). A folder that appears unreadable below one followed whole goes
 * unreported by Deno.watchFs: once a pass finds one, the plan is made without trying the
 * sources whole first.
 */
function openAround(
  opening: Opening,
  cause?: unknown,
  plan = planCoverage(opening.paths, undefined, opening.leftOut),
): Deno.FsWatcher[] {
  if (plan.recursive.length + plan.flat.length === 0) {
    const why = plan.unreadable[0]?.error;
    throw cause ?? new Error(`no source folder can be read${why ? ` (${why})` : ""}`);
  }
  const opened = watchPlan(opening.watchFs, plan);
  const { followed } = opening;
  followed.replan = replanTest(plan);
  followed.goneAround = new Set(plan.unreadable.map((u) => u.path));
  opening.lookForRoots(opening.paths.filter((p) => followed.goneAround.has(p)));
  opening.onPartial(plan);
  return opened;
}

/** The recursive and the plain watch of `plan`; neither left open if one fails. */
function watchPlan(watchFs: typeof Deno.watchFs, plan: Coverage): Deno.FsWatcher[] {
  const opened: Deno.FsWatcher[] = [];
  try {
    if (plan.recursive.length > 0) opened.push(watchFs(plan.recursive));
    if (plan.flat.length > 0) opened.push(watchFs(plan.flat, { recursive: false }));
  } catch (e) {
    opened.forEach(closeQuietly);
    throw e;
  }
  return opened;
}

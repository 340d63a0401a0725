/**
 * One job of a watch session run as a pass: a full pass, or one scoped to the job's event
 * paths (scope.ts, each path asked of the state once per job), with the deletions counted
 * in the guard's window (guard_window.ts), a file found changing while read left to be
 * read again once quiet (changing.ts). It logs how a rescan or first pass ended, adds
 * the pass to the session's totals (with the deletions the guard holds back: restore warns
 * of them), reports it (`onBatch`) and rolls the log over past WATCH_LOG_BYTES. Every file operation goes through `runPass`: a pass interrupted leaves
 * what any interrupted run leaves (batches journaled since its last commit, temporary
 * files), which the next session's recovery completes.
 */
import { runPass } from "../engine/pass.ts";
import type { Counts, PassResult } from "../engine/pass_types.ts";
import type { Session } from "../engine/session/session.ts";
import { rereadLine, unchangedLine } from "../core/describe.ts";
import type { Job } from "./scheduler.ts";
import {
  isWithin,
  type Now,
  toScope,
  type TrackedStatus,
  withoutExcluded,
  withTagFolders,
} from "./scope.ts";
import { lstatOrNone } from "../engine/fs/fsops.ts";
import { type GuardWindow, windowFor } from "./guard_window.ts";
import type { WatchOptions, WatchTotals } from "./watch.ts";
import type { ChangingFiles } from "./changing.ts";
import { sourceFileOf } from "../core/layout.ts";
import type { Source } from "../config/config.ts";

export interface BatchReport {
  /** When the pass ended. */
  time: Date;
  /** Why a full pass ran ("start", "periodic rescan", …); undefined for an event batch. */
  full?: string;
  /**
   * Event paths applied (before nested ones were merged, without the excluded ones a pass
   * had nothing to do at); 0 for a full pass.
   */
  paths: number;
  result: PassResult;
  /**
   * The session was being stopped and the pass ended after its batch in progress, work
   * left undone (`PassResult.stopped`).
   */
  stopped: boolean;
  /** The config's `exclude_larger_than` the pass ran with (a watch's config may be reloaded). */
  largerThan: number | null;
}

/** What a first pass stopped by a signal leaves (said in the log and on stdout). */
export const STOPPED_FIRST = "what it did not reach is backed up by the next session or run";

/**
 * How the state tracks a file at a logical path, each asked once per job (a burst of
 * events in one folder asks about the same folders above them); a lookup that fails is
 * taken as none (the path is then scoped as given, as before).
 */
function trackedStatusIn(session: Session): (logical: string) => TrackedStatus {
  const known = new Map<string, TrackedStatus>();
  return (logical) => {
    if (known.has(logical)) return known.get(logical);
    let status: TrackedStatus;
    try {
      status = session.store.trackedOne(logical)?.status;
    } catch {
      status = undefined;
    }
    known.set(logical, status);
    return status;
  };
}

/**
 * What is at `path` now: its lstat, whose kind and size `withoutExcluded` takes (a symlink
 * is a file, as the walk takes it, and never over exclude_larger_than).
 */
function kindNow(path: string): Now {
  try {
    return lstatOrNone(path) ?? "none";
  } catch {
    return undefined; // the pass looks
  }
}

/** One job: a full pass, or a pass scoped to the job's paths. */
export async function applyJob(
  session: Session,
  job: Job,
  totals: WatchTotals,
  opts: WatchOptions,
  { signal, reread, changing, saidLarge }: {
    signal: AbortSignal;
    reread: ReadonlySet<string>;
    changing: ChangingFiles;
    /** Untracked files this session said it left out for their size (watch.ts). */
    saidLarge?: Set<string>;
  },
  window: GuardWindow,
): Promise<PassResult | undefined> {
  const trackedStatus = trackedStatusIn(session);
  const paths = job.kind === "paths"
    ? withoutExcluded(job.paths, session.config, kindNow, trackedStatus, (logical, gone) => {
      try {
        // A folder excluded since, recorded as standing, gone: its span ends (folder_spans.ts).
        return session.store.isTrackedBelow(logical) ||
          (gone && session.store.folderStood(logical));
      } catch {
        return true; // the pass looks
      }
    }, saidLarge)
    : [];
  const scope = job.kind === "paths"
    ? toScope(
      withTagFolders(paths, session.config),
      session.config.sources,
      (logical) => trackedStatus(logical) !== undefined,
    )
    : undefined;
  if (scope?.size === 0) return undefined;
  if (job.kind === "full" && job.reason !== "start") session.log.line(`RESCAN: ${job.reason}`);
  const deletionWindow = windowFor(
    window,
    job,
    Date.now(),
    session.config.watch.rescanIntervalMs,
  );
  try {
    const rescan = job.kind === "full" && job.reason !== "start";
    const clock = Date.now();
    const result = await runPass(session, {
      lastFullPassAt: totals.lastFullPassAt,
      inWatch: true,
      scope,
      signal,
      reread,
      deletionWindow,
      quietSkips: rescan || !session.config.logUnchanged,
      deferChanging: changing.defers,
    });
    // Cut short by the signal, work left undone: one heard once the pass had nothing left
    // to do (during its last batch) stopped nothing, and the pass went through (pass.ts).
    const stopped = result.stopped === true;
    changing.afterPass(result, coveredBy(scope, session.config.sources, stopped));
    // A full pass that went through said every such file there now: those it did not are
    // gone (or no longer over the limit), and are forgotten, or the set grew with every
    // large download ever made in a session left running for weeks.
    if (job.kind === "full" && !stopped) saidLarge?.clear();
    for (const { path } of result.leftLarge ?? []) saidLarge?.add(path);
    if (job.kind === "full" && !rescan && !session.config.logUnchanged) {
      session.log.line(unchangedLine(result.unnamedSkips ?? 0));
    }
    // Any pass's, as its line on stdout says it: an event's too (a file put back by rsync -a).
    if (result.reread) session.log.line(rereadLine(result.reread, true));
    if (rescan) {
      const how = stopped ? "stopped before it finished" : "done";
      session.log.line(`RESCAN ${how}: ${result.counts.skip} unchanged`);
    } else if (job.kind === "full" && stopped) {
      session.log.line(`FIRST PASS stopped before it finished: ${STOPPED_FIRST}`);
    }
    totals.passes++;
    for (const [k, n] of Object.entries(result.counts)) totals.counts[k as keyof Counts] += n;
    totals.bytesCopied += result.bytesCopied;
    totals.heldBack = heldBackAfter(totals.heldBack, job, result, stopped);
    // A full pass's clock vouches for the next one's (deleted_guard.ts), unless its guard
    // held prunes back; the session's summary records that it did (`clockHeld`).
    if (job.kind === "full" && !stopped) {
      if (result.clockGuard) totals.clockHeld = result.clockGuard.copies;
      else {
        totals.lastFullPassAt = clock;
        delete totals.clockHeld;
        try {
          session.store.markFullPassAt(session.runId, clock);
        } catch {
          // A hint for later runs' guard only (a full disk, say): a run then asks once.
        }
      }
    }
    opts.onBatch?.({
      time: new Date(),
      full: job.kind === "full" ? job.reason : undefined,
      paths: paths.length,
      result,
      stopped,
      largerThan: session.config.excludeLargerThan,
    });
    return result;
  } finally {
    session.log.flush();
    session.log.rollOver(WATCH_LOG_BYTES, session.config.logRetention);
  }
}

/**
 * The deletions the guard holds back after a pass, of `before`: none once a full pass went
 * through every source holding none (it archived every deletion it met), those it held
 * where it held some; a pass of events, or one stopped, judged only part of them, so the
 * most of theirs and `before` (a full pass's held back stay so).
 */
export function heldBackAfter(
  before: number,
  job: Job,
  result: Pick<PassResult, "heldBack">,
  stopped: boolean,
): number {
  const held = result.heldBack ?? 0;
  return job.kind === "full" && !stopped ? held : Math.max(before, held);
}

/**
 * Whether a pass went through a logical path: a full pass (`scope` undefined) through all,
 * a scoped one through those in or below its paths; one stopped before it ended, none.
 */
function coveredBy(
  scope: Map<string, string[]> | undefined,
  sources: Source[],
  stopped: boolean,
): (path: string) => boolean {
  if (stopped) return () => false;
  if (scope === undefined) return () => true;
  const scoped = [...scope.values()].flat();
  return (path) => {
    const file = sourceFileOf(sources, path);
    return file !== undefined && scoped.some((s) => isWithin(file, s));
  };
}

/**
 * A watch session's log goes on in a new file past this size (the older ones rotated by
 * `log_retention`): a session that runs for months keeps log_dir bounded. 16 MiB is about
 * 150,000 lines.
 */
const WATCH_LOG_BYTES = 16 << 20;

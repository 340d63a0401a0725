/**
 * Which window of deletions a `watch` pass counts in, for the mass-deletion guard (see
 * DeletionWindow in engine/vanished.ts): deletions are judged together from one full pass
 * to the next, so that a tree deleted folder by folder is held back as a whole, as `run`
 * would hold it. The start and each periodic rescan begin a new window. A full pass the
 * session asks for in the middle of things (events lost, the watcher reopened, a retry
 * after an error) counts on in the same one: a large `rm -rf` overflows the event queue,
 * and each such pass, judged alone against the files still tracked, let its share through
 * (15,239 of 29,400 files archived before the guard held the rest). Those passes restart
 * the periodic rescan's timer, so a window older than a rescan interval (an hour where
 * there is no periodic rescan) ends at the next full pass all the same: deletions days
 * apart are not added up. Pure; the window lives in memory, so a new watch starts anew.
 */
import type { DeletionWindow } from "../engine/vanished.ts";
import type { Job } from "./scheduler.ts";

/** The full passes that begin a new window whatever its age. */
const FRESH_WINDOW = ["start", "periodic rescan"];
/** How long a window lasts at most where there is no periodic rescan: an hour, in ms. */
export const WINDOW_MAX_MS = 3_600_000;

/** The current window and when it began (ms since the epoch); empty before the first pass. */
export interface GuardWindow {
  current?: DeletionWindow;
  started?: number;
}

/**
 * The window `job`'s pass counts its deletions in at `now`, begun anew in `window` where
 * the rule above says so. `rescanIntervalMs`: the config's periodic rescan (0: none).
 */
export function windowFor(
  window: GuardWindow,
  job: Job,
  now: number,
  rescanIntervalMs: number,
): DeletionWindow {
  const old = window.started !== undefined &&
    now - window.started > (rescanIntervalMs || WINDOW_MAX_MS);
  if (!window.current || (job.kind === "full" && (FRESH_WINDOW.includes(job.reason) || old))) {
    window.current = { tracked: 0 };
    window.started = now;
  }
  return window.current;
}

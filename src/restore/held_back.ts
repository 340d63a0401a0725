/**
 * What `restore` and `history` say of deletions the mass-deletion guard held back
 * (`safety.max_delete_percent`): a run that holds them archives none, so the files it found
 * gone stay current in the backup, and a restore of a moment since gives them back beside
 * what replaced them (a folder renamed comes back under both names). Which runs still hold
 * some is read from their summaries (`StateStore.heldBackRuns`); this words the one
 * warning line. Pure: an interruption leaves nothing.
 */
import type { HeldRun } from "../state/run_queries.ts";

const iso = (ms: number) => new Date(ms).toISOString();

/** Runs named each in a warning; more are named by the first and the last. */
const NAMED_EACH = 5;

/**
 * "run 2 (started …) held back 3 deletions", or the same of several runs (a scheduled run
 * held back day after day: "365 runs, from run 2 to run 366 (…), held back …").
 */
function whoHeld(runs: readonly HeldRun[]): string {
  const last = runs.at(-1)!;
  const count = (n: number) => `${n} deletion${n === 1 ? "" : "s"}`;
  if (runs.length === 1) {
    return `run ${last.id} (started ${iso(last.startedAt)}) held back ${count(last.heldBack)}`;
  }
  const first = `the first started ${iso(runs[0].startedAt)}`;
  const ids = runs.map((r) => r.id);
  const names = runs.length <= NAMED_EACH
    ? `runs ${ids.slice(0, -1).join(", ")} and ${ids.at(-1)} (${first})`
    : `${runs.length} runs, from run ${ids[0]} to run ${ids.at(-1)} (${first}),`;
  return `${names} held back deletions (${count(last.heldBack)} the last)`;
}

/**
 * The warning of a restore of a moment after `runs` (one or more): the files they found
 * gone are restored as they were before, with the two ways out.
 */
export function heldBackRestoreWarning(runs: readonly HeldRun[]): string {
  const one = runs.length === 1;
  const when = one ? "" : " (when the first of them started)";
  return `WARNING: ${whoHeld(runs)} (safety.max_delete_percent): the files ${
    one ? "it" : "they"
  } ` +
    `found gone are restored as they were before ${one ? "it" : "them"}; run with --force to ` +
    `archive them, or restore with --at before ${iso(runs[0].startedAt)}${when}`;
}

/**
 * The warning of `history` of `path`, whose content is shown current, while `runs` hold
 * deletions back (none: no warning): it may be one of them.
 */
export function heldBackHistoryWarning(
  runs: readonly HeldRun[],
  path: string,
): string | undefined {
  if (runs.length === 0) return undefined;
  const they = runs.length === 1 ? "it" : "they";
  return `WARNING: ${whoHeld(runs)} (safety.max_delete_percent): if '${path}' is one of the ` +
    `files ${they} found gone, its content shown current is the one it had before; run with ` +
    "--force to archive them";
}

/**
 * The clock guard of `retention.keep_deleted_days`: the copies of deleted files in
 * _deleted/ are pruned by the clock, and a clock set ahead (a dead clock battery, a VM
 * restored with a wrong date, `date -s` a year on) would prune every one at once, the only
 * copies left of files the user deleted. The rule, for a pass about to make such prunes:
 * they are held back (none made, the rest of the pass unchanged) when the clock's now is
 * later than the latest time the backup recorded for a session (a `run` or watch session
 * before this one that finished, not held back: `vouchedRunTimes`; or this watch
 * session's own last full pass) by more than both
 *  - `keep_deleted_days`, or 30 days where it is longer: every deletion is recorded at a
 *    session's time, so past `keep_deleted_days` after the latest one, every copy in
 *    _deleted/ is due at once (all of them, beyond any `max_delete_percent`); past 30
 *    days a long keep loses a month's slice of deletions at once. A shorter gap prunes
 *    only copies that were due within that gap: what a late clock costs is then bounded;
 *  - twice the longest gap between the last 10 sessions recorded: a schedule's own rhythm
 *    never trips it (weekly runs with `keep_deleted_days` 7 prune every copy each week by
 *    design; a daily schedule's gap of a day or a weekend is far below either bound).
 * So a daily schedule never trips it, a machine left off for two months (or a week, where
 * `keep_deleted_days` is under a week) asks once (`run --force`, as the mass-deletion
 * guard does: the date is right, prune), and a clock a year ahead prunes nothing unsaid.
 * A session whose guard held prunes back records it (`clockHeld` in its summary), and its
 * times, the clock's in question, vouch for nothing: the next run with the clock still
 * ahead asks again, instead of finding a session a day before it. The counts of copies do
 * not enter the rule: a true absence and a clock ahead prune alike, only the times differ.
 * A watch session cannot be given --force: it holds the prunes back at each full pass
 * until a `run --force` (the date right) records a time; the user stops the watch first.
 * Pure: the clock and the times are given; nothing is left behind.
 */
import { DAY_MS } from "./retention.ts";

/** The longest gap before the prunes are held back, however long `keep_deleted_days`. */
export const FLOOR_MS = 30 * DAY_MS;

/** How many sessions' times set the schedule's rhythm (see above). */
export const RHYTHM_RUNS = 10;

/** Prunes held back, as the run's summary and `--json` say them. */
export interface ClockGuard {
  /** How many copies in _deleted/ would have been pruned. */
  copies: number;
  /** The clock's now (ms since the epoch). */
  clock: number;
  /** The latest time recorded for a session before this pass. */
  latestRun: number;
  /** The reason and the remedy, in one line. */
  message: string;
}

export interface GuardInput {
  /** The clock's now. */
  clock: number;
  /** Times recorded for the sessions before this pass, newest first (see above). */
  runs: number[];
  /** `keep_deleted_days`. */
  days: number;
  /** The prunes of _deleted/ copies the pass is about to make. */
  copies: number;
  /** `run --force`: prune all the same. */
  force?: boolean;
  /** In a watch session: the remedy says to stop it first. */
  watch?: boolean;
  /** `plan` (`run --dry-run`): said as what a run would hold back. */
  plan?: boolean;
  /** A command to run as the remedy names it, with the options that selected the backup. */
  hint?: (command: string) => string;
}

const iso = (t: number) => new Date(t).toISOString();
const inDays = (ms: number) => `${Math.floor(ms / DAY_MS)} day(s)`;

/** The prunes held back, or undefined where they may be made (see above). */
export function clockGuard(input: GuardInput): ClockGuard | undefined {
  const { clock, runs, days, copies } = input;
  if (input.force || copies === 0 || runs.length === 0) return undefined;
  const latestRun = runs[0];
  const gap = clock - latestRun;
  const rhythm = longestGap(runs.slice(0, RHYTHM_RUNS));
  const bound = Math.max(Math.min(days * DAY_MS, FLOOR_MS), 2 * rhythm);
  if (gap <= bound) return undefined;
  const force = `'${(input.hint ?? ((command) => command))("run --force")}'`;
  const remedy = input.watch
    ? `check the system clock; if the date is right, stop the watch and run ${force} once`
    : input.plan
    ? `check the system clock; if the date is right, ${force} prunes them`
    : "check the system clock; if the date is right, run again with --force";
  const held = input.plan ? "a run would not prune" : "were not pruned";
  const message = `${copies} copy(ies) of deleted files in _deleted/ ${held} ` +
    `(retention.keep_deleted_days ${days}): the clock (${iso(clock)}) is ${inDays(gap)} ` +
    `after the latest run this backup recorded (${iso(latestRun)}), more than ` +
    `${inDays(bound)}, so a clock set ahead may be what made them due; ${remedy}`;
  return { copies, clock, latestRun, message };
}

/** The longest gap between consecutive times, newest first (0 for fewer than two). */
function longestGap(times: number[]): number {
  let longest = 0;
  for (let i = 1; i < times.length; i++) longest = Math.max(longest, times[i - 1] - times[i]);
  return longest;
}

/**
 * Times a backup recorded ahead of the clock. A run made while the system clock was ahead
 * (a clock wrong at boot, a real-time clock kept in local time) records its clock's times,
 * and every later run records times just after them until the clock catches up (the state
 * keeps its times in order: `StateStore.recordedTime`). A moment given to `restore --at` is
 * then compared with times that are not the hour things happened, which is said (the
 * moment itself stands: it may be one of those times, copied from `history`), as `history`
 * says its times after the clock's now are an order, not an hour; and a session ending so
 * keeps its clock's time beside them for the clock guard (`withClock`). Pure: the clock is
 * given.
 */

/**
 * How far recorded times may run ahead of the clock unsaid (by a run too):
 * clocks adjusted by NTP step back by well under a second.
 */
export const CLOCK_AHEAD_MS = 1000;

const iso = (t: number) => new Date(t).toISOString();

/** What is amiss when the backup's latest time is ahead of the clock; else undefined. */
function aheadOfClock(latestRecorded: number, clock: number): string | undefined {
  if (latestRecorded - clock <= CLOCK_AHEAD_MS) return undefined;
  return `the backup recorded times up to ${iso(latestRecorded)}, later than this machine's ` +
    `clock (${iso(clock)}): a run was made while the clock was ahead, or the clock is ` +
    "behind now";
}

/**
 * What a run says when its clock is behind the time it records (`recorded`: just after the
 * latest the backup holds); else undefined.
 */
export function clockBehindNote(recorded: number, clock: number): string | undefined {
  if (recorded - clock <= CLOCK_AHEAD_MS) return undefined;
  return `the clock (${iso(clock)}) is behind the latest time this backup recorded ` +
    `(${iso(recorded)}): times are recorded as just after that until the clock catches up, ` +
    `so that 'restore --at' keeps their order; check the system clock`;
}

/**
 * What `restore --at` (and `ls --at`) says of its moment when the backup holds times ahead
 * of the clock, or undefined; `diff` says it of `--since` and `--until` (`option`), the
 * remedy its own. The moment is kept as given (a time copied from `history` is one of the
 * times recorded), but one after `inOrder`, the latest time recorded before the clock went
 * wrong, may leave out what runs recorded ahead stored before it, in the hour of the clock.
 * `hint`: a command as the remedy names it, with the options that selected the backup.
 */
export function atWarning(
  at: number,
  { latest, inOrder, clock }: { latest: number; inOrder: number; clock: number },
  hint: (command: string) => string = (command) => command,
  option: "--at" | "--since" | "--until" = "--at",
): string | undefined {
  const ahead = aheadOfClock(latest, clock);
  // Before the clock went wrong, or after every time recorded (the latest tree): in order.
  if (ahead === undefined || at <= inOrder || at >= latest) return undefined;
  const runs = inOrder === 0
    ? "all its runs were recorded ahead of the clock and"
    : `the runs recorded after ${iso(inOrder)}`;
  const history = `see '${hint("history PATH")}' for a file's contents in the order they ` +
    "were stored";
  const remedy = {
    "--at": `leave --at out to restore the latest, or ${history} and restore one by ` +
      "'--version N'",
    "--until": `leave --until out to compare with the latest, or ${history}`,
    "--since": `give --since a time '${hint("history")}' lists, or ${history}`,
  }[option];
  return `WARNING: ${option} ${iso(at)}: ${ahead}: ${runs} ` +
    `may have stored files before this moment that it leaves out: ${remedy}`;
}

/** `history`'s note when some of its times are ahead of the clock; else undefined. */
export function historyTimesNote(latestRecorded: number, clock: number): string | undefined {
  const ahead = aheadOfClock(latestRecorded, clock);
  return ahead && `Note: ${ahead}: times after ${iso(clock)} give the order contents were ` +
      "stored in, not the hour";
}

/**
 * A session's summary with `clockAt`, the clock's time at its end, where the end recorded
 * is ahead of it (the clock behind times recorded before): the clock guard takes that as
 * the session's time (run_queries.ts `vouchedRunTimes`), not the time recorded only to keep
 * the order, which would vouch for a clock set ahead again as far.
 */
export function withClock(summary: unknown, end: number, clock: number): unknown {
  if (end - clock <= CLOCK_AHEAD_MS || summary === null || typeof summary !== "object") {
    return summary;
  }
  return { ...summary, clockAt: clock };
}

/**
 * The `--at TIME` option of `restore` and `ls` (and `diff`'s `--since` and `--until`), read
 * one way for all: an ISO-8601 time (with Z or an offset, or local time), a date alone (the
 * end of that day) or a time before now (`2h`), parsed by restore/asof.ts; a local time where the zone cannot be known
 * is refused. A bad value is a UsageError (exit code 2). Pure apart from the time zone it
 * asks about.
 */
import { AT_FORMAT, isLocalTime, parseAt } from "../restore/asof.ts";
import { localZoneProblem } from "../restore/local_zone.ts";
import { UsageError } from "./args.ts";

/**
 * The moment `--at` (or `option`) names (ms since the epoch); undefined when it was not
 * given.
 */
export function atOption(atText: string | undefined, option = "--at"): number | undefined {
  if (atText === undefined) return undefined;
  const at = parseAt(atText);
  if (at === undefined) {
    throw new UsageError(`Invalid ${option} value '${atText}': expected ${AT_FORMAT}`);
  }
  const zone = isLocalTime(atText) ? localZoneProblem() : undefined;
  if (zone !== undefined) {
    throw new UsageError(
      `Cannot read ${option} '${atText}' as a local time: ${zone}: give the time with Z or an ` +
        "offset (2026-11-28T18:00+05:30)" +
        // Windows: Deno reads no TZ (local_zone.ts), so setting one mends nothing.
        (Deno.build.os === "windows" ? "" : ", or set TZ to a zone name (Asia/Kolkata)"),
    );
  }
  return at;
}

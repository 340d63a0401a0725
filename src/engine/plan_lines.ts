/**
 * The lines `plan` lists, as the run's log has them: one for each action the next run
 * would take, but for a file whose copy it leaves as it is, listed only with `all` (over
 * 100,000 files, a plan of ten changes was 100,000 lines; a copy whose mode or time the
 * run brings up to date is listed: its log line is a `SKIP:` too). With `all`, the run's
 * other lines for one entry each come in their place too: a special file, a file gone
 * while read, the backup root by another path (`SKIP …`); a file left out for its size
 * (`SKIP LARGE:`) is listed without `all` too. Errors and the delete guard are
 * the summary's, said as `run` says them. A dry run (planOnce): nothing is written, so an
 * interruption leaves nothing.
 */
import { basename } from "node:path";
import type { Config } from "../config/config.ts";
import { planOnce, type RunSummary } from "./backup.ts";
import { formatAction } from "../core/describe.ts";
import type { PassOptions } from "./pass_types.ts";
import type { Action } from "../core/types.ts";

interface PlanLinesOptions extends Pick<PassOptions, "rehash" | "force" | "onProgress"> {
  /** Every file planned, unchanged ones too, as the run logs them. */
  all: boolean;
}

/** Plans the next run, handing each line of its listing to `onLine` as it comes. */
export function planLines(
  config: Config,
  { all, ...opts }: PlanLinesOptions,
  onLine: (line: string) => void,
): Promise<RunSummary> {
  const rootName = basename(config.backupRoot);
  return planOnce(config, {
    ...opts,
    onPlanned: (a) => {
      if (all || !leftAsIs(a)) formatAction(a, rootName).forEach((line) => onLine(line));
    },
    // A file left out for its size is listed always: no pattern names it (large.ts).
    onLine: (line) => (all ? line.startsWith("SKIP ") : line.startsWith(LARGE)) && onLine(line),
  });
}

const LARGE = "SKIP LARGE: ";

/** Whether the run leaves a file's copy as it is (at most its row in the state renewed). */
function leftAsIs(a: Action): boolean {
  return a.type === "skip" && (a.refresh === undefined || a.refresh.recordOnly === true);
}

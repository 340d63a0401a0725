/**
 * `plan`: what the next `run` would do, changing nothing on disk. Files that changed are
 * still read and hashed, so on a terminal a progress line shows on stderr meanwhile.
 */
import { findConfigFile, loadConfig } from "../config/config.ts";
import { planOnce } from "../engine/backup.ts";
import { formatAction } from "../engine/describe.ts";
import { oneLine } from "../log/one_line.ts";
import { basename } from "node:path";
import { flag, parseCommand, str, UsageError } from "./args.ts";
import { withProgress } from "./progress.ts";
import { styleFor } from "./style.ts";
import {
  humanSummary,
  jsonSummary,
  printConfigWarnings,
  printErrors,
  publicAction,
} from "./summary.ts";
import { JsonList, writeJsonDocument, writeLines } from "./json_document.ts";
import type { Action } from "../engine/types.ts";
import { say } from "./stdout.ts";

export const PLAN_HELP =
  `Usage: backup-tool plan [--config FILE] [--json] [--all] [--quiet] [--rehash] [--force]

Prints the actions the next run would take, one per line (or a JSON document), without
changing anything: no copy, no state, no log file, no lock. Unchanged files are counted
in the summary, not listed (the run's log has a SKIP line for each: --all prints them too).

Options:
  --config FILE  Config file (default ./config.jsonc, then ./config.json)
  --json         Print one JSON document with every planned action (shape: docs/json.md)
  --all          Print a line for every file planned, unchanged ones too, as the run logs them
  --rehash       Plan as 'run --rehash' would: hash every file
  --force        Plan as 'run --force' would: ignore safety.max_delete_percent
  --quiet, -q    Print the actions but no summary (and no progress line)

Examples:
  backup-tool plan
  backup-tool plan --json | jq '.actions[] | select(.type != "skip")'`;

/** Whether the run leaves a file's copy as it is (at most its row in the state renewed). */
function leftAsIs(a: Action): boolean {
  return a.type === "skip" && (a.refresh === undefined || a.refresh.recordOnly === true);
}

export async function planCommand(argv: string[]): Promise<number> {
  const p = parseCommand("plan", argv, {
    boolean: ["json", "all", "quiet", "rehash", "force"],
  });
  if (flag(p, "help")) {
    say(PLAN_HELP);
    return 0;
  }
  if (p.positionals.length > 0) {
    throw new UsageError(`Unexpected argument '${p.positionals[0]}' for 'plan': see 'plan --help'`);
  }
  const config = loadConfig(findConfigFile(str(p, "config"), Deno.cwd()));
  printConfigWarnings(config);
  const json = flag(p, "json");
  // Each action is kept as text, not as the object the planner made (a third of its size).
  const actions = new JsonList();
  const lines: string[] = [];
  const rootName = basename(config.backupRoot);
  // As the log has them; a file whose copy is left as it is only with --all: over 100,000
  // files, a plan of ten changes was 100,000 lines. (A copy whose mode or time the run
  // brings up to date is listed: its log line is a `SKIP:` too.)
  const all = flag(p, "all");
  const onPlanned = json ? (a: Action) => actions.push(publicAction(a)) : (a: Action) => {
    if (all || !leftAsIs(a)) lines.push(...formatAction(a, rootName).map((l) => oneLine(l)));
  };
  // With --all, the run's other lines for one entry each, in their place: a special file, a
  // file gone while read, the backup root by another path (`SKIP …`). Errors and the guard
  // are said apart, below, as `run` says them.
  const onLine = json || !all
    ? undefined
    : (line: string) => line.startsWith("SKIP ") && lines.push(oneLine(line));
  const summary = await withProgress(
    "Planning",
    flag(p, "quiet"),
    (onProgress) =>
      planOnce(config, {
        rehash: flag(p, "rehash"),
        force: flag(p, "force"),
        onProgress,
        onPlanned,
        onLine,
      }),
  );
  if (json) {
    printErrors(summary.errors, summary.warnings, summary.deleteGuard);
    writeJsonDocument(jsonSummary("plan", summary, { actions }));
    return summary.exitCode;
  }
  writeLines(lines);
  // The guard's reason on stderr, as `run` gives it: `plan -q` exits 1 saying why (and a
  // newly excluded file's copy missing, which the plan looks for too).
  printErrors(summary.errors, summary.warnings, summary.deleteGuard);
  if (!flag(p, "quiet")) say(humanSummary("Plan", summary, styleFor("stdout")));
  return summary.exitCode;
}

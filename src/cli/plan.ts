/**
 * `plan`: what the next `run` would do, changing nothing on disk. Files that changed are
 * still read and hashed, so on a terminal a progress line shows on stderr meanwhile.
 * Parses the options, plans through the engine (planOnce, plan_lines.ts) and prints.
 */
import { type Config, findConfigFile, loadConfig } from "../config/config.ts";
import { planOnce } from "../engine/backup.ts";
import { planLines } from "../engine/plan_lines.ts";
import { oneLine } from "../log/one_line.ts";
import { flag, parseCommand, type Parsed, str, UsageError } from "./args.ts";
import { progressEnabled, withProgress } from "./progress.ts";
import { isTerminal, styleFor } from "./style.ts";
import {
  humanSummary,
  jsonSummary,
  printConfigWarnings,
  printErrors,
  printLeftLarge,
  publicAction,
} from "./summary.ts";
import { JsonList, LineWriter, writeJsonDocument, writeLines } from "./json_document.ts";
import type { Action } from "../core/types.ts";
import { say } from "./stdout.ts";

const PLAN_HELP =
  `Usage: backup-tool plan [--config FILE] [--json] [--all] [--quiet] [--rehash] [--force]

Prints the actions the next run would take, one per line (or a JSON document), without
changing anything: no copy, no state, no log file, no lock. Unchanged files are counted
in the summary, not listed (the run's log has a SKIP line for each: --all prints them too).

Options:
  --config FILE  Config file (default ./config.jsonc, then ./config.json)
  --json         Print one JSON document with every planned action (shape: docs/json.md)
  --all          Print a line for every file planned, unchanged ones too, as the run logs them
  --rehash       Plan as 'run --rehash' would: hash every file
  --force        Plan as 'run --force' would: ignore safety.max_delete_percent and the
                 clock guard of keep_deleted_days
  --quiet, -q    Print the actions but no summary (and no progress line)

Exit codes: 0 the run would go through, 1 it would hold deletions (or _deleted/ prunes)
back, a file could not be read, or a newly excluded file's stored copy is missing (said
as the run would say it), 2 usage or configuration error. It changes nothing, whatever
the code.

Examples:
  backup-tool plan
  backup-tool plan --json | jq '.actions[] | select(.type != "skip")'`;

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
  return await planParsed(p);
}

/** `plan` with its options read (`run --dry-run` comes here too, with run's). */
export async function planParsed(p: Parsed): Promise<number> {
  const config = loadConfig(findConfigFile(str(p, "config"), Deno.cwd()));
  printConfigWarnings(config);
  return flag(p, "json") ? await planDocument(config, p) : await planListing(config, p);
}

/** `--json`: one document with every action planned. */
async function planDocument(config: Config, p: Parsed): Promise<number> {
  // Each action is kept as text, not as the object the planner made (a third of its size).
  const actions = new JsonList();
  const onPlanned = (a: Action) => actions.push(publicAction(a));
  const summary = await withProgress(
    "Planning",
    flag(p, "quiet"),
    (onProgress) => planOnce(config, { ...passFlags(p), onProgress, onPlanned }),
  );
  printErrors(summary.errors, summary.warnings, summary.deleteGuard, summary.clockGuard);
  // The listing has them among its lines; the document in `leftLarge`, and stderr.
  printLeftLarge(summary.leftLarge, config.excludeLargerThan);
  writeJsonDocument(jsonSummary("plan", summary, { actions }));
  return summary.exitCode;
}

/**
 * The plan's lines, as the run's log has them (engine/plan_lines.ts), and its summary. The
 * lines are written as they are planned (kept, a plan of 200,000 new files held 27 MiB of
 * them), but where the progress line is drawn on the terminal they are shown on: there
 * they come once the plan is done, as they always did.
 */
async function planListing(config: Config, p: Parsed): Promise<number> {
  const quiet = flag(p, "quiet");
  const kept: string[] = [];
  const writer = new LineWriter();
  const streamed = !progressEnabled(quiet) || !isTerminal("stdout");
  const onLine = streamed
    ? (line: string) => writer.line(oneLine(line))
    : (line: string) => kept.push(oneLine(line));
  const summary = await withProgress(
    "Planning",
    quiet,
    (onProgress) => planLines(config, { ...passFlags(p), all: flag(p, "all"), onProgress }, onLine),
  );
  writer.end();
  writeLines(kept);
  // The guard's reason on stderr, as `run` gives it: `plan -q` exits 1 saying why (and a
  // newly excluded file's copy missing, which the plan looks for too).
  printErrors(summary.errors, summary.warnings, summary.deleteGuard, summary.clockGuard);
  if (!flag(p, "quiet")) say(humanSummary("Plan", summary, styleFor("stdout")));
  return summary.exitCode;
}

const passFlags = (p: Parsed) => ({ rehash: flag(p, "rehash"), force: flag(p, "force") });

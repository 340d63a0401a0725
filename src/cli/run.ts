/**
 * `run`: one backup pass over every source. The default command. On a terminal a live
 * progress line shows on stderr while the pass runs; the summary (or, with --json, the
 * one JSON document) goes to stdout and errors to stderr.
 */
import { oneLine } from "../log/one_line.ts";
import { findConfigFile, loadConfig } from "../config/config.ts";
import { backupOnce } from "../engine/backup.ts";
import { flag, parseCommand, str, UsageError } from "./args.ts";
import { withProgress } from "./progress.ts";
import { styleFor } from "./style.ts";
import {
  humanSummary,
  jsonSummary,
  printConfigWarnings,
  printErrors,
  printLeftLarge,
  sayDiskFullRemedy,
} from "./summary.ts";
import { writeJsonDocument } from "./json_document.ts";
import { stopGracefully } from "./stop.ts";
import { say, warn } from "./stdout.ts";

const RUN_HELP =
  `Usage: backup-tool run [--config FILE] [--json] [--rehash] [--force] [--quiet] [--dry-run]

Runs one incremental backup pass: new and changed files are copied, replaced contents are
kept in versions/, deleted files move to _deleted/, old versions beyond the retention limit
are removed. Every action is logged in log_dir. On a terminal, a progress line shows files
and bytes done, rate, ETA and the current file.

Options:
  --config FILE  Config file (default ./config.jsonc, then ./config.json)
  --json         Print one JSON summary on stdout (shape: docs/json.md)
  --rehash       Read and hash every file, even those whose size and times are unchanged
  --force        Archive deletions even beyond safety.max_delete_percent, and prune the
                 _deleted/ copies keep_deleted_days made due even with the clock far ahead
                 of the last run (the date is right)
  --quiet, -q    Print nothing but problems, on stderr: errors, warnings, the files left
                 out for their size (SKIP LARGE) and the notes that need a human (the clock
                 behind, a source moved or left out of the config); no progress line
  --dry-run, -n  Change nothing: print what the run would do, as 'plan' does (its lines,
                 its summary or, with --json, its document)

Exit codes: 0 ok, 1 some files failed, deletions (or _deleted/ prunes) were held back or
a stored copy was found missing, 2 usage or configuration error (nothing changed), 3
another run holds the backup root's lock; 130, 143 or 129: stopped by SIGINT (Ctrl-C),
SIGTERM or SIGHUP after the batch in progress (a second signal stops at once), the rest
left for the next run.

Examples:
  backup-tool run
  backup-tool run --config ~/backup.jsonc
  backup-tool run --json | jq .counts`;

export async function runCommand(argv: string[]): Promise<number> {
  const p = parseCommand("run", argv, {
    boolean: ["json", "quiet", "rehash", "force", "dry-run"],
    short: { n: "dry-run" },
  });
  if (flag(p, "help")) {
    say(RUN_HELP);
    return 0;
  }
  if (p.positionals.length > 0) {
    throw new UsageError(`Unexpected argument '${p.positionals[0]}' for 'run': see 'run --help'`);
  }
  // As rsync's and restic's --dry-run: the plan, which writes nothing (no lock, no log);
  // loaded only then, as main.ts loads each command's module, to keep a run's start short.
  if (flag(p, "dry-run")) return await (await import("./plan.ts")).planParsed(p);
  const config = loadConfig(findConfigFile(str(p, "config"), Deno.cwd()));
  printConfigWarnings(config);
  // A stop signal (Ctrl-C, a service stopped) ends the run after the batch in progress,
  // committed; a second one at once, which the next run's recovery covers.
  const stop = stopGracefully("the next run completes the interrupted batch");
  const json = flag(p, "json");
  let summary;
  try {
    summary = await withProgress(
      "Backing up",
      flag(p, "quiet"),
      (onProgress) =>
        backupOnce(config, {
          rehash: flag(p, "rehash"),
          force: flag(p, "force"),
          onProgress,
          signal: stop.signal,
          // Said at once, before any progress line is drawn (a JSON document carries it in
          // its notice): this run may be killed in turn before its summary.
          onUnfinished: json ? undefined : (note) => warn(oneLine(`Note: ${note}`)),
        }),
    );
  } finally {
    stop.dispose();
  }
  printErrors(summary.errors, summary.warnings, summary.deleteGuard, summary.clockGuard);
  sayDiskFullRemedy(summary.errors, config.backupRoot);
  printLeftLarge(summary.leftLarge, config.excludeLargerThan);
  const stoppedCode = summary.stopped ? stop.exitCode() : undefined;
  if (json) writeJsonDocument(jsonSummary("run", summary, { stoppedCode }));
  else if (!flag(p, "quiet") || summary.stopped) {
    const title = summary.stopped ? "Backup stopped before it finished" : "Backup complete";
    say(humanSummary(title, summary, styleFor("stdout")));
  } else if (summary.quietNotice) {
    // What needs a human (the clock wrong, a source's folder changed, a source left out of
    // the config) is said by a quiet run too: a scheduled job's mail should say it.
    warn(oneLine(`Note: ${summary.quietNotice}`));
  }
  return stoppedCode ?? summary.exitCode;
}

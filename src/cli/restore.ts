/**
 * `restore`: brings files back from the backup, the latest contents or as of a moment or a
 * version number, into their source folder or under `--to DIR`. Parses the options into
 * a request, has restore/request.ts carry it out (the state read read-only without the
 * run lock, each file written atomically: an interruption leaves complete files and at
 * most two batches of hidden temporary files) and prints what became of each file.
 */
import { resolve } from "node:path";
import { configForReading } from "../restore/bare_root.ts";
import { type RestoreRequest, restoreRequest } from "../restore/request.ts";
import { stopGracefully } from "./stop.ts";
import { atOption } from "./at_option.ts";
import { FILTER_OPTIONS, filterOption } from "./filter_option.ts";
import type { HeldRun } from "../state/run_queries.ts";
import { flag, parseCommand, type Parsed, refuseEmptyPaths, str, UsageError } from "./args.ts";
import { choosingHooks, printRestore, printResultLine, RestoreTally } from "./restore_output.ts";
import { madeFolderLine, printFolderProblems } from "./restore_folders.ts";
import { say } from "./stdout.ts";
import { checkStdoutOptions, restoreToStdout, TO_STDOUT } from "./restore_stdout.ts";

const RESTORE_HELP =
  `Usage: backup-tool restore [PATH...] [--to DIR] [--at TIME] [--version N] [--overwrite]
                           [--include PATTERN]... [--exclude PATTERN]... [--dry-run]
                           [--config FILE | --backup-root DIR] [--json] [--quiet]
       backup-tool restore PATH --to - [--at TIME | --version N] [--quiet]

Restores files from the backup. PATH is relative to the source root (docs/a.txt), or
written as the logs show it, the source's name in front (source/docs/a.txt; required
with several sources), or absolute, or, given from a folder inside a source, ./ or ../
from there; a folder restores everything under it; no PATH restores everything.
Without --at or --version: each tracked file's latest content (files deleted from the
source are not restored unless --at names a time when they existed). The folders that
stood then are made too, empty ones included (docs/restore.md): each made for itself
(no file restored in it) is said, MADE FOLDER, and counted in the summary. Restored files
get their recorded mode and modification time (and, run as root, their owner and group),
are written atomically and checked against their recorded hash. Names the backup recorded
as one file (hard links) are restored as hard links of one another, where the disk allows.

Options:
  --to DIR       Write under DIR, keeping relative paths (default: back into the source)
  --to -         Write one file's content to standard output (as tar -O, curl -o -): PATH
                 names one file; the bytes restore would write, checked against the
                 recorded hash (a file up to 8 MiB before any is written, another copy of
                 the same bytes read where its own is damaged; a larger one as it streams:
                 a mismatch found then ends it with 'the output is damaged', a copy the
                 disk cannot read on with 'the output is cut short', exit 1);
                 every message on stderr; a reader gone (| head) ends it quietly, exit 0;
                 a folder, several PATHs, --include, --exclude, --overwrite, --dry-run and
                 --json are refused (exit 2); a folder named '-' is --to ./-
  --at TIME      The tree as it was at TIME: ISO-8601, e.g. 2026-11-28T18:00:00Z, or
                 2026-11-28T18:00 (local time), or a date alone: the end of that day,
                 or a time before now: 90m, 2h, 3d, 1w2d (weeks, days, hours, minutes,
                 seconds; a day is 24 hours)
  --version N    Content number N of one file (as 'history PATH' lists it)
  --include PATTERN
                 Only the files PATTERN matches (repeatable: any of them), in the config's
                 exclude syntax: '*.xlsx', 'node_modules/' (a folder: all below it), '/top'
                 (at the source's root), '**', '!' (an exception to the patterns before
                 it); letter case ignored; matched against each file's path inside its
                 source (not from the PATH: a PATH narrows the tree, the patterns filter
                 the files under it; to keep to one source, give it as a PATH)
  --exclude PATTERN
                 None of the files PATTERN matches (repeatable), read as --include is.
                 An --include that matches no file asked for is said (NOT RESTORED,
                 exit 1), the files the others keep restored; an --exclude that matches
                 none leaves nothing out (a NOTE says so, exit code unchanged)
  --overwrite    Replace existing files whose content differs (default: leave them, exit 1)
  --dry-run, -n  Say what the restore would do to each file, writing nothing (no folder,
                 no temporary file): WOULD RESTORE, UP TO DATE, WOULD REPLACE (with
                 --overwrite), WOULD LEAVE (other content there) or WOULD NOT RESTORE
                 (a refusal, with why), and WOULD MAKE FOLDER for each folder not
                 there it would make for itself (empty ones), WOULD NOT MAKE FOLDER (with
                 why) where a file or a symlink stands in its place; exit code as the
                 restore would give, but for what only a write tells: the stored
                 copies are not read (verify checks them), nor the disk probed for
                 what it keeps (on FAT or exFAT, a file of the same bytes is WOULD
                 REPLACE with --overwrite where the restore finds it up to date:
                 docs/restore.md), nor a folder tried for writing
  --config FILE  Config file (default ./config.jsonc, then ./config.json)
  --backup-root DIR
                 Read the backup in DIR without a config (the computer and its config
                 lost): its sources as the backup recorded them; in place means back to
                 the folders they were backed up from
  --json         Print one JSON document: restored (with a warning where a content was
                 read from another copy of the same bytes or the file is excluded since,
                 and hardLinkOf where a file was made a hard link of another),
                 upToDate, failed, notes (a disk that keeps no modes or no hard links,
                 an --exclude that matched nothing, a '!' pattern that takes no file
                 back, where met), heldBack (the runs whose deletion guard held deletions
                 back, where any did), diskFull (a destination disk found full, and how
                 many files were not tried there), and stopped: true when a stop signal
                 cut it short; with --at, at (the moment, as read); with --dry-run,
                 dryRun: true and what would be done (replaces: true where a file would
                 be replaced); folders (those made for themselves, as the MADE
                 FOLDER lines say; with --dry-run those it would make); with
                 --include or --exclude, filter (the patterns as given)
  --quiet, -q    Print nothing but problems

A destination disk that runs full (no space left, or a quota) stops the restore at the
first file it refuses: no later file is written there, and one line says how many were
restored and not; free space and run the same restore again to finish.

Ctrl-C (SIGINT), SIGTERM or SIGHUP stops it once the files being flushed are in place
(what it restored is complete; restore again to finish), a second signal at once.

Exit codes: 0 all restored or up to date, 1 some file not restored (each is named, or
counted where its disk was full) or a folder not made, or an --include matched nothing
(or the patterns together keep no file), 2 usage or configuration error, 130, 143 or 129
stopped by SIGINT, SIGTERM or SIGHUP.

Examples:
  backup-tool restore docs/report.odt --to /tmp/restored
  backup-tool restore docs --at 2026-11-28T18:00:00Z --to /tmp/yesterday
  backup-tool restore docs/report.odt --version 3 --overwrite
  backup-tool restore notes/todo.txt --at 2d --to - | diff - notes/todo.txt
  backup-tool restore --at 2026-11-28T18:00:00Z --dry-run
  backup-tool restore --at 2026-11-27 --to /mnt/spare/full-restore
  backup-tool restore --at 2026-12-01 --include '*.xlsx' --to /tmp/r
  backup-tool restore docs --exclude '*.iso'
  backup-tool restore --backup-root /media/usb/backup --to ~/restored`;

/** What a stop at once leaves, and what to do about it. */
const LEFT_BY_A_STOP_AT_ONCE =
  "hidden .backup-tool-restore-*.tmp files may be left beside the files restored; " +
  "delete them, or restore again and then delete them";

export async function restoreCommand(argv: string[]): Promise<number> {
  const p = parseCommand("restore", argv, {
    paths: true,
    boolean: ["json", "quiet", "overwrite", "dry-run"],
    string: ["to", "at", "version", "backup-root", ...FILTER_OPTIONS],
    multiple: FILTER_OPTIONS,
    short: { n: "dry-run" },
  });
  if (flag(p, "help")) {
    say(RESTORE_HELP);
    return 0;
  }
  refuseEmptyPaths("restore", p);
  const toStdout = str(p, "to") === TO_STDOUT;
  if (toStdout) checkStdoutOptions(p);
  const request = readRequest(p);
  const config = configForReading("restore", str(p, "config"), str(p, "backup-root"));
  if (toStdout) return await restoreToStdout(config, request, flag(p, "quiet"));
  const json = flag(p, "json");
  const quiet = flag(p, "quiet") || json;
  const dryRun = request.dryRun === true;
  const tally = new RestoreTally(json);
  // With --json, in the document (docs/json.md), not on stderr.
  let heldBack: HeldRun[] = [];
  const outcome = await restoreRequest(config, request, {
    ...choosingHooks(json, (runs) => heldBack = runs),
    onResult: (r) => {
      tally.add(r);
      if (!quiet) printResultLine(r, dryRun);
    },
    onFolderMade: (f) => {
      tally.addFolder(f);
      if (!quiet) say(madeFolderLine(f.logical, f.dest, false));
    },
    // Asked only by a restore that writes: a dry run, which writes nothing, is ended by a
    // signal at once, as any reading command.
    listenForStop: () => stopGracefully(LEFT_BY_A_STOP_AT_ONCE),
  });
  const { problems, folderProblems, notes, stoppedCode, wouldMake } = outcome;
  for (const f of wouldMake ?? []) {
    tally.addFolder(f);
    if (!quiet) say(madeFolderLine(f.logical, f.dest, true));
  }
  printFolderProblems(folderProblems, dryRun);
  const filter = request.filter?.patterns;
  const opts = {
    json,
    quiet,
    at: request.at,
    stoppedCode,
    notes,
    heldBack,
    dryRun,
    filter,
    foldersNotMade: folderProblems.filter((f) => f.notMade),
  };
  return printRestore(tally, problems, opts);
}

/** The request the options and PATHs make; a UsageError for options that do not go together. */
function readRequest(p: Parsed): RestoreRequest {
  const atText = str(p, "at");
  const versionText = str(p, "version");
  if (atText !== undefined && versionText !== undefined) {
    throw new UsageError("Cannot use --at with --version: pick a time or a version number");
  }
  const toText = str(p, "to");
  if (toText === "") throw new UsageError("Invalid --to: give a folder path");
  const filter = filterOption("restore", p);
  if (filter !== undefined && versionText !== undefined) {
    throw new UsageError(
      "Cannot use --include or --exclude with --version: it picks one file's content; " +
        "give the file's PATH alone",
    );
  }
  const req: RestoreRequest = {
    paths: p.positionals,
    to: toText === undefined || toText === TO_STDOUT ? undefined : resolve(toText),
    overwrite: flag(p, "overwrite"),
    ...flag(p, "dry-run") ? { dryRun: true } : {},
    ...filter === undefined ? {} : { filter },
  };
  const at = atOption(atText);
  if (at !== undefined) req.at = at;
  if (versionText !== undefined) {
    if (!/^[1-9]\d*$/.test(versionText) || !Number.isSafeInteger(Number(versionText))) {
      throw new UsageError(`Invalid --version value '${versionText}': expected a number from 1 up`);
    }
    req.version = Number(versionText);
  }
  return req;
}

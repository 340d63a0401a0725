/**
 * `restore`: brings files back from the backup, the latest contents or as of a moment or a
 * version number, into their source folder or under `--to DIR`. Reads the state
 * read-only without the run lock; each file is written atomically (see restore/write.ts),
 * so an interruption leaves complete files and at most two batches of hidden temporary
 * files (restore/batches.ts).
 */
import type { FolderProblem } from "../restore/made_folders.ts";
import { dirname, resolve } from "node:path";
import { isInside, realTarget } from "../config/paths.ts";
import { osDetail } from "../config/errors.ts";
import { AT_FORMAT, isLocalTime, parseAt, type Selector } from "../restore/asof.ts";
import { localZoneProblem } from "../restore/local_zone.ts";
import { othersHoldingAnyAlgo } from "../restore/other_algos.ts";
import { restoredHere, selectForRestore } from "../restore/select.ts";
import { openState, resolverFor, runningNow } from "../restore/open.ts";
import { configForReading } from "../restore/bare_root.ts";
import type { PathResolver } from "../restore/paths.ts";
import type { RestoreItem, RestoreResult } from "../restore/restore_item.ts";
import { missingFolders, removeQuietly } from "../engine/fsops.ts";
import { knownFolderIdentity } from "../engine/identity.ts";
import { restoreAll } from "../restore/batches.ts";
import { stopGracefully } from "./stop.ts";
import { otherMountsOf } from "../engine/mounts.ts";
import type { StoredCopy } from "../state/store.ts";
import { flag, parseCommand, type Parsed, refuseEmptyPaths, str, UsageError } from "./args.ts";
import { errorText, PreflightError } from "../engine/errors.ts";
import { printRestore, type Problem, RestoreTally } from "./restore_output.ts";
import { oneLine } from "../log/one_line.ts";
import { asRecorded } from "../restore/logged_path.ts";
import { movedTo, unfinishedWarning, unfinishedWork } from "../restore/unfinished.ts";
import { atWarning } from "../engine/clock_ahead.ts";
import { say, warn } from "./stdout.ts";

export const RESTORE_HELP =
  `Usage: backup-tool restore [PATH...] [--to DIR] [--at TIME] [--version N] [--overwrite]
                           [--config FILE | --backup-root DIR] [--json] [--quiet]

Restores files from the backup. PATH is relative to the source root (docs/a.txt), or
written as the logs show it, the source's name in front (source/docs/a.txt; required
with several sources), or absolute, or, given from a folder inside a source, ./ or ../
from there; a folder restores everything under it; no PATH restores everything.
Without --at or --version: each tracked file's latest content (files deleted from the
source are not restored unless --at names a time when they existed). Restored files get
their recorded mode and modification time (and, run as root, their owner and group), are
written atomically and checked against their recorded hash. Names the backup recorded as
one file (hard links) are restored as hard links of one another, where the disk allows.

Options:
  --to DIR       Write under DIR, keeping relative paths (default: back into the source)
  --at TIME      The tree as it was at TIME: ISO-8601, e.g. 2026-11-28T18:00:00Z, or
                 2026-11-28T18:00 (local time), or a date alone: the end of that day
  --version N    Content number N of one file (as 'history PATH' lists it)
  --overwrite    Replace existing files whose content differs (default: leave them, exit 1)
  --config FILE  Config file (default ./config.jsonc, then ./config.json)
  --backup-root DIR
                 Read the backup in DIR without a config (the computer and its config
                 lost): its sources as the backup recorded them; in place means back to
                 the folders they were backed up from
  --json         Print one JSON document: restored (with a warning where a content was
                 read from another copy of the same bytes, and hardLinkOf where a file
                 was made a hard link of another), upToDate, failed, notes (a disk
                 that keeps no modes or no hard links, where met), and stopped: true
                 when a stop signal cut it short
  --quiet, -q    Print nothing but problems

Ctrl-C (SIGINT), SIGTERM or SIGHUP stops it once the files being flushed are in place
(what it restored is complete; restore again to finish), a second signal at once.

Exit codes: 0 all restored or up to date, 1 some file not restored (each is named),
2 usage or configuration error, 130, 143 or 129 stopped by SIGINT, SIGTERM or SIGHUP.

Examples:
  backup-tool restore docs/report.odt --to /tmp/restored
  backup-tool restore docs --at 2026-11-28T18:00:00Z --to /tmp/yesterday
  backup-tool restore docs/report.odt --version 3 --overwrite
  backup-tool restore --at 2026-11-27 --to /mnt/spare/full-restore
  backup-tool restore --backup-root /media/usb/backup --to ~/restored`;

interface Request {
  at?: number;
  version?: number;
  to?: string;
  overwrite: boolean;
}

export async function restoreCommand(argv: string[]): Promise<number> {
  const p = parseCommand("restore", argv, {
    paths: true,
    boolean: ["json", "quiet", "overwrite"],
    string: ["to", "at", "version", "backup-root"],
  });
  if (flag(p, "help")) {
    say(RESTORE_HELP);
    return 0;
  }
  refuseEmptyPaths("restore", p);
  const req = readRequest(p);
  const config = configForReading("restore", str(p, "config"), str(p, "backup-root"));
  req.to = realTo(req.to, config.backupRoot);
  // Open while restoring: the state is read as the restore goes (the PATHs' records, or
  // everything a page of paths at a time), never held whole.
  const store = openState(config);
  try {
    if (req.at !== undefined) {
      const clock = Date.now();
      const times = { latest: store.latestRunTime(), inOrder: store.latestRunTime(clock), clock };
      const ahead = atWarning(req.at, times);
      if (ahead) warn(ahead);
    }
    const resolver = resolverFor(config, store);
    const targets = p.positionals.map((t) => asRecorded(resolver, t));
    const selector = selectorFor(req, targets, p.positionals, resolver);
    const root = config.backupRoot;
    const others = p.positionals.map((t, i) =>
      resolver.otherReading(t) ?? resolver.leftReading(targets[i])
    );
    const selection = selectForRestore(
      store,
      root,
      selector,
      targets,
      p.positionals,
      req.at,
      others,
      // A PATH copied from a look at the backup root (`versions/a.txt/v2.bak`): whose copy
      // (asked only for a PATH never recorded: see selectForRestore).
      (given, target) => resolver.storedCopyHintFor(given, target),
    );
    const problems = selection.problems;
    const json = flag(p, "json");
    const quiet = flag(p, "quiet") || json;
    const unfinished = unfinishedWork(store.pendingIntents());
    // Runs cut short after a commit, as of the moment restored (a version is itself).
    const cut = req.version === undefined ? store.cutRuns(req.at) : undefined;
    const warning = unfinishedWarning(unfinished, "restores", runningNow(config), cut, req.at);
    if (warning) warn(warning);
    const tally = new RestoreTally(json);
    const stop = stopGracefully(
      "hidden .backup-tool-restore-*.tmp files may be left beside the files restored; " +
        "delete them, or restore again and then delete them",
    );
    const madeTo = req.to === undefined ? [] : makeTo(req.to);
    let stopped: boolean;
    let folderProblems: FolderProblem[];
    let notes: string[];
    try {
      ({ stopped, folderProblems, notes } = await restoreAll(
        root,
        destinations(selection.contents, resolver, req.to, problems),
        {
          overwrite: req.overwrite,
          fallbacksFor: (copies) =>
            othersHoldingAnyAlgo(root, copies, () => store.eachStoredCopy()),
          movedOf: (storedAt) => movedTo(unfinished, storedAt),
          // Asked only of a copy that could not be read.
          prunedOf: (storedAt) => unfinished.pruned.has(storedAt),
          onResult: (r) => {
            tally.add(r);
            if (!quiet) printLine(r);
          },
          signal: stop.signal,
          folderMetaOf: (logical) => store.folderMeta(logical),
          restoredHere: restoredHere(store, selector, targets),
        },
      ));
    } finally {
      stop.dispose();
      // Nothing restored: the --to folders made for it go again (each only if empty).
      if (tally.restored === 0 && tally.upToDate === 0) madeTo.forEach(removeQuietly);
    }
    for (const f of folderProblems) {
      warn(
        oneLine(`WARNING: ${f.folder}: its recorded mode or time not set: ${f.reason}`),
      );
    }
    const stoppedCode = stopped ? stop.exitCode() : undefined;
    return printRestore(tally, problems, { json, quiet, at: req.at, stoppedCode, notes });
  } finally {
    store.close();
  }
}

/**
 * The `--to` folder as its real path (as given where it does not exist yet), refused when
 * it lies inside the backup root, however it is named (a symlink to the root does not get
 * past): restoring there could replace stored copies. One that holds the backup root is
 * taken; the files that would land inside the root are each refused (write.ts).
 */
function realTo(to: string | undefined, root: string): string | undefined {
  if (to === undefined) return undefined;
  let real: string;
  try {
    real = realTarget(to, "--to", "it");
  } catch (e) {
    throw new UsageError(`Cannot restore into '${to}': ${errorText(e)}`);
  }
  const inside = (r: string) => real === r || isInside(real, r);
  if (inside(root) || otherMountsOf(root).some(inside) || isBelowFolder(real, root)) {
    throw new UsageError(
      `Cannot restore into '${to}': it is inside the backup root '${root}': ` +
        `choose a folder outside it`,
    );
  }
  return real;
}

/**
 * Makes the --to folder before anything is written: one that cannot be made is one line
 * and exit 2, not a line for every file. Returns the folders it made, deepest first.
 */
function makeTo(to: string): string[] {
  const made = missingFolders(to);
  try {
    Deno.mkdirSync(to, { recursive: true });
  } catch (e) {
    // Exit code 2 changes nothing: the folders made before the one that failed go again.
    made.forEach(removeQuietly);
    throw new PreflightError(
      `Cannot restore into '${to}': ${osDetail(e)}: choose a folder you can write to`,
    );
  }
  return made;
}

/** Whether `path` is the folder `root` or below it, by device and inode (a bind mount). */
function isBelowFolder(path: string, root: string): boolean {
  const id = knownFolderIdentity(root);
  if (id === undefined) return false;
  for (let at = path;; at = dirname(at)) {
    if (knownFolderIdentity(at) === id) return true;
    if (dirname(at) === at) return false;
  }
}

/** Where each content goes, as it comes; one with nowhere to go is added to `problems`. */
function* destinations(
  chosen: Iterable<StoredCopy>,
  resolver: PathResolver,
  to: string | undefined,
  problems: Problem[],
): Generator<RestoreItem> {
  for (const copy of chosen) {
    try {
      yield { copy, ...resolver.destination(copy.path, to) };
    } catch (e) {
      problems.push({ path: copy.path, version: copy.seq, kind: "error", reason: errorText(e) });
    }
  }
}

function readRequest(p: Parsed): Request {
  const atText = str(p, "at");
  const versionText = str(p, "version");
  if (atText !== undefined && versionText !== undefined) {
    throw new UsageError("Cannot use --at with --version: pick a time or a version number");
  }
  const toText = str(p, "to");
  if (toText === "") throw new UsageError("Invalid --to: give a folder path");
  const req: Request = {
    to: toText === undefined ? undefined : resolve(toText),
    overwrite: flag(p, "overwrite"),
  };
  if (atText !== undefined) {
    const at = parseAt(atText);
    if (at === undefined) {
      throw new UsageError(`Invalid --at value '${atText}': expected ${AT_FORMAT}`);
    }
    const zone = isLocalTime(atText) ? localZoneProblem() : undefined;
    if (zone !== undefined) {
      throw new UsageError(
        `Cannot read --at '${atText}' as a local time: ${zone}: give the time with Z or an ` +
          "offset (2026-11-28T18:00+05:30), or set TZ to a zone name (Asia/Kolkata)",
      );
    }
    req.at = at;
  }
  if (versionText !== undefined) {
    if (!/^[1-9]\d*$/.test(versionText) || !Number.isSafeInteger(Number(versionText))) {
      throw new UsageError(`Invalid --version value '${versionText}': expected a number from 1 up`);
    }
    req.version = Number(versionText);
  }
  return req;
}

function selectorFor(
  req: Request,
  targets: string[],
  given: string[],
  resolver: PathResolver,
): Selector {
  if (req.version !== undefined) {
    if (targets.length !== 1) {
      throw new UsageError(
        "Cannot use --version without exactly one file PATH: it picks one file's version",
      );
    }
    if (!resolver.isFile(targets[0]) && resolver.isFolder(targets[0])) {
      throw new UsageError(`Cannot use --version with folder '${given[0]}': give one file PATH`);
    }
    return { kind: "version", path: targets[0], seq: req.version };
  }
  return req.at === undefined ? { kind: "latest" } : { kind: "at", time: req.at };
}

function printLine(r: RestoreResult): void {
  if (r.outcome === "restored") {
    const link = r.hardLinkOf === undefined ? "" : ` (a hard link of '${r.hardLinkOf}')`;
    say(oneLine(`RESTORED: ${r.copy.path} (v${r.copy.seq}) → ${r.dest}${link}`));
  } else if (r.outcome === "up-to-date") {
    say(oneLine(`UP TO DATE: ${r.copy.path} (${r.dest})`));
  }
}

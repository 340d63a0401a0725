/**
 * Console output of `restore`: problems on stderr (each names the path and why), and
 * warnings for contents read from another stored copy than their own, the summary line, or
 * the `--json` document `{ command, ok, exitCode, stopped?, at, filter?, restored, upToDate,
 * failed, diskFull?, notes?, heldBack?, folders? }` (a file restored as a hard link of another
 * names it: `hardLinkOf`; `heldBack`: the runs whose guard held deletions back, said on stderr
 * without it; `folders`: restore_folders.ts). A destination disk found full (restore/full_disks.ts) is said in the summary's one
 * line, its files counted, not named a line each (in --json each is in `failed`). Results
 * are counted as they come; each file restored is kept only for `--json`, which lists them
 * (as a line of JSON text each, written out a piece at a time).
 */
import type { RestoreResult } from "../restore/restore_item.ts";
import type { FolderProblem } from "../restore/made_folders.ts";
import {
  type EndedFiles,
  endedSaid,
  type ExcludedRoot,
  LEFT_OUT_BY,
  LEFT_OUT_HOW,
} from "../restore/excluded.ts";
import { jsonProblem, type Problem } from "../restore/select.ts";
import type { HeldRun } from "../state/run_queries.ts";
import { oneLine } from "../log/one_line.ts";
import { JsonList, writeJsonDocument } from "./json_document.ts";
import { say, warn } from "./stdout.ts";
import { sayOpenFilesRemedy } from "./summary.ts";
import { twinText } from "../restore/twins.ts";
import { heldBackRestoreWarning } from "../restore/held_back.ts";
import { type FilterPatterns, filterText } from "../restore/path_filter.ts";
import { filterField } from "./filter_option.ts";
import {
  foldersField,
  foldersMadeText,
  foldersNotMadeFailed,
  foldersNotMadeText,
} from "./restore_folders.ts";

export type { Problem } from "../restore/select.ts";

/** A file restored or up to date, as `--json` lists it. */
interface Done {
  path: string;
  version: number;
  to: string;
  /** Restored as a hard link of this file (restore/hard_links.ts). */
  hardLinkOf?: string;
  /** A dry run's: it would replace the file there (--overwrite). */
  replaces?: boolean;
  warning?: string;
}

/** Files not restored for want of room on one disk. */
interface FullDiskCount {
  /** What the system said of the first write it refused. */
  error: string;
  /** Writes it refused (the first, and any in a batch placed meanwhile). */
  failed: number;
  /** Files bound for it afterwards, not tried. */
  notTried: number;
}

/** What a restore did, counted as each result comes. */
export class RestoreTally {
  restored = 0;
  upToDate = 0;
  /** Of those, twins restored under another name (restore/twins.ts). */
  renamed = 0;
  /** Of those restored, the ones made hard links of another (restore/hard_links.ts). */
  linked = 0;
  /** Folders made for themselves (a dry run's: it would make), restore_folders.ts. */
  foldersMade = 0;
  /** Every file restored or up to date, and folder made: kept only when all are listed. */
  readonly listed = { restored: new JsonList(), upToDate: new JsonList(), folders: new JsonList() };
  /** Files restored from another copy than their own. */
  readonly warnings: Done[] = [];
  readonly problems: Problem[] = [];
  /**
   * The disks found full (restore/full_disks.ts), by the restore's folder where each was:
   * said in one line, not a line a file; their files are in `fullDiskProblems` for --json.
   */
  readonly fullDisks = new Map<string, FullDiskCount>();
  readonly fullDiskProblems: Problem[] = [];

  constructor(readonly keepAll: boolean) {}

  addFolder(f: { logical: string; dest: string }): void {
    this.foldersMade++;
    if (this.keepAll) this.listed.folders.push({ path: `${f.logical}/`, to: f.dest });
  }

  add(r: RestoreResult): void {
    if (r.fullDisk !== undefined) {
      const { at, error, skipped } = r.fullDisk;
      const disk = this.fullDisks.get(at) ?? { error, failed: 0, notTried: 0 };
      this.fullDisks.set(at, disk);
      if (skipped) disk.notTried++;
      else disk.failed++;
      // The first refused write is kept whatever the output; the others only for --json.
      if (!skipped || this.keepAll) this.fullDiskProblems.push(toProblem(r));
      return;
    }
    if (r.reason !== undefined) {
      this.problems.push(toProblem(r));
      return;
    }
    // A twin under another name: said first (its other note, if any, after it). A file
    // excluded since is said once for its folder (printExcludedRoots), but in --json each.
    const twin = r.twin && twinText(r.twin, { as: r.dest });
    const shown = [twin, r.note].filter((w) => w !== undefined).join("; ");
    const warning = [twin, r.note, r.excludedNote].filter((w) => w !== undefined).join("; ");
    if (twin !== undefined) this.renamed++;
    const done: Done = {
      path: r.copy.path,
      version: r.copy.seq,
      to: r.dest,
      ...r.hardLinkOf === undefined ? {} : { hardLinkOf: r.hardLinkOf },
      ...r.replaces ? { replaces: true } : {},
      ...warning === "" ? {} : { warning },
    };
    if (r.outcome === "restored") {
      this.restored++;
      if (r.hardLinkOf !== undefined) this.linked++;
      if (this.keepAll) this.listed.restored.push(done);
      if (shown !== "") this.warnings.push({ ...done, warning: shown });
    } else if (r.outcome === "up-to-date") {
      this.upToDate++;
      if (this.keepAll) this.listed.upToDate.push(done);
      if (shown !== "") this.warnings.push({ ...done, warning: shown });
    }
  }
}

/**
 * The line for a file restored or up to date (a problem is said at the end); `dryRun`: one
 * that would be restored, or would replace the file there.
 */
export function printResultLine(r: RestoreResult, dryRun = false): void {
  if (r.outcome === "restored") {
    const link = r.hardLinkOf === undefined ? "" : ` (a hard link of '${r.hardLinkOf}')`;
    const title = !dryRun ? "RESTORED" : r.replaces ? "WOULD REPLACE" : "WOULD RESTORE";
    say(oneLine(`${title}: ${r.copy.path} (v${r.copy.seq}) → ${r.dest}${link}`));
  } else if (r.outcome === "up-to-date") {
    say(oneLine(`UP TO DATE: ${r.copy.path} (${r.dest})`));
  }
}

/**
 * What `restore` and `ls` say while they choose the contents: warnings on stderr, files
 * excluded since by folder (in --json each file's `warning` says it instead), and the runs
 * that held deletions back (kept for the --json document, `keepHeldBack`, else a warning).
 */
export function choosingHooks(json: boolean, keepHeldBack: (runs: HeldRun[]) => void) {
  return {
    warn,
    excluded: (roots: ExcludedRoot[]) => {
      if (!json) printExcludedRoots(roots);
    },
    heldBack: (runs: HeldRun[]) => {
      if (json) keepHeldBack(runs);
      else warn(heldBackRestoreWarning(runs));
    },
  };
}

/**
 * The files excluded since they were backed up that the restore gives as their last content
 * backed up: a line for each folder whose files are all excluded, or file alone. Of a
 * folder, what is known is that every file recorded under it is excluded, not whether a
 * pattern names the folder itself (`node_modules/`) or only its files (`*.log`). Restored
 * `--at` a moment inside exclusions that ended since, said in the past (all of them ended)
 * or each part with its count (some).
 */
export function printExcludedRoots(roots: ExcludedRoot[]): void {
  for (const { path, folder, files, latest, ended } of roots) {
    const at = new Date(latest).toISOString();
    const line = ended === undefined
      ? (folder ? excludedFolderLine(path, files, at) : excludedFileLine(path, at))
      : ended.files < files
      ? partlyEndedLine(path, files, at, ended)
      : endedLine(path, folder, files, at, ended);
    warn(oneLine(line));
  }
}

/** For a file (or a folder's files) excluded at the moment restored, and not any more. */
function endedLine(
  path: string,
  folder: boolean,
  files: number,
  at: string,
  ended: EndedFiles,
): string {
  const { excluded, changed, instead } = endedSaid(ended, folder);
  const then = instead === undefined ? "" : `: ${instead}`;
  return folder
    ? `WARNING: every file recorded under '${path}' was ${excluded}): the backup holds the ` +
      `${files} files restored as last backed up before that, the last at ${at}, and they ` +
      `may have changed ${changed}${then}`
    : `WARNING: '${path}' was ${excluded}): the backup holds its last content backed up ` +
      `before that, at ${at}, and the file may have changed ${changed}${then}`;
}

/**
 * For a folder whose files were all excluded at the moment restored, only some of them not
 * any more: how many are excluded still, how many were then only (and their spans).
 */
function partlyEndedLine(path: string, files: number, at: string, ended: EndedFiles): string {
  const still = files - ended.files;
  const { excluded, instead } = endedSaid(ended, ended.files > 1);
  const then = instead === undefined ? "" : `: ${instead}`;
  return `WARNING: every file recorded under '${path}' was excluded at the --at time, and not ` +
    `all are now: ${still} of the ${files} files restored ${still === 1 ? "is" : "are"} ` +
    `excluded still (the config leaves ${still === 1 ? "it" : "each"} out: ${LEFT_OUT_HOW}), ` +
    `${ended.files} ${ended.files === 1 ? "was" : "were"} ${excluded}): the backup holds the ` +
    `${files} files restored as last backed up before they were excluded, the last at ${at}, ` +
    `and they may have changed since${then}`;
}

function excludedFileLine(path: string, at: string): string {
  return `WARNING: '${path}' is excluded (${LEFT_OUT_BY}): ` +
    `the backup holds its last content backed up, at ${at}, and the file may have changed since`;
}

/** For a folder whose recorded files are all excluded (at least two of them restored). */
function excludedFolderLine(path: string, files: number, at: string): string {
  return `WARNING: every file recorded under '${path}' is excluded (the config leaves each ` +
    `out: ${LEFT_OUT_HOW}): the backup holds the ${files} files restored as last backed up, ` +
    `the last at ${at}, and they may have changed since`;
}

export function printRestore(
  tally: RestoreTally,
  earlier: Problem[],
  /** `stoppedCode`: the exit code of a restore a stop signal cut short. */
  /** `notes`: said once each, such as a disk that keeps no modes (restore/kept_meta.ts). */
  /** `heldBack`: for --json, the runs whose guard held deletions back (held_back.ts). */
  opts: {
    json: boolean;
    quiet: boolean;
    at?: number;
    stoppedCode?: number;
    notes?: string[];
    heldBack?: HeldRun[];
    /** Said as what the restore would do, with `dryRun: true` in --json. */
    dryRun?: boolean;
    /** `--include` and `--exclude`, said in the summary and the --json document. */
    filter?: FilterPatterns;
    /** The folders it could not make for themselves (said before: `printFolderProblems`). */
    foldersNotMade?: readonly FolderProblem[];
  },
): number {
  const dryRun = opts.dryRun === true;
  const notes = opts.notes ?? [];
  const problems = [...earlier, ...tally.problems];
  const stopped = opts.stoppedCode !== undefined;
  const full = [...tally.fullDisks];
  const notMade = opts.foldersNotMade ?? [];
  const clean = problems.length === 0 && full.length === 0 && notMade.length === 0;
  const exitCode = opts.stoppedCode ?? (clean ? 0 : 1);
  if (opts.json) {
    writeJsonDocument({
      command: "restore",
      ok: exitCode === 0,
      exitCode,
      ...dryRun ? { dryRun } : {},
      ...stopped ? { stopped } : {},
      at: opts.at === undefined ? undefined : new Date(opts.at).toISOString(),
      ...filterField(opts.filter),
      restored: tally.listed.restored,
      upToDate: tally.listed.upToDate,
      failed: [
        ...problems.map(jsonProblem),
        ...tally.fullDiskProblems,
        ...foldersNotMadeFailed(notMade),
      ],
      ...full.length > 0
        ? { diskFull: full.map(([to, d]) => ({ to, error: d.error, notTried: d.notTried })) }
        : {},
      ...notes.length > 0 ? { notes } : {},
      ...heldBackField(opts.heldBack ?? []),
      ...foldersField(tally.listed.folders),
    });
    return exitCode;
  }
  if (!opts.quiet) { for (const n of notes) warn(oneLine(`NOTE: ${n}`)); }
  for (const r of tally.warnings) {
    warn(oneLine(`WARNING: ${r.path} (v${r.version}): ${r.warning}`));
  }
  for (const p of problems) {
    const name = p.path === "" ? "" : ` ${p.path}${p.version ? ` (v${p.version})` : ""}:`;
    if (dryRun && p.kind === "conflict" && p.to !== undefined) {
      warn(oneLine(`WOULD LEAVE:${name.slice(0, -1)} → ${p.to} (differs: use --overwrite)`));
    } else warn(oneLine(`${dryRun ? "WOULD NOT RESTORE" : "NOT RESTORED"}:${name} ${p.reason}`));
  }
  sayOpenFilesRemedy(problems.map((p) => p.reason));
  if (!opts.quiet || exitCode !== 0) {
    const title = stopped
      ? "Restore stopped before it finished"
      : exitCode === 0
      ? "Restore complete"
      : "Restore incomplete";
    // The moment restored, as read: a local time is read in the zone Deno knows.
    const asOf = opts.at === undefined ? "" : ` (as of ${new Date(opts.at).toISOString()})`;
    // A backup with nothing to restore (as of a moment before its first run) is no file.
    const files = problems.filter((p) => p.path !== "").length +
      full.reduce((n, [, d]) => n + d.failed + d.notTried, 0);
    const renamed = tally.renamed === 0
      ? ""
      : `; ${tally.renamed} under another name, as this disk takes theirs for others'`;
    const linked = unmatchedText(problems, opts.at) + (tally.linked === 0
      ? ""
      : `; ${tally.linked} as hard links of another file, as the backup recorded them`) +
      (opts.filter === undefined ? "" : `; filtered by ${filterText(opts.filter)}`);
    const made = foldersMadeText(tally.foldersMade, dryRun) +
      foldersNotMadeText(notMade.length, dryRun);
    if (dryRun) {
      say(
        `Dry run${asOf}: ${tally.restored} would be restored, ${tally.upToDate} up to date, ` +
          `${files} would not be restored${made}${renamed}${linked}; nothing was written`,
      );
      return exitCode;
    }
    const counts = `${tally.restored} restored, ${tally.upToDate} up to date, ` +
      `${files} not restored${made}`;
    // Stopped by a signal after a disk was found full: its line, the disk said in it.
    say(
      full.length === 0 ? `${title}${asOf}: ${counts}${renamed}${linked}` : fullDiskLine(
        full,
        stopped ? title : undefined,
        `${asOf}: ${counts}`,
        `${renamed}${linked}`,
      ),
    );
  }
  return exitCode;
}

/**
 * Why a restore is incomplete where no file was left unrestored, said beside the counts:
 * what matched nothing (an `--include`, the patterns together, the backup as of the
 * moment); a PATH not found is counted among the files not restored, as what it names.
 */
function unmatchedText(problems: readonly Problem[], at: number | undefined): string {
  const includes = problems.filter((p) => p.unmatched === "include").length;
  const said = [
    includes === 0
      ? ""
      : `${includes} --include pattern${includes === 1 ? "" : "s"} matched nothing`,
    problems.some((p) => p.unmatched === "patterns") ? "the patterns together keep no file" : "",
    !problems.some((p) => p.unmatched === "backup")
      ? ""
      : at === undefined
      ? "the backup holds no current files"
      : "the backup held no files then",
  ];
  return said.filter((s) => s !== "").map((s) => `; ${s}`).join("");
}

/**
 * The summary of a restore that met a full disk: the one line said of it, with the counts
 * (`counts`, then `more` after what was not tried) and the remedy; `stopped`: the title of
 * one a stop signal cut short afterwards, the disk said after what was not tried.
 */
function fullDiskLine(
  full: [string, FullDiskCount][],
  stopped: string | undefined,
  counts: string,
  more: string,
): string {
  // Told by the system's words, not a path's (a folder named Quotations): quoted paths out.
  const quota = full.some(([, d]) =>
    /quota|os error (122|69)\b/i.test(d.error.replace(/'[^']*'/g, "''"))
  );
  const why = quota ? "disk quota exceeded" : "no space left on device";
  const where = `${why} writing to ${full.map(([to]) => `'${to}'`).join(" and ")}`;
  const skipped = full.reduce((n, [, d]) => n + d.notTried, 0);
  // None: the refused write was the last the disk was asked for.
  const notTried = skipped === 0 ? "" : `${skipped} of them not tried once the disk was full`;
  const remedy = "free space (or restore to another disk with --to) and run the same " +
    "restore again: files already restored are kept as up to date";
  if (stopped === undefined) {
    return `Restore stopped: ${where}${counts}${notTried && ` (${notTried})`}${more}; ${remedy}`;
  }
  return `${stopped}${counts} (${notTried && `${notTried}: `}${where})${more}; ${remedy}`;
}

/** `heldBack` of the --json document, where runs held deletions back. */
export function heldBackField(runs: HeldRun[]) {
  if (runs.length === 0) return {};
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    heldBack: runs.map((r) => ({ run: r.id, startedAt: iso(r.startedAt), deletions: r.heldBack })),
  };
}

function toProblem(r: RestoreResult): Problem {
  return {
    path: r.copy.path,
    version: r.copy.seq,
    to: r.dest,
    kind: r.fullDisk?.skipped ? "not-tried" : r.outcome === "conflict" ? "conflict" : "error",
    reason: r.reason!,
  };
}

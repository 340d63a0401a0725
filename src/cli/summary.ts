/**
 * Console output for a run or plan: the human summary (counts per action, bytes, duration,
 * log file; the title coloured by outcome when the style allows) and the `--json`
 * document, whose shape docs/json.md documents.
 */
import { warn } from "./stdout.ts";
import { oneLine } from "../log/one_line.ts";
import type { RunSummary } from "../engine/backup.ts";
import { styleFor } from "./style.ts";
import type { Action } from "../core/types.ts";
import { createStyle, type Style } from "./style.ts";
import type { JsonList } from "./json_document.ts";
import { formatBytes } from "../core/format_bytes.ts";
import { rereadLine } from "../core/describe.ts";
import { largeLine } from "../engine/scan/large.ts";
import { diskFullText, isDiskFull, isOutOfOpenFiles, openFilesRemedy } from "../engine/errors.ts";
import { shownOpenFilesLimit } from "../engine/fs/flush.ts";
import { type Config, configWarnings } from "../config/config.ts";
import { LOCAL_ZONE } from "../core/calendar.ts";
import { localZoneProblem } from "../restore/local_zone.ts";
import { commandHint } from "../config/selection.ts";

export function humanSummary(
  title: string,
  s: RunSummary,
  style: Style = createStyle(false),
): string {
  const c = s.counts;
  const heading = s.exitCode === 0 ? style.green(title) : style.yellow(title);
  const lines = [
    `${heading}: ${c.backup} new, ${c.modified} updated, ${c.duplicate} duplicate, ` +
    `${c.skip} unchanged, ${c.delete} deleted, ${c.prune} pruned, ${c.failed} failed`,
    bytesLine(title, s),
  ];
  if (c.exclude > 0) lines.push(excludedLine(c.exclude, s.excludedMissing ?? 0, title === "Plan"));
  if (c.promote > 0) {
    lines.push(
      `${c.promote} duplicate(s) promoted to their own path (their original was deleted or changed)`,
    );
  }
  if (c.special > 0) lines.push(`${c.special} special file(s) skipped (FIFOs, sockets, devices)`);
  if (s.reread) lines.push(rereadLine(s.reread));
  // Held-back deletions are said on stderr (printErrors), by `run` and `plan` alike.
  if (s.notice) lines.push(`${style.yellow("Note")}: ${s.notice}`);
  if (s.warnings.length > 0) {
    lines.push(
      `${style.yellow("Copies missing or damaged")}: ${s.warnings.length} stored copy(ies) ` +
        "were found missing from the backup root or damaged (see the warnings); run " +
        `'${commandHint("verify")}'`,
    );
  }
  return lines.join("\n");
}

/**
 * Bytes and time: a run's copied, a plan's to copy, with the time the plan took to make
 * (`2 B to copy in 0.02 s` read as a forecast of the copy's time).
 */
function bytesLine(title: string, s: RunSummary): string {
  const seconds = `${(s.durationMs / 1000).toFixed(2)} s`;
  if (title === "Plan") return `${formatBytes(s.bytesCopied)} to copy (planned in ${seconds})`;
  return `${formatBytes(s.bytesCopied)} copied in ${seconds}` +
    (s.logFile ? `. Log: ${s.logFile}` : "");
}

/**
 * What became of the files an `exclude` pattern matched for the first time, and where their
 * copies are: no longer updated, they stay where they are in the backup root (the file's
 * own path, or `_duplicates/`), each named in an `EXCLUDED:` line (the log's, or the plan's
 * own above), until `purge` deletes them. Those found missing are warned about apart, and
 * not said to stay.
 */
function excludedLine(n: number, missing: number, plan: boolean): string {
  const head = `${n} file(s) newly excluded: no longer backed up; their copies`;
  if (missing >= n) return `${head} were found missing from the backup root (see the warnings)`;
  const where = plan
    ? "the EXCLUDED: lines above name each"
    : "the log's EXCLUDED: lines name each";
  const but = missing > 0 ? `, but for ${missing} found missing (see the warnings)` : "";
  return `${head} stay where they are in the backup root (${where}; '${
    commandHint("purge PATH")
  }' deletes ` +
    `them)${but}`;
}

/**
 * The `--json` document of `run` and `plan` (`actions`: each as `publicAction` gives it);
 * `stoppedCode`: the exit code of a run a stop signal cut short (130, 143 or 129).
 */
export function jsonSummary(
  command: string,
  s: RunSummary,
  { actions, stoppedCode }: { actions?: JsonList; stoppedCode?: number } = {},
): Record<string, unknown> {
  const exitCode = stoppedCode ?? s.exitCode;
  return {
    command,
    ok: exitCode === 0,
    exitCode,
    stopped: stoppedCode === undefined ? undefined : true,
    runId: s.runId || undefined,
    counts: s.counts,
    bytesCopied: s.bytesCopied,
    reread: s.reread,
    durationMs: s.durationMs,
    logFile: s.logFile,
    deleteGuard: s.deleteGuard,
    clockGuard: s.clockGuard && {
      copies: s.clockGuard.copies,
      clock: new Date(s.clockGuard.clock).toISOString(),
      latestRun: new Date(s.clockGuard.latestRun).toISOString(),
      message: s.clockGuard.message,
    },
    notice: s.notice,
    errors: s.errors,
    warnings: s.warnings,
    leftLarge: s.leftLarge,
    actions,
  };
}

/** An action as a script sees it: no temporary paths, no internal ids. */
export function publicAction(a: Action): Record<string, unknown> {
  switch (a.type) {
    case "backup":
    case "modified":
    case "duplicate":
      return {
        type: a.type,
        path: a.path,
        target: a.target,
        hash: a.content.hash,
        size: a.content.entry.size,
        archiveTo: "archive" in a ? a.archive?.to : undefined,
        original: a.type === "duplicate" ? a.original : undefined,
      };
    case "skip":
      return { type: a.type, path: a.path };
    case "delete":
      return { type: a.type, path: a.path, from: a.from, to: a.to };
    case "exclude":
      return { type: a.type, path: a.path, storedAt: a.storedAt };
    case "prune":
      return { type: a.type, path: a.path, storedAt: a.storedAt };
    case "promote":
      return { type: a.type, path: a.path, from: a.from, to: a.to };
  }
}

/**
 * The open files limit and the remedy, on stderr, where some failure's text says the process
 * ran out of them. Said once, not on each file's line: under a low limit, many files fail
 * alike, and their own words ("check the permissions") point elsewhere.
 */
export function sayOpenFilesRemedy(messages: readonly (string | undefined)[]): void {
  if (messages.some((m) => m !== undefined && isOutOfOpenFiles(m))) {
    warn(`${styleFor("stderr").red("ERROR")}: ${openFilesRemedy(shownOpenFilesLimit())}`);
  }
}

/**
 * The remedy for files a full backup disk could not take, said once after their lines (each
 * gives the system's bare words): a run that stored what fitted, its state kept by the
 * reserve, ends so rather than stopping with "the backup disk is full" (backup.ts).
 */
export function sayDiskFullRemedy(
  errors: readonly { message: string }[],
  backupRoot: string,
): void {
  const full = errors.find((e) => isDiskFull(e.message));
  if (full === undefined) return;
  warn(
    `${styleFor("stderr").red("ERROR")}: ` +
      diskFullText(backupRoot, full.message, "then run again"),
  );
}

/** Per-file errors and warnings, one line each, on stderr. */
export function printErrors(
  errors: { path: string; message: string }[],
  warnings: { path: string; message: string }[] = [],
  deleteGuard?: string,
  clockGuard?: { message: string },
): void {
  const err = styleFor("stderr");
  for (const e of errors) {
    warn(`${err.red("ERROR")}: ${oneLine(`${e.path}: ${e.message}`)}`);
  }
  for (const w of warnings) {
    warn(`${err.yellow("WARNING")}: ${oneLine(`${w.path}: ${w.message}`)}`);
  }
  sayOpenFilesRemedy(errors.map((e) => e.message));
  // A run that held deletions back exits 1: the reason goes where errors go, even with
  // --quiet, so a scheduled run's mail or journal says why.
  if (deleteGuard) warn(`${err.yellow("Deletions held back")}: ${oneLine(deleteGuard)}`);
  // The clock guard's (deleted_guard.ts) likewise: exit 1, and why.
  if (clockGuard) warn(`${err.yellow("WARNING")}: ${oneLine(clockGuard.message)}`);
}

/**
 * The files a pass left out for their size (`exclude_larger_than`), one `SKIP LARGE:` line
 * each on stderr, as the log has them, with --quiet too: no pattern names them, and a
 * scheduled run's mail should say what it did not back up. Not a failure (exit code 0).
 */
export function printLeftLarge(
  leftLarge: readonly { path: string; size: number }[] | undefined,
  limit: number | null,
): void {
  if (leftLarge === undefined || limit === null) return;
  const style = styleFor("stderr");
  for (const { path, size } of leftLarge) {
    const line = largeLine(path, size, limit);
    warn(oneLine(`${style.yellow("SKIP LARGE")}${line.slice("SKIP LARGE".length)}`));
  }
}

/**
 * What is likely wrong in the config (`configWarnings`: an exclude pattern that begins with
 * a source's name), one line each on stderr before the pass, with --quiet too: the files
 * meant to be left out are backed up meanwhile. And where retention keeps versions by
 * period in the zone the command runs in, which Deno misreads (`localZoneProblem`: a
 * POSIX rule as `TZ`), that the periods are cut in that reading.
 */
export function printConfigWarnings(config: Config): void {
  const style = styleFor("stderr");
  for (const w of [...configWarnings(config), ...zoneWarnings(config)]) {
    warn(`${style.yellow("WARNING")}: ${oneLine(w)}`);
  }
}

function zoneWarnings({ keptPeriods: p, file }: Config): string[] {
  if (p.days + p.weeks + p.months === 0 || p.timeZone !== LOCAL_ZONE) return [];
  const problem = localZoneProblem();
  if (problem === undefined) return [];
  return [
    `${problem}, so retention's keep_daily, keep_weekly and keep_monthly cut days, weeks ` +
    `and months there (retention.time_zone "local"): set retention.time_zone in '${file}' ` +
    `to the zone meant, an IANA name such as "Europe/Berlin"`,
  ];
}

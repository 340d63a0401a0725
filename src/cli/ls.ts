/**
 * `ls`: the files and symlinks a `restore` of the same PATHs as of the same moment would
 * write, listed instead: each with its content number, size, modification time and the
 * copy in the backup root it would be read from, then the problems restore would report
 * (pruned, lost, not found), then a line with the count and the total size. Parses the
 * options (`--at` as restore reads it: at_option.ts), has restore/listing.ts select through
 * restore's own selection (the state read-only, without the run lock, a page at a time)
 * and prints each file as it comes, a text line or an element of the `--json` document:
 * nothing is held but the problems. A failure partway (a damaged page of the state) ends
 * the document whole, the files listed so far and the error among its problems, before it
 * is reported as any command's is. Nothing is written, so an interruption leaves nothing.
 */
import { ConfigError } from "../config/config.ts";
import { errorText, PreflightError } from "../engine/errors.ts";
import { formatBytes } from "../core/format_bytes.ts";
import { oneLine } from "../log/one_line.ts";
import { configForReading } from "../restore/bare_root.ts";
import { type ListedFile, listRequest } from "../restore/listing.ts";
import { jsonProblem, type Problem } from "../restore/select.ts";
import { explainedDamage } from "../state/damage.ts";
import type { HeldRun } from "../state/run_queries.ts";
import { flag, parseCommand, refuseEmptyPaths, str, UsageError } from "./args.ts";
import { atOption } from "./at_option.ts";
import { JsonStream, writeJsonDocument, writeLines } from "./json_document.ts";
import { choosingHooks, heldBackField } from "./restore_output.ts";
import { FILTER_OPTIONS, filterField, filterOption } from "./filter_option.ts";
import type { PathFilter } from "../restore/path_filter.ts";
import { type Output, say, stdout, warn } from "./stdout.ts";

const LS_HELP =
  `Usage: backup-tool ls [PATH...] [--at TIME] [--include PATTERN]... [--exclude PATTERN]...
                      [--config FILE | --backup-root DIR] [--json]

Lists what 'restore' with the same PATHs and --at would restore, changing nothing: one
line per file or symlink, in path order (each PATH's in turn, as given), with its
content number (as 'history PATH' lists it and 'restore --version' takes it), size,
modification time, path and the copy in the backup root it is read from (the latest
copy, versions/…/vN.bak, _duplicates/…, _deleted/…); then each content restore could not
give back (PRUNED, LOST, purged ones too), and a line with the count and the total size.
A PATH that matches nothing is said on stderr (NOT FOUND). PATH is read as restore reads
it: relative to the source root (docs/a.txt), or written as the logs show it, the
source's name in front (source/docs/a.txt; required with several sources), or absolute,
or, given from a folder inside a source, ./ or ../ from there; a folder lists everything
under it; no PATH lists everything. A content whose own copy is gone is listed after the
others, with the copy of the same bytes it is read from.

Options:
  --at TIME      The tree as it was at TIME, as 'restore --at' takes it: ISO-8601, e.g.
                 2026-11-28T18:00:00Z, or 2026-11-28T18:00 (local time), or a date alone:
                 the end of that day, or a time before now: 2h, 3d, 1w (default: the
                 latest)
  --include PATTERN
                 Only the files PATTERN matches (repeatable), as 'restore --include' takes
                 it: the config's exclude syntax ('*.pdf', 'node_modules/', '/top', '**',
                 '!'), letter case ignored, matched against each file's path inside its
                 source
  --exclude PATTERN
                 None of the files PATTERN matches (repeatable). An --include that matches
                 no file asked for is said on stderr (NOT FOUND, exit 1), the files the
                 others keep listed; an --exclude that matches none leaves nothing out (a
                 NOTE says so)
  --config FILE  Config file (default ./config.jsonc, then ./config.json)
  --backup-root DIR
                 Read the backup in DIR without a config (the computer and its config lost)
  --json         Print one JSON document: files (each with path, version, kind, size,
                 mtime, location, storedAt), count, symlinks, totalBytes, problems, ok and
                 exitCode; at with --at, heldBack where a deletion guard held deletions
                 back, filter and notes with --include or --exclude (shape: docs/json.md)

Exit codes: 0 listed, 1 a PATH is not in the backup (as of TIME), or an --include matched
nothing (or the patterns together keep no file), 2 usage or configuration error (a bad
pattern).

Examples:
  backup-tool ls docs
  backup-tool ls docs --at 2026-11-28T18:00:00Z
  backup-tool ls --at 2d --include '*.pdf'
  backup-tool ls --at 2026-11-27 --json | jq -r '.files[] | select(.version > 1) | .path'`;

export function lsCommand(argv: string[]): Promise<number> {
  const p = parseCommand("ls", argv, {
    paths: true,
    boolean: ["json"],
    string: ["at", "backup-root", ...FILTER_OPTIONS],
    multiple: FILTER_OPTIONS,
  });
  if (flag(p, "help")) {
    say(LS_HELP);
    return Promise.resolve(0);
  }
  refuseEmptyPaths("ls", p);
  const at = atOption(str(p, "at"));
  const filter = filterOption("ls", p);
  const config = configForReading("ls", str(p, "config"), str(p, "backup-root"));
  const json = flag(p, "json");
  const tally = { count: 0, symlinks: 0, bytes: 0 };
  const count = (f: ListedFile) => {
    tally.count++;
    if (f.kind === "symlink") tally.symlinks++;
    else tally.bytes += f.size;
    return f;
  };
  let heldBack: HeldRun[] = [];
  // What ended the --json listing partway: written into the document, then thrown.
  let failure: { error: unknown; problem: Problem } | undefined;
  function* untilFailure(files: Iterable<ListedFile>): Generator<ListedFile> {
    try {
      for (const f of files) yield count(f);
    } catch (error) {
      const reason = errorText(explainedDamage(error));
      failure = { error, problem: { path: "", kind: "error", reason } };
    }
  }
  const all = (problems: readonly Problem[]) =>
    failure === undefined ? problems : [...problems, failure.problem];
  const exitCode = (problems: readonly Problem[]) =>
    failure === undefined ? exitCodeOf(problems) : failureCode(failure.error);
  const hooks = choosingHooks(json, (runs) => heldBack = runs);
  const request = { paths: p.positionals, at, ...filter === undefined ? {} : { filter } };
  const { problems, notes } = listRequest(config, request, hooks, (files, { problems, notes }) => {
    const read = whileRead(files);
    if (!json) return writeLines(map(read, (f) => oneLine(fileLine(count(f)))));
    // Whatever comes after the files is asked for once they are read (json_document.ts).
    writeJsonDocument({
      command: "ls",
      at: at === undefined ? undefined : new Date(at).toISOString(),
      ...filterField(filter?.patterns),
      ...heldBackField(heldBack),
      files: new JsonStream(untilFailure(read)),
      count: () => tally.count,
      symlinks: () => tally.symlinks,
      totalBytes: () => tally.bytes,
      problems: () => all(problems).map(jsonProblem),
      // With patterns: an --exclude that matched nothing (a line each), known once read.
      ...filter === undefined ? {} : { notes: () => notes },
      ok: () => exitCode(problems) === 0,
      exitCode: () => exitCode(problems),
    });
  });
  if (failure !== undefined) throw failure.error; // said on stderr as main.ts says any
  const code = exitCodeOf(problems);
  if (json) return Promise.resolve(code);
  for (const n of notes) warn(oneLine(`NOTE: ${n}`));
  printProblems(problems);
  say(summaryLine(tally, problems, at, filter));
  return Promise.resolve(code);
}

/**
 * The files, until the reader of standard output went away (`ls | head`): the rest of the
 * state is not read for nothing (100,000 files: 1.9 s after `head` had its lines).
 */
export function* whileRead<T>(files: Iterable<T>, out: Output = stdout): Generator<T> {
  for (const f of files) {
    if (out.readerGone) return;
    yield f;
  }
}

/**
 * The exit code: 1 where a PATH matched nothing (as of the moment); a content pruned or
 * lost is listed, not an error of the listing.
 */
function exitCodeOf(problems: readonly Problem[]): number {
  return problems.some((q) => q.kind === "not-found") ? 1 : 0;
}

/** The exit code main.ts gives an error thrown by a command: 2 for what it says is refused. */
function failureCode(e: unknown): number {
  const refused = e instanceof UsageError || e instanceof ConfigError ||
    e instanceof PreflightError;
  return refused ? 2 : 1;
}

function* map<T, U>(items: Iterable<T>, fn: (item: T) => U): Generator<U> {
  for (const item of items) yield fn(item);
}

/** `v3  1.2 KiB  2026-11-28T17:59:12.000Z  src/docs/a.txt  in versions/src/docs/a.txt/v3.bak` */
function fileLine(f: ListedFile): string {
  const link = f.linkTarget === undefined ? "" : ` -> ${f.linkTarget}`;
  const excluded = f.excludedUntil !== undefined
    ? `; excluded from ${f.excludedFrom} to ${f.excludedUntil}`
    : f.excluded
    ? "; excluded since"
    : "";
  return `${`v${f.version}`.padEnd(4)} ${formatBytes(f.size).padStart(10)}  ${f.mtime}  ` +
    `${f.path}${link}  ${whereLine(f)}${excluded}`;
}

/** Where a restore reads the file from. */
function whereLine(f: ListedFile): string {
  if (f.readFrom === "record") return `(own copy ${f.location}: made from the record alone)`;
  if (f.readFrom === "other-copy") {
    return `in ${f.storedAt} (own copy ${f.location}: the same bytes stored there)`;
  }
  if (f.movedTo !== undefined) return `in ${f.movedTo} (moved there by the interrupted run)`;
  return `in ${f.storedAt}`;
}

/** Contents restore could not give back on stdout, a PATH that matched nothing on stderr. */
function printProblems(problems: Problem[]): void {
  for (const q of problems) {
    const name = q.path === "" ? "" : ` ${q.path}${q.version ? ` (v${q.version})` : ""}:`;
    const line = oneLine(`${q.kind.toUpperCase().replace("-", " ")}:${name} ${q.reason}`);
    if (q.kind === "not-found") warn(line);
    else say(line);
  }
}

function summaryLine(
  tally: { count: number; symlinks: number; bytes: number },
  problems: Problem[],
  at: number | undefined,
  filter: PathFilter | undefined,
): string {
  const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
  const links = tally.symlinks === 0 ? "" : ` (${plural(tally.symlinks, "symlink")})`;
  const asOf = (at === undefined ? "latest" : `as of ${new Date(at).toISOString()}`) +
    (filter === undefined ? "" : `; filtered by ${filter.text}`);
  const gone = problems.filter((q) => q.kind !== "not-found").length;
  const lost = gone === 0 ? "" : `; ${gone} not restorable (pruned or lost)`;
  return `Listed ${plural(tally.count, "file")}${links}, ${formatBytes(tally.bytes)} (${asOf})` +
    lost;
}

/**
 * `stats [PATH...]`: how much space the backup takes, and where, as restic's `stats` says
 * it and as one whose backup disk fills asks: the copies stored at their own paths, in
 * versions/, _deleted/ and _duplicates/, their count and bytes as the state records them,
 * what the stored contents would take stored once each, and the paths whose older versions
 * and deleted copies take the most (`--top N`), with the command to look closer. Parses
 * the options, has restore/stats.ts read the state (read-only, without the run lock, a
 * page at a time) and prints the figures once read, as text or one `--json` document; a
 * PATH that matches nothing is said on stderr (`NOT FOUND:`) as `ls` says it, exit 1.
 * Nothing is written, so an interruption leaves nothing.
 */
import { formatBytes } from "../core/format_bytes.ts";
import { formatTable } from "../core/format_table.ts";
import { oneLine } from "../log/one_line.ts";
import { configForReading } from "../restore/bare_root.ts";
import { type Stats, statsRequest } from "../restore/stats.ts";
import { type Amount, type TopPath, totalOf } from "../restore/stats_tally.ts";
import { flag, parseCommand, refuseEmptyPaths, str, UsageError } from "./args.ts";
import { say, warn } from "./stdout.ts";
import { commandHint } from "../config/selection.ts";

const STATS_HELP =
  `Usage: backup-tool stats [PATH...] [--top N] [--config FILE | --backup-root DIR] [--json]

Says how much space the backup takes, and where, changing nothing: the copies stored at
their own paths (the latest content of each file), in versions/ (older versions), in
_deleted/ (files deleted from their source) and in _duplicates/ (the same bytes as
another file), each kind's count and bytes, their total, and what the stored contents
would take stored once each, and what the files the config leaves out now still take
('purge PATH' frees it); then the N paths whose older versions and deleted copies take
the most, where retention's settings bite ('history PATH' lists one's versions).
The sizes are those the state recorded (a sparse file counted whole), not a walk of the
backup root: an old copy removed by hand counts until 'verify --forget-missing' records
it lost. PATH is read as 'ls' reads it (relative to the source root, or as the logs
show it, the source's name in front, or absolute); a folder counts everything under it;
no PATH counts everything. A PATH that matches nothing is said on stderr (NOT FOUND).

Options:
  --top N        How many paths to list by the bytes of their older versions and
                 deleted copies (default 10)
  --config FILE  Config file (default ./config.jsonc, then ./config.json)
  --backup-root DIR
                 Read the backup in DIR without a config (the computer and its config lost)
  --json         Print one JSON document: backupRoot, paths (as given), stored (copies
                 and bytes by kind), total, distinct, notStored, excluded, top and problems
                 (shape: docs/json.md)

Exit codes: 0 counted, 1 a PATH is not in the backup, 2 usage or configuration error.

Examples:
  backup-tool stats
  backup-tool stats docs --top 20
  backup-tool stats --json | jq '.top[] | "\\(.bytes)\\t\\(.path)"'`;

const DEFAULT_TOP = 10;

export function statsCommand(argv: string[]): Promise<number> {
  const p = parseCommand("stats", argv, {
    paths: true,
    boolean: ["json"],
    string: ["top", "backup-root"],
  });
  if (flag(p, "help")) {
    say(STATS_HELP);
    return Promise.resolve(0);
  }
  refuseEmptyPaths("stats", p);
  const top = topOption(str(p, "top"));
  const config = configForReading("stats", str(p, "config"), str(p, "backup-root"));
  const json = flag(p, "json");
  const stats = statsRequest(config, { paths: p.positionals, top }, warn);
  if (json) say(JSON.stringify(jsonDocument(config.backupRoot, p.positionals, stats), null, 2));
  else printStats(config.backupRoot, p.positionals, top, stats);
  return Promise.resolve(stats.problems.length > 0 ? 1 : 0);
}

/**
 * `--top N`: a whole number from 1 (default 10); one past the largest safe integer is
 * taken as that (every path, as any number above their count).
 */
function topOption(text: string | undefined): number {
  if (text === undefined) return DEFAULT_TOP;
  if (!/^[1-9]\d*$/.test(text)) {
    throw new UsageError(
      `Invalid --top '${text}': it is the number of paths to list: give a whole number ` +
        `from 1 (default ${DEFAULT_TOP})`,
    );
  }
  return Math.min(Number(text), Number.MAX_SAFE_INTEGER);
}

/** The `--json` document (docs/json.md). */
function jsonDocument(root: string, paths: string[], s: Stats) {
  return {
    command: "stats",
    backupRoot: root,
    paths,
    stored: s.tally.stored,
    total: totalOf(s.tally),
    distinct: s.distinct,
    notStored: s.tally.gone,
    excluded: s.tally.excluded,
    top: s.top,
    problems: s.problems,
  };
}

const KINDS: [keyof Stats["tally"]["stored"], string][] = [
  ["latest", "latest copies (own paths)"],
  ["version", "older versions (versions/)"],
  ["deleted", "deleted files (_deleted/)"],
  ["duplicate", "duplicates (_duplicates/)"],
];

function printStats(root: string, paths: string[], top: number, s: Stats): void {
  for (const q of s.problems) warn(oneLine(`NOT FOUND: ${q.path}: ${q.reason}`));
  if (!s.read) return;
  const found = paths.filter((p) => !s.problems.some((q) => q.path === p));
  const of = found.length === 0 ? "" : ` under ${found.map((p) => `'${p}'`).join(", ")}`;
  say(oneLine(`Stored copies${of} in backup '${root}', as its state records them:`));
  const row = (what: string, a: Amount) => [what, String(a.copies), formatBytes(a.bytes)];
  const total = totalOf(s.tally);
  const rows = [...KINDS.map(([k, what]) => row(what, s.tally.stored[k])), row("total", total)];
  say(formatTable(["KIND", "COPIES", "SIZE"], rows).join("\n"));
  say(distinctLine(s.distinct, s.fileCopies, total));
  const gone = goneLine(s.tally.gone);
  if (gone) say(gone);
  if (s.tally.excluded.files > 0) say(excludedLine(s.tally.excluded));
  printTop(s.top, top);
}

/**
 * What the stored contents take stored once each, and what the rest costs; where nothing
 * is stored twice, whether each content has one copy (an empty file's content may have
 * several, of no bytes).
 */
function distinctLine(d: Stats["distinct"], fileCopies: number, total: Amount): string {
  const contents = `${d.contents} distinct content${d.contents === 1 ? "" : "s"}`;
  // Below 0 only where a run committed between the pages and the distinct contents' read
  // (a reader holds no transaction across statements): taken for none stored twice.
  const more = total.bytes - d.bytes;
  if (d.contents === 0) {
    return total.copies === 0
      ? "No copy is stored"
      : "No file content is stored: the copies counted are symlinks, of no bytes";
  }
  if (more <= 0 && fileCopies > d.contents) {
    return `No bytes are stored twice: the ${contents} take ${formatBytes(d.bytes)} (an ` +
      "empty file's content, stored more than once, takes none)";
  }
  if (more <= 0) {
    const each = d.contents === 1 ? `The ${contents}` : `Each of the ${contents}`;
    return `${each} is stored once: no bytes are stored twice`;
  }
  const share = total.bytes === 0 ? "" : ` (${Math.round((100 * more) / total.bytes)}%)`;
  return `Stored once each, the ${contents} would take ${formatBytes(d.bytes)}: the other ` +
    `${formatBytes(more)}${share} hold bytes stored again (duplicates, and versions or ` +
    "deleted files of a content stored elsewhere too)";
}

/** The files left out now, whose copies stay until purged. */
function excludedLine({ files, copies, bytes }: Stats["tally"]["excluded"]): string {
  const them = files === 1 ? "it" : "them";
  return `Of these, ${files} file${files === 1 ? "" : "s"} the config leaves out now (no run ` +
    `backs ${them} up) keep${files === 1 ? "s" : ""} ${copies} cop${copies === 1 ? "y" : "ies"}, ` +
    `${formatBytes(bytes)}: '${commandHint("purge PATH")}' deletes a file's or a folder's ` +
    `('${commandHint('find "*" --state excluded')}' names them)`;
}

function goneLine(gone: Stats["tally"]["gone"]): string | undefined {
  const said = Object.entries(gone).filter(([, n]) => n > 0).map(([l, n]) => `${n} ${l}`);
  return said.length === 0
    ? undefined
    : `Recorded with no copy left (not counted above): ${said.join(", ")}`;
}

function printTop(top: TopPath[], n: number): void {
  if (top.length === 0) {
    say("No older versions or deleted files are stored.");
    return;
  }
  const shown = top.length < n ? "" : ` (top ${n})`;
  say(`Paths whose older versions and deleted copies take the most${shown}:`);
  const rows = top.map((t) => [oneLine(t.path), String(t.versions), formatBytes(t.bytes)]);
  say(formatTable(["PATH", "VERSIONS", "SIZE"], rows).join("\n"));
  say(
    `'${commandHint("history PATH")}' lists a path's versions and where each is stored; ` +
      "retention's " +
      "max_versions_per_file, keep_daily/weekly/monthly and keep_deleted_days set how many " +
      "are kept",
  );
}

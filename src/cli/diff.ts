/**
 * `diff`: what changed in the backup between two moments, as restic's `diff` says it: a
 * line per path added (`+`), removed (`-`: deleted, or taken out by an exclude pattern),
 * modified (`M`: another content) or whose kind changed (`T`: file <-> symlink), then a line
 * with the counts. Parses the options (`--since` and `--until` read as `restore --at` reads
 * its time: at_option.ts), has restore/diff.ts compare the two trees (the state read-only,
 * without the run lock, a page at a time) and prints each change as it comes, a text line or
 * an element of the `--json` document: nothing is held but the counts. A failure partway (a
 * damaged page of the state) ends the document whole, the error in it, before it is
 * reported as any command's is. Nothing is written, so an interruption leaves nothing.
 */
import { errorText } from "../engine/errors.ts";
import { oneLine } from "../log/one_line.ts";
import { configForReading } from "../restore/bare_root.ts";
import { type Change, diffRequest } from "../restore/diff.ts";
import { explainedDamage } from "../state/damage.ts";
import { flag, parseCommand, refuseEmptyPaths, str, UsageError } from "./args.ts";
import { atOption } from "./at_option.ts";
import { JsonStream, writeJsonDocument, writeLines } from "./json_document.ts";
import { whileRead } from "./ls.ts";
import { FILTER_OPTIONS, filterField, filterOption } from "./filter_option.ts";
import type { PathFilter } from "../restore/path_filter.ts";
import { say, warn } from "./stdout.ts";

const DIFF_HELP = `Usage: backup-tool diff --since TIME [--until TIME] [PATH...]
                        [--include PATTERN]... [--exclude PATTERN]...
                        [--config FILE | --backup-root DIR] [--json]

Shows what changed in the backup between two moments, changing nothing: the tree the
backup recorded as of --since compared with the tree as of --until (default: the latest),
the trees 'ls --at' lists. One line per path that differs, in path order (each PATH's in
turn, as given):
  + path   added
  - path   removed: deleted, or taken out by an exclude pattern
  M path   modified: another content (other bytes, or a symlink's other target)
  T path   its kind changed (file <-> symlink)
then a line with the counts. A file whose bytes stayed the same (touched, its mode
changed) is not listed. PATH is read as restore reads it (relative to the source root,
or as the logs show it, the source's name in front, or absolute); a folder compares
everything under it; no PATH compares everything. An excluded file counts as removed
from the run that took it out (one taken out by an older version of this tool: from the
latest run).

Options:
  --since TIME   The earlier moment, as 'restore --at' takes it: ISO-8601, e.g.
                 2026-11-28T18:00:00Z, or 2026-11-28T18:00 (local time), or a date alone:
                 the end of that day, or a time before now: 2h, 3d, 1w ('history' lists
                 each run's end time)
  --until TIME   The later moment, read the same way (default: the latest state)
  --include PATTERN
                 Only the paths PATTERN matches (repeatable), as 'restore --include'
                 takes it: the config's exclude syntax ('*.xlsx', 'node_modules/', '/top',
                 '**', '!'), letter case ignored, matched against each path inside its
                 source
  --exclude PATTERN
                 None of the paths PATTERN matches (repeatable). An --include that matches
                 no path of either tree is said on stderr (NOT FOUND, exit 1), the changes
                 the others keep listed; an --exclude that matches none leaves nothing
                 out (a NOTE says so)
  --config FILE  Config file (default ./config.jsonc, then ./config.json)
  --backup-root DIR
                 Read the backup in DIR without a config (the computer and its config lost)
  --json         Print one JSON document: since, until, changes (each with path, change,
                 before and after), counts and error; with --include or --exclude, filter,
                 problems (an include that matched nothing) and notes (an exclude that
                 matched nothing, a '!' pattern that takes nothing back) too (shape:
                 docs/json.md)

Exit codes: 0 compared (whether anything changed or not), 1 an --include matched nothing
(or the patterns together keep no path), 2 usage or configuration error (--since later
than --until, a PATH not in the backup, a bad pattern).

Examples:
  backup-tool diff --since 2026-11-28T18:00:00Z
  backup-tool diff --since 2026-11-27 --until 2026-11-28 docs
  backup-tool diff --since 1d --include '*.xlsx'
  backup-tool diff --since 2026-11-27 --json | jq -r '.changes[] | select(.change == "removed") | .path'`;

const MARKS: Record<Change["change"], string> = {
  added: "+",
  removed: "-",
  modified: "M",
  "type-changed": "T",
};

interface Counts {
  added: number;
  removed: number;
  modified: number;
  typeChanged: number;
  /** Of those removed, how many an exclude pattern took out. */
  excluded: number;
}

export function diffCommand(argv: string[]): Promise<number> {
  const p = parseCommand("diff", argv, {
    paths: true,
    boolean: ["json"],
    string: ["since", "until", "backup-root", ...FILTER_OPTIONS],
    multiple: FILTER_OPTIONS,
  });
  if (flag(p, "help")) {
    say(DIFF_HELP);
    return Promise.resolve(0);
  }
  refuseEmptyPaths("diff", p);
  const { since, until, checkSince } = moments(str(p, "since"), str(p, "until"));
  const filter = filterOption("diff", p);
  const config = configForReading("diff", str(p, "config"), str(p, "backup-root"));
  const json = flag(p, "json");
  const counts: Counts = { added: 0, removed: 0, modified: 0, typeChanged: 0, excluded: 0 };
  const count = (c: Change) => {
    if (c.change === "type-changed") counts.typeChanged++;
    else counts[c.change]++;
    if (c.excluded) counts.excluded++;
    return c;
  };
  // What ended the --json document partway: written into it, then thrown.
  let failure: { error: unknown; reason: string } | undefined;
  function* untilFailure(changes: Iterable<Change>): Generator<Change> {
    try {
      for (const c of changes) yield count(c);
    } catch (error) {
      failure = { error, reason: errorText(explainedDamage(error)) };
    }
  }
  // What is said of the patterns (a line each), once the changes are read.
  let said = { problems: [] as string[], notes: [] as string[] };
  const request = {
    paths: p.positionals,
    since,
    until,
    checkSince,
    ...filter ? { filter } : {},
    // On stderr before the changes, as restore and ls say theirs (--json too).
    warn: (line: string) => warn(oneLine(line)),
  };
  diffRequest(config, request, (changes, patterns) => {
    const read = whileRead(changes);
    if (!json) {
      writeLines(map(read, (c) => oneLine(`${MARKS[c.change]} ${count(c).path}`)));
      said = patterns();
      return;
    }
    writeJsonDocument({
      command: "diff",
      since: new Date(since).toISOString(),
      until: until === undefined ? null : new Date(until).toISOString(),
      ...filterField(filter?.patterns),
      changes: new JsonStream(untilFailure(read)),
      counts: () => counts,
      // With patterns: an include that matched nothing, or none kept, and an exclude that
      // matched nothing (none when the comparison ended partway).
      ...filter === undefined ? {} : {
        problems: () => (said = failure === undefined ? patterns() : said).problems.map(notFound),
        notes: () => said.notes,
      },
      error: () => failure?.reason,
    });
  });
  if (failure !== undefined) throw failure.error; // said on stderr as main.ts says any
  if (!json) {
    for (const line of said.notes) warn(oneLine(`NOTE: ${line}`));
    for (const line of said.problems) warn(oneLine(`NOT FOUND: ${line}`));
    say(summaryLine(counts, since, until, filter));
  }
  return Promise.resolve(said.problems.length === 0 ? 0 : 1);
}

/** A pattern that matched nothing, as `ls --json` gives one among its problems. */
const notFound = (reason: string) => ({ path: "", kind: "not-found", reason });

/**
 * The two moments; --since after --until is refused here, and --since after now (and after
 * every time the backup recorded: `checkSince`, once the state is open) there.
 */
function moments(sinceText: string | undefined, untilText: string | undefined) {
  if (sinceText === undefined) {
    throw new UsageError(
      "Missing --since for 'diff': give the earlier moment, such as --since " +
        "2026-11-28T18:00:00Z ('history' lists each run's end time): see 'diff --help'",
    );
  }
  const since = atOption(sinceText, "--since")!;
  const until = atOption(untilText, "--until");
  const laterThanUntil = () => {
    if (until === undefined || since <= until) return;
    throw new UsageError(
      `Invalid --since '${sinceText}': it is later than --until '${untilText}': give the ` +
        "earlier moment to --since and the later one to --until",
    );
  };
  // Between two moments to come, with --until later still, nothing changed: refused as in
  // the future first; a --since past the clock the backup recorded times after (runs made
  // with the clock ahead) is compared.
  const checkSince = (latestRecorded: number) => {
    if (since > Math.max(Date.now(), latestRecorded)) {
      throw new UsageError(
        `Invalid --since '${sinceText}': it is in the future (later than now): give a ` +
          "moment past to --since",
      );
    }
    laterThanUntil();
  };
  if (since <= Date.now()) laterThanUntil();
  return { since, until, checkSince };
}

function* map<T, U>(items: Iterable<T>, fn: (item: T) => U): Generator<U> {
  for (const item of items) yield fn(item);
}

/** `2 added, 1 removed (1 excluded), 3 modified (between … and the latest backup)` */
function summaryLine(
  c: Counts,
  since: number,
  until: number | undefined,
  filter: PathFilter | undefined,
): string {
  const excluded = c.excluded === 0 ? "" : ` (${c.excluded} excluded)`;
  const kinds = c.typeChanged === 0 ? "" : `, ${c.typeChanged} changed kind`;
  const end = until === undefined ? "the latest backup" : new Date(until).toISOString();
  const filtered = filter === undefined ? "" : `; filtered by ${filter.text}`;
  return `${c.added} added, ${c.removed} removed${excluded}, ${c.modified} modified${kinds} ` +
    `(between ${new Date(since).toISOString()} and ${end}${filtered})`;
}

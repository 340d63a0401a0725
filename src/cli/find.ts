/**
 * `find PATTERN...`: every path the backup ever recorded whose name a pattern matches, for
 * one who lost a file and does not remember where it was: current, deleted, excluded and
 * purged files alike, each on one line with its contents' count, when the first and the
 * last were backed up and what became of it, then the commands to go on with. Checks the
 * patterns (exclude patterns' syntax, as the config checks them), has restore/find.ts read
 * the state (read-only, without the run lock, a page at a time) and prints each path as it
 * comes, a text line or an element of the `--json` document; stops reading once the reader
 * of standard output is gone (`find … | head`). A failure partway (a damaged page of the
 * state) ends the `--json` document whole, the paths listed so far and the error in it,
 * before it is reported as any command's is (as ls.ts does). Nothing is written, so an
 * interruption leaves nothing.
 */
import { patternProblem } from "../config/pattern_check.ts";
import { errorText } from "../engine/errors.ts";
import { oneLine } from "../log/one_line.ts";
import { configForReading } from "../restore/bare_root.ts";
import { type FoundPath, foundPaths, type FoundState, recordedPathTest } from "../restore/find.ts";
import { withState } from "../restore/open.ts";
import { flag, parseCommand, str, UsageError } from "./args.ts";
import { JsonStream, writeJsonDocument, writeLines } from "./json_document.ts";
import { whileRead } from "./ls.ts";
import { explainedDamage } from "../state/damage.ts";
import { say } from "./stdout.ts";
import { commandHint } from "../config/selection.ts";

const FIND_HELP =
  `Usage: backup-tool find PATTERN... [--state STATE] [--config FILE | --backup-root DIR] [--json]

Lists every path the backup ever recorded that a PATTERN matches, whatever became of it
since: still backed up, deleted from its source, excluded, or purged. One line a path, in
path order: the path as the logs write it (the source's name in front), its number of
versions (contents recorded, as 'history PATH' lists them; "(1 pruned or lost)" or
"(1 purged)" after it where some have no copy left), when the first and the last were
backed up, and its state now: "backed up", "deleted at TIME", "excluded at TIME"
(the config left it out: an exclude pattern, a folder's tag, one_file_system or
exclude_larger_than; its copies are kept) or "purged at TIME" (no copy left). A file
excluded for a while and followed again since is in its state now ("backed up"); the
span is history PATH's to list, and 'ls --at' a moment inside it says it excluded then.

PATTERN is read as an exclude pattern (gitignore syntax: *, ?, [abc], **), and matches
regardless of case. Without a '/', it matches a file's name wherever it is ('*.docx',
'report*'); with one, the whole path from the source's name ('docs/**/report*.pdf' for
source docs; '**/taxes/*' in any source). Several PATTERNs: a path any of them matches.
Quote each PATTERN, so that the shell leaves its wildcards alone (in Windows' cmd.exe,
in double quotes: "*.docx"; it passes single quotes on as part of the PATTERN).

Options:
  --state STATE  Only the paths in this state now: backed-up, deleted, excluded or purged
                 ('find "*" --state excluded': what 'purge PATH' may free)
  --config FILE  Config file (default ./config.jsonc, then ./config.json)
  --backup-root DIR
                 Read the backup in DIR without a config (the computer and its config lost)
  --json         Print one JSON document: patterns, matches (each with path, versions,
                 stored, purged, firstBackedUp, lastBackedUp, state, and deletedAt,
                 excludedAt or purgedAt when set), count and error (null unless a damaged
                 state ended it partway; shape: docs/json.md)

Exit codes: 0 listed (no path matching is no error), 1 the state could not be read to
its end, 2 usage or configuration error (a bad PATTERN, no backup state).

Examples:
  backup-tool find '*.docx'
  backup-tool find 'report*' '*.odt'
  backup-tool find 'source/**/tax*' --json | jq -r '.matches[] | select(.state == "deleted") | .path'`;

export function findCommand(argv: string[]): Promise<number> {
  const p = parseCommand("find", argv, {
    paths: true,
    boolean: ["json"],
    string: ["backup-root", "state"],
  });
  if (flag(p, "help")) {
    say(FIND_HELP);
    return Promise.resolve(0);
  }
  const patterns = p.positionals;
  if (patterns.length === 0) {
    throw new UsageError(
      "Cannot find: give a PATTERN, a file's name or a glob such as '*.docx': see 'find --help'",
    );
  }
  for (const pattern of patterns) checkPattern(pattern);
  const state = stateOption(str(p, "state"));
  const config = configForReading("find", str(p, "config"), str(p, "backup-root"));
  const json = flag(p, "json");
  let count = 0;
  const counted = function* (found: Iterable<FoundPath>): Generator<FoundPath> {
    for (const f of found) {
      if (state !== undefined && f.state !== state) continue;
      count++;
      yield f;
    }
  };
  // What ended the --json listing partway: written into the document, then thrown.
  let failure: { error: unknown; reason: string } | undefined;
  function* untilFailure(found: Iterable<FoundPath>): Generator<FoundPath> {
    try {
      yield* found;
    } catch (error) {
      failure = { error, reason: errorText(explainedDamage(error)) };
    }
  }
  withState(config, (store) => {
    const found = counted(whileRead(foundPaths(store, recordedPathTest(patterns))));
    if (json) {
      // The count and the error are asked for once the matches are read (json_document.ts).
      writeJsonDocument({
        command: "find",
        patterns,
        matches: new JsonStream(untilFailure(found)),
        count: () => count,
        error: () => failure?.reason ?? null,
      });
    } else {
      writeLines(map(found, (f) => oneLine(foundLine(f))));
    }
  });
  if (failure !== undefined) throw failure.error; // said on stderr as main.ts says any
  if (!json) {
    say(
      oneLine(count > 0 ? nextSteps(count) : state ? noneIn(patterns, state) : noMatch(patterns)),
    );
  }
  return Promise.resolve(0);
}

/** The states `--state` takes, as the JSON's `state` writes them. */
const STATES: readonly FoundState[] = ["backed-up", "deleted", "excluded", "purged"];

/** `--state`'s value (undefined: every state); another is a usage error. */
function stateOption(text: string | undefined): FoundState | undefined {
  if (text === undefined) return undefined;
  const state = STATES.find((s) => s === text.toLowerCase());
  if (state !== undefined) return state;
  throw new UsageError(
    `Invalid --state '${text}': give one of ${STATES.join(", ")}: see 'find --help'`,
  );
}

/**
 * Refuses a PATTERN that would match nothing meant: what the config refuses in an exclude
 * pattern, and what an exclude pattern may be but a search may not: empty, a comment
 * (`#`), a re-inclusion (`!`), a folder (a final `/`: find lists files).
 */
function checkPattern(pattern: string): void {
  const refuse = (why: string) => {
    throw new UsageError(`Cannot find: PATTERN '${pattern}' ${why}: see 'find --help'`);
  };
  if (pattern.trim() === "") {
    refuse("is empty (an unset variable?): give a file's name or a glob such as '*.docx'");
  }
  if (pattern.startsWith("#") || pattern.startsWith("!")) {
    refuse(
      `begins with '${pattern[0]}', which patterns read as ${
        pattern[0] === "#" ? "a comment" : "'not'"
      }: write '\\${pattern}' for a name that begins with it`,
    );
  }
  const problem = patternProblem(pattern);
  if (problem !== undefined) refuse(problem);
  const folder = pattern.replace(/\/+$/, "");
  if (folder !== pattern) {
    const under = folder.includes("/") ? `${folder}/**` : `**/${folder}/**`;
    refuse(
      `ends with '/', which names a folder, and find lists files: write '${under}' for the files under it`,
    );
  }
}

function* map<T, U>(items: Iterable<T>, fn: (item: T) => U): Generator<U> {
  for (const item of items) yield fn(item);
}

/**
 * `source/docs/report.docx  3 versions  first 2026-11-01T10:00:00.000Z  last …  deleted at …`
 * (" (1 pruned or lost)" after the versions where some have no copy left, " (1 purged)"
 * where `purge` deleted it: a path backed up again since; one purged whole says so after).
 */
function foundLine(f: FoundPath): string {
  const gone = f.state === "purged" ? [] : [
    ...f.versions - f.stored - f.purged > 0
      ? [`${f.versions - f.stored - f.purged} pruned or lost`]
      : [],
    ...f.purged > 0 ? [`${f.purged} purged`] : [],
  ];
  const versions = `${f.versions} version${f.versions === 1 ? "" : "s"}` +
    (gone.length === 0 ? "" : ` (${gone.join(", ")})`);
  return `${f.path}  ${versions}  first ${f.firstBackedUp}  last ${f.lastBackedUp}  ` +
    stateText(f);
}

function stateText(f: FoundPath): string {
  switch (f.state) {
    case "backed-up":
      return "backed up";
    case "excluded":
      return f.excludedAt === undefined ? "excluded" : `excluded at ${f.excludedAt}`;
    case "deleted":
      return f.deletedAt === undefined ? "deleted" : `deleted at ${f.deletedAt}`;
    case "purged":
      return f.purgedAt === undefined ? "purged" : `purged at ${f.purgedAt}`;
  }
}

/**
 * The line for no match: with the way to write a path PATTERN where one was given as the
 * config writes them (from inside a source, or from its top with a leading '/'), which find
 * reads from the source's name; or, for one in single quotes of its own, that they are
 * part of it: Windows' cmd.exe passes them on (`find '*.docx'`, as this help writes it,
 * looked for names in quotes there), and names hardly ever begin and end with one.
 */
export function noMatch(patterns: readonly string[]): string {
  const none = `No recorded path matches ${patterns.map((p) => `'${p}'`).join(" or ")}`;
  const quoted = patterns.find((p) => /^'.+'$/s.test(p));
  if (quoted !== undefined) {
    return `${none}: the single quotes around ${quoted} are part of the PATTERN (cmd.exe ` +
      `passes them on): give it in double quotes, "${quoted.slice(1, -1)}", or none`;
  }
  const path = patterns.find((p) => p.includes("/") && !p.startsWith("*"));
  if (path === undefined) return none;
  const inside = path.replace(/^\/+/, "");
  return `${none}: a PATTERN with '/' is read from the source's name, as the logs write ` +
    `paths: write '*/${inside}' for the top of any source, or '**/${inside}' at any depth`;
}

/** Said once, after the paths: what to do with one. */
/** No match in the state asked for (`--state`). */
function noneIn(patterns: readonly string[], state: FoundState): string {
  const now = state === "backed-up" ? "backed up now" : `${state} now`;
  return `No recorded path matching ${patterns.map((p) => `'${p}'`).join(" or ")} is ${now}`;
}

function nextSteps(count: number): string {
  return `${count} recorded path${count === 1 ? "" : "s"} found: ` +
    `'${commandHint("history PATH")}' lists one's versions; ` +
    `'${commandHint("restore PATH --at TIME")}' restores it as it was then (for one deleted, ` +
    "its last time)";
}

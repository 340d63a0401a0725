/**
 * `history PATH`: every content the backup recorded for one file — version number, when
 * it became current and was replaced, size, hash, and where its copy lives (or when
 * retention removed it); of a folder that holds no file, when it stood. `history` alone: every run, when it ended and what it did.
 * Parses the options, reads what to show through restore/history_lookup.ts (the state
 * read-only, without the run lock; nothing written) and prints it.
 */
import { oneLine } from "../log/one_line.ts";
import { formatFolderHistory, formatHistory } from "../restore/history.ts";
import { formatRuns } from "../restore/runs.ts";
import { configForReading } from "../restore/bare_root.ts";
import { backupRuns, type FileHistory, fileHistory } from "../restore/history_lookup.ts";
import { flag, parseCommand, refuseEmptyPaths, str, UsageError } from "./args.ts";
import { say, warn } from "./stdout.ts";

const HISTORY_HELP = `Usage: backup-tool history [PATH] [--config FILE | --backup-root DIR] [--json]

Without PATH, lists every run of the backup, oldest first: its number, kind (run, watch,
repair), when it started and ended, how it ended (finished, finished with problems,
stopped, failed, interrupted, running, watching; "part-way" when it ended short after
recording part of its work) and its counts as its summary gave them. A run's ENDED time is
the moment 'restore --at' takes for the tree as that run left it.

With PATH, lists every stored content of one file, oldest first: its version number (what
'restore --version N' takes), when it became current, when it was replaced ("current"
while it still is), size, hash, and where its copy lives: the latest copy, versions/,
_duplicates/, _deleted/, "pruned by retention" with the time it was removed, or "lost"
when its copy was found missing from the backup root. Then a line for each time the
config left it out since it was backed up, and it was followed again (or deleted or
purged) since: from when to when, its last content backed up standing for it meanwhile
(none where purged: the purge deleted it from then on). Right after a run was interrupted,
a copy it moved before recording it is shown where it went (JSON: "movedTo").
A PATH naming a folder that holds no file (empty, or holding only folders) lists when
it stood, oldest first: from the run that first saw it to the one that found it gone
("standing" while it stands), as a restore --at makes it (docs/restore.md); a folder
with files is refused: give a file PATH under it.
PATH is relative to the source root (docs/a.txt), or written as the logs show it, the
source's name in front (source/docs/a.txt; required with several sources), or absolute,
or, given from a folder inside a source, ./ or ../ from there.

Options:
  --config FILE  Config file (default ./config.jsonc, then ./config.json)
  --backup-root DIR
                 Read the backup in DIR without a config (the computer and its config lost)
  --json         Print { "path": ..., "versions": [...] } with full hashes and ISO times
                 (versions is empty, with exit code 1, for a path never backed up;
                 "excluded": true, with "excludedAt", for a file an exclude
                 pattern took out since; "exclusions": [{"from", "to", "ended"}]
                 for each exclusion of it that ended; "stood": [{"from", "to"}],
                 "to" null while standing, for a folder that holds no file);
                 without PATH, { "backupRoot": ..., "runs": [...] }

Exit codes: 0 listed, 1 the path is not in the backup, 2 usage or configuration error.

Examples:
  backup-tool history
  backup-tool history docs/report.odt
  backup-tool history docs/report.odt --json | jq '.versions[] | select(.storedAt != null)'`;

export function historyCommand(argv: string[]): Promise<number> {
  const p = parseCommand("history", argv, {
    paths: true,
    boolean: ["json"],
    string: ["backup-root"],
  });
  if (flag(p, "help")) {
    say(HISTORY_HELP);
    return Promise.resolve(0);
  }
  refuseEmptyPaths("history", p);
  if (p.positionals.length > 1) {
    throw new UsageError(
      `Cannot show history: give one file PATH, or none for the list of runs (got ` +
        `${p.positionals.length}): see 'history --help'`,
    );
  }
  const config = configForReading("history", str(p, "config"), str(p, "backup-root"));
  const json = flag(p, "json");
  if (p.positionals.length === 0) {
    const runs = backupRuns(config);
    if (json) say(JSON.stringify({ backupRoot: config.backupRoot, runs }, null, 2));
    else say(formatRuns(config.backupRoot, runs));
    return Promise.resolve(0);
  }
  const history = fileHistory(config, p.positionals[0], warn, json);
  printHistory(history, json);
  return Promise.resolve(history.neverBackedUp === undefined ? 0 : 1);
}

/**
 * A file's contents (a folder's spans) as a table or JSON; for a path never backed up, the
 * line that says so.
 */
function printHistory(
  { path, entries, neverBackedUp, excluded, excludedAt, exclusions, stood }: FileHistory,
  json: boolean,
): void {
  if (neverBackedUp !== undefined) warn(oneLine(neverBackedUp));
  // Exit code 1 always comes with its document (docs/json.md): for it, no versions.
  if (json) {
    const doc = { path, excluded, excludedAt, versions: entries, exclusions, stood };
    say(JSON.stringify(doc, null, 2));
  } else if (stood !== undefined) say(formatFolderHistory(path, stood));
  else if (neverBackedUp === undefined) say(formatHistory(path, entries, exclusions)); // escaped there
}

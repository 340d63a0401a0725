/**
 * `history PATH`: every content the backup recorded for one file — version number, when
 * it became current and was replaced, size, hash, and where its copy lives (or when
 * retention removed it). `history` alone: every run, when it ended and what it did.
 * Reads the state read-only, without the run lock; writes nothing.
 */
import { historyTimesNote } from "../engine/clock_ahead.ts";
import { oneLine } from "../log/one_line.ts";
import { asRecorded } from "../restore/logged_path.ts";
import { leftSourceHint, spellingHint } from "../restore/select.ts";
import { formatHistory, historyEntries } from "../restore/history.ts";
import { formatRuns, runEntries } from "../restore/runs.ts";
import type { Config } from "../config/config.ts";
import { holderNow, resolverFor, runningNow, withState } from "../restore/open.ts";
import { configForReading } from "../restore/bare_root.ts";
import { prunedNow, unfinishedWarning, unfinishedWork, whereNow } from "../restore/unfinished.ts";
import { isStoredCopy, storedEntry } from "../engine/fsops.ts";
import { flag, parseCommand, refuseEmptyPaths, str, UsageError } from "./args.ts";
import { say, warn } from "./stdout.ts";

export const HISTORY_HELP =
  `Usage: backup-tool history [PATH] [--config FILE | --backup-root DIR] [--json]

Without PATH, lists every run of the backup, oldest first: its number, kind (run, watch,
repair), when it started and ended, how it ended (finished, finished with problems,
stopped, failed, interrupted, running, watching; "part-way" when it ended short after
recording part of its work) and its counts as its summary gave them. A run's ENDED time is
the moment 'restore --at' takes for the tree as that run left it.

With PATH, lists every stored content of one file, oldest first: its version number (what
'restore --version N' takes), when it became current, when it was replaced ("current"
while it still is), size, hash, and where its copy lives: the latest copy, versions/,
_duplicates/, _deleted/, "pruned by retention" with the time it was removed, or "lost"
when its copy was found missing from the backup root. Right after a run was interrupted,
a copy it moved before recording it is shown where it went (JSON: "movedTo").
PATH is relative to the source root (docs/a.txt), or written as the logs show it, the
source's name in front (source/docs/a.txt; required with several sources), or absolute,
or, given from a folder inside a source, ./ or ../ from there.

Options:
  --config FILE  Config file (default ./config.jsonc, then ./config.json)
  --backup-root DIR
                 Read the backup in DIR without a config (the computer and its config lost)
  --json         Print { "path": ..., "versions": [...] } with full hashes and ISO times
                 (versions is empty, with exit code 1, for a path never backed up);
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
  if (p.positionals.length === 0) return Promise.resolve(listRuns(config, flag(p, "json")));
  const given = p.positionals[0];
  const { path, copies, folder, unfinished, otherForm, latest, spelled } = withState(
    config,
    (store) => {
      const resolver = resolverFor(config, store);
      const path = asRecorded(resolver, given);
      const unfinished = unfinishedWork(store.pendingIntents());
      const copies = store.copiesOf(path);
      // The same name in the other Unicode form (what a Mac's file system gives: é as e
      // and an accent), which a terminal shows alike.
      const otherForm = copies.length > 0
        ? undefined
        : [path.normalize("NFC"), path.normalize("NFD")].find((p) =>
          p !== path && store.copiesOf(p).length > 0
        );
      const latest = store.latestRunTime();
      const folder = resolver.isFolder(path);
      const other = resolver.otherReading(given) ?? resolver.leftReading(path);
      const spelled = copies.length > 0 || folder || otherForm
        ? ""
        : leftSourceHint(store, other) || resolver.storedCopyHintFor(given, path) ||
          spellingHint(store, path, other);
      return { path, copies, folder, unfinished, otherForm, latest, spelled };
    },
  );
  const warning = unfinishedWarning(unfinished, "shows", runningNow(config));
  if (warning) warn(warning);
  const clockNote = copies.length > 0 ? historyTimesNote(latest, Date.now()) : undefined;
  if (clockNote) warn(clockNote);
  if (copies.length === 0 && folder) {
    throw new UsageError(`Cannot show history of folder '${given}': give a file PATH under it`);
  }
  if (copies.length === 0) {
    const hint = otherForm === undefined
      ? spelled
      : `, but the same name written ${
        unicodeForm(otherForm)
      } was: give the path as the disk spells it (the two look alike on screen)`;
    warn(
      oneLine(`Cannot show history of '${given}': '${path}' was never backed up${hint}`),
    );
    // Exit code 1 always comes with its document (docs/json.md): here, no versions.
    if (flag(p, "json")) say(JSON.stringify({ path, versions: [] }, null, 2));
    return Promise.resolve(1);
  }
  const held = (storage: string) => isStoredCopy(storedEntry(config.backupRoot, storage));
  const entries = historyEntries(
    copies,
    (at) => whereNow(unfinished, at, held),
    (at) => prunedNow(unfinished, at, held),
  );
  if (flag(p, "json")) say(JSON.stringify({ path, versions: entries }, null, 2));
  else say(formatHistory(path, entries)); // escaped there, cell by cell
  return Promise.resolve(0);
}

/**
 * `history` without a path: every run of the backup. A run that holds the backup root is
 * asked for before the state is read and after (one that ended between the two is not
 * taken for one killed); the list itself shows runs interrupted, without a warning.
 */
function listRuns(config: Config, json: boolean): number {
  const before = holderNow(config);
  const recorded = withState(config, (store) => store.recordedRuns());
  const runs = runEntries(recorded, before ?? holderNow(config));
  if (json) say(JSON.stringify({ backupRoot: config.backupRoot, runs }, null, 2));
  else say(formatRuns(config.backupRoot, runs));
  return 0;
}

/** Which Unicode normal form a name is written in, as people know them. */
function unicodeForm(name: string): string {
  return name === name.normalize("NFD")
    ? "decomposed (NFD, as macOS writes names)"
    : "composed (NFC)";
}

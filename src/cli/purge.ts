/**
 * `purge PATH...`: deletes every stored copy of files no run backs up any more (excluded
 * now, or deleted from the source), asked by name. Without `--yes` it lists them and
 * changes nothing. Parses the options, decides and deletes through restore/purge.ts, and
 * prints.
 */
import { loadConfigFor } from "../restore/open.ts";
import {
  purgeCopies,
  type PurgeListing,
  purgeListing,
  type PurgeOutcome,
  recordLine,
} from "../restore/purge.ts";
import type { PurgeItem } from "../core/purge_plan.ts";
import { formatBytes } from "../core/format_bytes.ts";
import { oneLine } from "../log/one_line.ts";
import { counted } from "../log/counted.ts";
import { flag, parseCommand, refuseEmptyPaths, str, UsageError } from "./args.ts";
import { say, warn } from "./stdout.ts";
import { stopGracefully } from "./stop.ts";

const PURGE_HELP = `Usage: backup-tool purge PATH... [--yes] [--config FILE] [--json] [--quiet]

Deletes from the backup every stored copy of files no run backs up any more: a secret
or a huge file backed up by mistake. Each PATH is read as restore and history read it;
a folder means every file recorded under it. Its latest copy, its duplicate copy, its
versions/ and its _deleted/ copies all go; the state records them purged, so history
says so and a restore of a moment that needs one says it was purged. The records of
its contents whose copy went before (lost, or pruned by retention) are marked purged
too, a symlink's target cleared from them.

Only files no run backs up may be purged: excluded by the config now, or deleted from
the source (and a run since). A PATH, or any file under a folder PATH, that a run still
backs up refuses the whole purge (exit 2, nothing changed): add it to exclude, or
delete it from the source and run, then purge. The whole backup ('.', or with one
source its name) is refused too.

Without --yes nothing is changed: each copy that would be deleted is listed, with the
total size. With --yes they are deleted under the backup root's lock (as a run takes
it), each logged 'PURGE delete: <copy>' in a purge log; an interrupted purge is finished
by the next run (the records of copies gone before by the same purge again).

Options:
  --yes          Delete the copies listed (without it, only list them)
  --config FILE  Config file (default ./config.jsonc, then ./config.json)
  --json         Print { paths, copies (each with path, version, location, storedAt,
                 size), bytes, records (each with path, version, location), purged,
                 errors }, and with --yes missing (the copies found already missing)
                 and leftInPlace (those whose place holds something else)
  --quiet, -q    Print nothing but problems (and, without --yes, the copies listed)

Exit codes: 0 listed or purged, 1 a copy could not be deleted, or is kept because it
holds the only stored bytes of a file still backed up whose own copy is missing, or
cannot be looked at (named, listed or not: run 'verify --repair' first, or purge as a
user who may enter the backup root's folders), 2 usage or configuration error, a PATH
still backed up or never backed up (nothing changed),
3 a run, watch session, repair or other purge holds the backup root's lock (--yes);
130, 143 or 129: stopped by SIGINT (Ctrl-C), SIGTERM or SIGHUP after the batch in
progress (a second signal stops at once, the next run completing that batch).

Examples:
  backup-tool purge .env
  backup-tool purge .env --yes
  backup-tool purge vm/disk.qcow2 old-photos/ --yes`;

export async function purgeCommand(argv: string[]): Promise<number> {
  const p = parseCommand("purge", argv, {
    paths: true,
    boolean: ["yes", "json", "quiet"],
  });
  if (flag(p, "help")) {
    say(PURGE_HELP);
    return 0;
  }
  refuseEmptyPaths("purge", p);
  if (p.positionals.length === 0) {
    throw new UsageError(
      "Missing PATH for 'purge': give the files or folders to purge: " +
        "see 'purge --help'",
    );
  }
  const config = loadConfigFor(str(p, "config"), { asksPatterns: true });
  const json = flag(p, "json");
  const quiet = flag(p, "quiet");
  // Refused (exit 2) before the lock is taken: a refusal changes nothing, not even a log.
  const listing = purgeListing(config, p.positionals);
  if (!flag(p, "yes") || listing.items.length + listing.records.length === 0) {
    // The copies it keeps are said as the purge would say them: exit 1 (purge_held.ts).
    const errors = listing.held.map(({ item, message }) => ({ path: item.action.path, message }));
    for (const e of errors) warn(oneLine(`ERROR: ${e.path}: ${e.message}`));
    if (json) say(JSON.stringify(document(listing, false, errors), null, 2));
    else {
      for (const item of listing.items) say(oneLine(itemLine(item)));
      for (const record of listing.records) say(oneLine(recordLine(record)));
      const nothing = listing.items.length + listing.records.length === 0;
      // Nothing to purge but copies kept: their lines say it all.
      if ((!quiet || nothing) && !(nothing && errors.length > 0)) {
        say(oneLine(listingSummary(listing)));
      }
    }
    return errors.length === 0 ? 0 : 1;
  }
  // A stop signal ends the purge after the batch in progress; the same purge again deletes
  // the copies left.
  const stop = stopGracefully("the next run completes the interrupted batch");
  let done: PurgeOutcome;
  try {
    // Its ERROR lines are said on stderr below, once, as a run says its failures.
    done = await purgeCopies(config, p.positionals, (line) => {
      if (!json && !quiet && !line.startsWith("ERROR: ")) say(oneLine(line));
    }, stop.signal);
  } finally {
    stop.dispose();
  }
  if (done.unfinishedNote) warn(oneLine(`Note: ${done.unfinishedNote}`));
  const { errors, warnings } = done.result;
  for (const w of warnings) warn(oneLine(`WARNING: ${w.path}: ${w.message}`));
  for (const e of errors) warn(oneLine(`ERROR: ${e.path}: ${e.message}`));
  if (json) {
    const missing = done.missing.map((i) => i.action.storedAt);
    const leftInPlace = done.leftInPlace.map((i) => i.action.storedAt);
    // The bytes deleted: not those of a copy left in place, nor of one found missing.
    const doc = { ...document(done, true, errors), bytes: done.freed, missing, leftInPlace };
    say(JSON.stringify(doc, null, 2));
  } // A copy found missing is said with --quiet too: the backup lost it before the purge.
  else if (!quiet || done.stopped || done.missing.length > 0) say(oneLine(outcomeSummary(done)));
  const stoppedCode = done.stopped ? stop.exitCode() : undefined;
  return stoppedCode ?? (errors.length + warnings.length === 0 ? 0 : 1);
}

/** A copy the purge would delete, as listed without --yes. */
function itemLine({ action: a, location, size }: PurgeItem): string {
  return `PURGE: ${a.storedAt} (${a.path} v${a.seq}, ${location}, ${formatBytes(size)})`;
}

function listingSummary(l: PurgeListing): string {
  const paths = l.paths.map((p) => `'${p}'`).join(", ");
  if (l.items.length + l.records.length === 0) {
    return `Nothing to purge: no stored copy is recorded at ${paths} (already purged)`;
  }
  const files = new Set(l.items.map((i) => i.action.path)).size;
  const records = `mark ${
    counted(l.records.length, "record of a copy", "records of copies")
  } gone before (lost or pruned) purged`;
  if (l.items.length === 0) {
    return `Purge would ${records}; nothing was changed: run the same purge again with --yes ` +
      "to do it";
  }
  return `Purge would delete ${counted(l.items.length, "stored copy", "stored copies")} of ` +
    `${counted(files, "file", "files")} (${formatBytes(l.bytes)})` +
    `${l.records.length === 0 ? "" : ` and ${records}`}; nothing was deleted: run the same ` +
    "purge again with --yes to delete them";
}

function outcomeSummary(done: PurgeOutcome): string {
  const { prune, failed } = done.result.counts;
  const log = done.logFile ? `; log: ${done.logFile}` : "";
  const title = done.stopped ? "Purge stopped before it finished" : "Purge complete";
  const left = done.stopped ? "; run the same purge again to delete the copies left" : "";
  const { missing, leftInPlace } = done;
  // Neither a copy already missing nor one left in place (its deletion failed) freed any.
  const bytes = done.stopped ? "" : ` (${formatBytes(done.freed)})`;
  const gone = missing.length === 0
    ? ""
    : `, ${missing.length} already missing from the backup root (recorded as purged)`;
  const other = leftInPlace.length === 0 ? "" : `, ${leftInPlace.length} left in place ` +
    "(something not the copy recorded stands there: see the log's PURGE forget lines)";
  const records = done.stopped || done.records.length === 0
    ? ""
    : `, ${counted(done.records.length, "record of a copy", "records of copies")} gone ` +
      "before marked purged";
  const deleted = prune - missing.length - leftInPlace.length;
  return `${title}: ${counted(deleted, "stored copy", "stored copies")} ` +
    `purged${bytes}${gone}${other}${records}, ${failed} failed${left}${log}`;
}

function document(
  l: PurgeListing,
  purged: boolean,
  errors: { path: string; message: string }[],
) {
  const copies = l.items.map(({ action: a, location, size }) => ({
    path: a.path,
    version: a.seq,
    location,
    storedAt: a.storedAt,
    size,
  }));
  const records = l.records.map((r) => ({ path: r.path, version: r.seq, location: r.location }));
  return { paths: l.paths, copies, bytes: l.bytes, records, purged, errors };
}

/**
 * `verify`: re-hashes the stored copies (all, or a random sample) and compares them with
 * the state; reports missing copies, changed ones (bit rot, tampering) and files in the
 * backup root that the state does not know. Reads only; no lock is taken, so run it while
 * no backup is running. `--repair` takes the lock and makes bad copies again (repair.ts).
 * Parses the options, checks or repairs through restore/verify_request.ts, and prints.
 */
import { configForReading } from "../restore/bare_root.ts";
import type { VerifyReport } from "../restore/verify.ts";
import type { LinkedFolder } from "../restore/verify_listing.ts";
import type { Config } from "../config/config.ts";
import { outcomeLine } from "../restore/repair.ts";
import { checkBackup, repairBackup, type RepairResult } from "../restore/verify_request.ts";
import { forgottenLine } from "../restore/forget.ts";
import { flag, parseCommand, type Parsed, str, UsageError } from "./args.ts";
import { oneLine } from "../log/one_line.ts";
import { say, warn } from "./stdout.ts";
import { sayOpenFilesRemedy } from "./summary.ts";
import { stopGracefully } from "./stop.ts";
import { StoppedError } from "../engine/event_turn.ts";
import { commandHint } from "../config/selection.ts";

const VERIFY_HELP =
  `Usage: backup-tool verify [--repair [--forget-missing [--force]]] [--sample PERCENT]
                         [--config FILE | --backup-root DIR] [--json] [--quiet]

Checks that the backup is intact: every stored copy the state records must exist and
still have its recorded hash, and the backup root must hold no file the state does not
know (.backup-tool/ is not walked; the state in it is checked whole first: a damaged one
exits 2). Every copy's presence is always checked; --sample re-hashes only a random
share of them. A symlink put by hand in the place of a folder holding copies (versions/
moved to another disk) is walked through, with a warning.

With --repair, missing and changed copies are made again, under the backup root's lock:
from a file that holds the same content now (a source file, else another stored copy;
checked against the recorded hash), a symlink from its recorded target. A changed copy
is kept in .backup-tool/damaged/, never deleted. Copies nothing holds are named.

With --forget-missing (which implies --repair), old versions and deleted files whose
copies are missing and that nothing holds any more (removed by hand to free space) are
recorded as lost, each logged: verify stops naming them, history shows them lost, and a
restore of a moment that needs one says so. Current copies are never forgotten (the next
run copies them again, or records them lost as it archives them). Refused when more than
safety.max_delete_percent of the old copies would be, unless --force.

Options:
  --repair          Make missing, changed and unreadable copies again from a source file or
                    another copy that still holds their content
  --forget-missing  Record old copies that are missing and cannot be made again as lost
  --force           With --forget-missing: beyond safety.max_delete_percent too
  --sample PERCENT  Re-hash a random PERCENT (above 0, up to 100, decimals allowed) of the copies
  --config FILE     Config file (default ./config.jsonc, then ./config.json)
  --backup-root DIR Check the backup in DIR without a config (its sources as the backup
                    recorded them; a repair's log goes to ./logs)
  --json            Print { ok, checked, total, missing, changed, unknown, unreadable (each
                    with kind folder or copy; a copy with its path and version),
                    unfinished, linked (symlinks in a folder's place walked through) },
                    and with --repair also repaired and notRepaired, and
                    with --forget-missing forgotten, and forgetRefused (why none was)
                    only when safety.max_delete_percent held them back
  --quiet, -q       Print nothing but problems (with --repair, and its summary where it
                    found any; not each copy made again, which its log names)

Exit codes: 0 intact (with --repair: intact once repaired; with --sample: no damage in
the copies re-hashed, the others' bytes not checked), 1 something is missing,
changed or unknown, or a folder could not be read (each is named), 2 usage or
configuration error, 3 (--repair) a backup holds the lock; 130, 143 or 129 (--repair):
stopped by SIGINT (Ctrl-C), SIGTERM or SIGHUP within about 250 ms, a large copy's read cut
short (a second signal stops at once), the rest left for the next repair.

Examples:
  backup-tool verify
  backup-tool verify --sample 5 --json | jq .changed
  backup-tool verify --repair
  backup-tool verify --forget-missing`;

export async function verifyCommand(argv: string[]): Promise<number> {
  const p = parseCommand("verify", argv, {
    string: ["sample", "backup-root"],
    boolean: ["json", "quiet", "repair", "forget-missing", "force"],
  });
  if (flag(p, "help")) {
    say(VERIFY_HELP);
    return 0;
  }
  if (p.positionals.length > 0) {
    throw new UsageError(
      `Unexpected argument '${p.positionals[0]}' for 'verify': see 'verify --help'`,
    );
  }
  if (flag(p, "force") && !flag(p, "forget-missing")) {
    throw new UsageError(
      "Option '--force' of 'verify' applies to --forget-missing only: see 'verify --help'",
    );
  }
  const samplePercent = readSample(str(p, "sample"));
  const repairing = flag(p, "repair") || flag(p, "forget-missing");
  const config = configForReading("verify", str(p, "config"), str(p, "backup-root"), repairing);
  if (repairing) {
    return await repairCommand(config, samplePercent, p);
  }
  const report = await checkBackup(config, samplePercent, warn);
  if (flag(p, "json")) say(JSON.stringify(report, null, 2));
  else printReport(report, flag(p, "quiet"), samplePercent, REPAIR_HINT);
  return report.ok ? 0 : 1;
}

/** `--repair` or `--forget-missing`: the check and the repair under the lock. */
async function repairCommand(
  config: Config,
  samplePercent: number | undefined,
  p: Parsed,
): Promise<number> {
  const json = flag(p, "json");
  const quiet = flag(p, "quiet");
  const forgetting = flag(p, "forget-missing");
  // In text, what verify found and each copy made again are said as they come (a repair
  // killed midway has said what it did); what could not be repaired, at the end.
  let unknownSaid = 0;
  // A stop signal ends the repair between two copies or two blocks read, its session
  // recorded as stopped (not left as a killed one for the next run to report); a second
  // one ends it at once.
  const stop = stopGracefully(
    "the next verify --repair checks and repairs the rest",
    "in a moment",
  );
  let result: RepairResult;
  try {
    result = await repairBackup(config, {
      samplePercent,
      forgetMissing: forgetting,
      force: flag(p, "force"),
      onReport: json ? undefined : (r) => {
        // Its summary not with --quiet: the repair's, at the end, is the one that counts.
        printReport(r, true, samplePercent, undefined, !quiet);
        unknownSaid = r.unknown.length;
      },
      // Not with --quiet, as a quiet run names none of its actions: the summary counts them.
      onRepaired: json || quiet ? undefined : (o) => say(oneLine(outcomeLine(o))),
      // On stderr, as run says it (the document has no place for it): a scheduled repair's
      // mail is where a killed run is first heard of.
      onUnfinished: (note) => warn(oneLine(`Note: ${note}`)),
      signal: stop.signal,
    });
  } catch (e) {
    if (!(e instanceof StoppedError)) throw e;
    warn(
      "Verify stopped before it finished: the copies made again stay made; " +
        `run '${commandHint("verify --repair")}' again to check and repair the rest`,
    );
    return stop.exitCode() ?? 1;
  } finally {
    stop.dispose();
  }
  if (json) printRepairDocument(result, forgetting);
  else printRepair(result, { unknownSaid, forgetting, quiet, samplePercent });
  return result.ok ? 0 : 1;
}

function printRepairDocument(result: RepairResult, forgetting: boolean): void {
  const { report, ok, repaired, notRepaired, forgotten, forgetRefused } = result;
  const forgetKeys = forgetting ? { forgotten, forgetRefused } : {};
  say(JSON.stringify({ ...report, ok, repaired, notRepaired, ...forgetKeys }, null, 2));
}

/**
 * What the repair could not do, and its summary line; `unknownSaid`: unknown files said.
 * `quiet` leaves out the copies forgotten (as the copies repaired: the log names each) and,
 * where the check found nothing, the summary: a repair that made copies again says so, in
 * its summary, after the problems it found.
 */
function printRepair(
  { report, ok, repaired, notRepaired, unreadableLeft, forgotten, forgetRefused }: RepairResult,
  { unknownSaid, forgetting, quiet, samplePercent }: {
    unknownSaid: number;
    forgetting: boolean;
    quiet: boolean;
    samplePercent?: number;
  },
): void {
  for (const u of report.unknown.slice(unknownSaid)) printUnknown(u.file);
  if (!quiet) { for (const o of forgotten) say(oneLine(forgottenLine(o))); }
  for (const o of notRepaired) warn(oneLine(outcomeLine(o)));
  sayOpenFilesRemedy(notRepaired.map((o) => o.error));
  if (forgetRefused) warn(oneLine(forgetRefused));
  if (quiet && report.ok) return;
  const forgottenSaid = forgetting ? `${forgotten.length} forgotten, ` : "";
  say(
    `Repair: ${repaired.length} repaired, ${notRepaired.length} not repaired, ` +
      `${forgottenSaid}${report.unknown.length} unknown file(s)` +
      (unreadableLeft > 0 ? `, ${unreadableLeft} unreadable (see above)` : "") +
      (ok ? `: ${repairedVerdict(report, samplePercent)}` : ""),
  );
}

/**
 * Whether `--sample` left copies out: not at 100, nor where its share, rounded up, took
 * every copy present (a sample of 60 of two copies re-hashes both).
 */
const partial = (r: VerifyReport, sample: number | undefined) =>
  sample !== undefined && leftOut(r) > 0;

/** A repair's verdict once everything found was repaired: with a sample, of the sample only. */
function repairedVerdict(report: VerifyReport, sample: number | undefined): string {
  if (!partial(report, sample)) return "intact";
  const copies = report.checked === 1 ? "copy" : "copies";
  return `no damage left in the ${report.checked} ${copies} re-hashed (a ${sample}% sample); ` +
    `${notRehashed(report)}`;
}

function readSample(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = /^(\d+(\.\d+)?|\.\d+)$/.test(text) ? Number(text) : NaN;
  if (!(n > 0 && n <= 100)) {
    throw new UsageError(
      `Invalid --sample value '${text}': expected a percentage above 0 and at most 100, e.g. 5`,
    );
  }
  return n;
}

/**
 * The next step a failed verify names, where there are copies to make again (unknown files
 * are the user's to move: no command of this tool removes them).
 */
const REPAIR_HINT = (r: VerifyReport) =>
  r.missing.length + r.changed.length + r.unreadable.filter((u) => u.kind === "copy").length > 0
    ? `: run '${
      commandHint("verify --repair")
    }' to make the bad copies again from the sources or ` +
      "other stored copies"
    : "";

function printReport(
  r: VerifyReport,
  quiet: boolean,
  sample: number | undefined,
  hint: (r: VerifyReport) => string = () => "",
  summary = true,
): void {
  for (const m of r.missing) warn(oneLine(`MISSING: ${m.file} (${m.path} v${m.version})`));
  for (const c of r.changed) {
    warn(oneLine(
      `CHANGED: ${c.file} (${c.path} v${c.version}): expected ${c.algo} ${c.expected}, ` +
        `found ${c.found}`,
    ));
  }
  for (const u of r.unknown) printUnknown(u.file);
  for (const u of r.unreadable) {
    const what = u.kind === "folder"
      ? "the copies below it could not be checked"
      : "the copy could not be re-hashed";
    warn(oneLine(`UNREADABLE: ${u.file}: ${u.error} (${what})`));
  }
  for (const l of r.linked) warn(oneLine(linkedWarning(l)));
  if (!summary || (quiet && r.ok)) return;
  const sampled = sample === undefined ? "" : ` (a ${sample}% sample)`;
  const verdict = !partial(r, sample)
    ? "intact"
    : `no damage found in those; ${notRehashed(r)} (verify without --sample checks every copy)`;
  say(
    r.ok
      ? `Verify: ${present(r.total)}, ${r.checked} re-hashed${sampled}: ${verdict}`
      : `Verify failed: ${r.missing.length} missing, ${r.changed.length} changed, ` +
        `${r.unknown.length} unknown file(s)${unreadable(r)}; ${r.checked} re-hashed${sampled}` +
        hint(r),
  );
}

/**
 * What a sample leaves unsaid: the copies neither re-hashed nor found missing or unreadable
 * (nor, by a repair, made again), whose damage it cannot know of.
 */
function notRehashed(r: VerifyReport): string {
  const left = leftOut(r);
  return left === 1 ? "the other 1 was not re-hashed" : `the other ${left} were not re-hashed`;
}

/** How many copies a sample left out: neither re-hashed nor found missing or unreadable. */
function leftOut(r: VerifyReport): number {
  const copiesUnread = r.unreadable.filter((u) => u.kind === "copy").length;
  return r.total - r.checked - r.missing.length - copiesUnread;
}

/** What is said of a symlink put by hand in a folder's place, which verify walked through. */
function linkedWarning(l: LinkedFolder): string {
  return `WARNING: '${l.file}' is a symlink put in the backup root by hand (to '${l.target}'): ` +
    "the copies below it were checked where it leads, as restore reads them, but runs never " +
    "go through it (they store copies at a free name beside it, such as " +
    `'${l.file}.~2', and leave those behind it in place when retention drops them): move ` +
    "the folder back in its place";
}

function printUnknown(file: string): void {
  warn(oneLine(`UNKNOWN: ${file} (not recorded in the state)`));
}

/** `all 5 stored copies present`, but `1 stored copy present`, never `all 1 … copies`. */
const present = (total: number) =>
  total === 1 ? "1 stored copy present" : `all ${total} stored copies present`;

const unreadable = (r: VerifyReport) =>
  r.unreadable.length === 0 ? "" : `, ${r.unreadable.length} unreadable`;

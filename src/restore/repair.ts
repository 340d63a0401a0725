/**
 * `verify --repair`: stored copies that verify found missing or changed are made again
 * (repair_copies.ts: from a file that holds the same content now, checked against the
 * recorded digest; a damaged copy kept in `.backup-tool/damaged/`, damaged_aside.ts). A
 * copy nothing holds any more is named, with why; with `forgetMissing`, an old one missing
 * is recorded as lost instead (forget.ts).
 *
 * This file holds the session: verify under the lock, what the copies may be made from
 * (the state's holders, the other copies, the unknown files by size), one more try for the
 * copies that failed, the forgetting, and the log lines. Runs under the lock. An
 * interruption leaves at most a temporary file (the next run removes it) and a damaged
 * copy's second name in `damaged/`; the copy's own path holds the damaged copy or the new
 * one at every moment.
 */
import type { Config } from "../config/config.ts";
import { openSession, type Session } from "../engine/session/session.ts";
import { requireBackup } from "./open.ts";
import { requireIntactStateBeforeRepair } from "./verify_state.ts";
import { catalogOf, verifyBackup, type VerifyOptions, type VerifyReport } from "./verify.ts";
import { standingAt } from "./verify_listing.ts";
import { othersHoldingAnyAlgo } from "./other_algos.ts";
import type { StoredCopy } from "../state/store.ts";
import { storedEntry } from "../engine/fs/fsops.ts";
import { StoppedError } from "../engine/event_turn.ts";
import { copyKey, forgetMissing, forgottenLine } from "./forget.ts";
import {
  NOTHING_HOLDS,
  type RepairContext,
  repairCopies,
  type RepairOutcome,
} from "./repair_copies.ts";
import { commandHint } from "../config/selection.ts";

export interface RepairReport {
  report: VerifyReport;
  outcomes: RepairOutcome[];
  /** Everything found was repaired and nothing unknown is in the backup root. */
  ok: boolean;
  /** Copies and folders that could not be read, and were not made again. */
  unreadableLeft: number;
  /** With `forgetMissing`: the old copies recorded as lost (not among `outcomes`). */
  forgotten: RepairOutcome[];
  /** Why none was forgotten, when the limit held them back. */
  forgetRefused?: string;
}

/** What `verifyAndRepair` is told, beside the config. */
export type RepairOptions = Pick<VerifyOptions, "samplePercent"> & {
  /** What verify found, before anything is repaired. */
  onReport?: (report: VerifyReport) => void;
  /** Each copy as it is made again: a repair killed midway has said what it did. */
  onRepaired?: (o: RepairOutcome) => void;
  /**
   * Said at once where the lock was taken over from sessions that were killed
   * (`Session.unfinishedNote`), whose journaled work the session then finished.
   */
  onUnfinished?: (note: string) => void;
  /** Old copies missing and not repaired are recorded as lost (forget.ts). */
  forgetMissing?: boolean;
  /** Forget them beyond `safety.max_delete_percent` too. */
  force?: boolean;
  /**
   * A stop signal: the check or the repair ends between two copies, the session is
   * recorded `stopped` and `StoppedError` thrown (what was made again stays made).
   */
  signal?: AbortSignal;
};

/**
 * Verifies under the lock, then repairs what is missing or changed; each outcome is
 * logged in a `verify` log file, and the session is recorded like a run.
 */
export async function verifyAndRepair(
  config: Config,
  opts: RepairOptions,
): Promise<RepairReport> {
  requireBackup(config);
  requireIntactStateBeforeRepair(config); // before the session writes to it
  // A lost source folder is when a repair from the backup's other copies matters most.
  const session = await openSession(config, "verify", {
    sourcesRequired: false,
    backupRequired: true,
  });
  if (session.unfinishedNote) opts.onUnfinished?.(session.unfinishedNote);
  let status = "failed";
  try {
    const report = await verifyBackup(config.backupRoot, catalogOf(session.store), opts);
    opts.onReport?.(report);
    const repaired = await repairFound(config, session, report, opts);
    status = repaired.ok ? "ok" : "partial";
    return repaired;
  } catch (e) {
    if (e instanceof StoppedError) {
      status = "stopped";
      session.log.line(STOPPED_LINE);
    }
    throw e;
  } finally {
    session.close(status, {});
  }
}

/** Makes again the copies `report` found bad, forgets what it must, and logs the outcome. */
async function repairFound(
  config: Config,
  session: Session,
  report: VerifyReport,
  opts: RepairOptions,
): Promise<RepairReport> {
  const store = session.store;
  // A copy that cannot be read (its permissions changed by hand) is as good as damaged:
  // restore cannot read it either. It is kept aside, like a changed one.
  const unreadable = report.unreadable.filter((u) => u.kind === "copy" && u.path !== undefined);
  const todo = [...report.missing, ...report.changed, ...unreadable].map((b) =>
    store.copiesOf(b.path!).find((c) => c.seq === b.version)!
  );
  const sourcesOf = copySources(config, session, report, todo);
  const where = new Map(todo.map((c) => [copyKey(c.path, c.seq), c.location]));
  const isOld = (key: string) => where.get(key) === "version" || where.get(key) === "deleted";
  // Not one behind a symlink put in a folder's place: --forget-missing forgets none of those.
  const behindLink = (file: string) => report.linked.some((l) => file.startsWith(`${l.file}/`));
  const changedOld = new Set(
    report.changed.filter((b) => !behindLink(b.file)).map(copyKeyOf).filter(isOld),
  );
  const missingOld = new Set(
    report.missing.filter((b) => !behindLink(b.file)).map(copyKeyOf).filter(isOld),
  );
  const logged = outcomeLogger(session, { unreadable, changedOld, missingOld }, opts);
  let outcomes = await repairCopies(
    sourcesOf.ctx,
    todo,
    (o) => o.error === undefined && logged(o),
    opts.signal,
  );
  // A copy made again may be what another one lacked: after a hash_algorithm change, a
  // source file recorded under the new algorithm is found only through its stored copy,
  // which may have been among the damaged. The others are tried once more, the copies
  // under other algorithms looked at anew.
  const firstFailed = outcomes.filter((o) => o.error !== undefined);
  if (firstFailed.length > 0 && firstFailed.length < outcomes.length) {
    sourcesOf.lookAgain();
    const retry = new Set(firstFailed.map((o) => o.file));
    const again = await repairCopies(
      sourcesOf.ctx,
      todo.filter((c) => retry.has(c.storedAt!)),
      logged,
      opts.signal,
    );
    outcomes = [...outcomes.filter((o) => o.error === undefined), ...again];
  } else firstFailed.forEach(logged);
  noteMadeElsewhere(config.backupRoot, outcomes, report);
  const forget = forgetUnrepairable(config, session, report, todo, outcomes, opts);
  outcomes = forget.outcomes;
  const failed = outcomes.filter((o) => o.error !== undefined).length;
  const repaired = new Set(outcomes.filter((o) => o.error === undefined).map(copyKeyOf));
  const unreadableLeft = report.unreadable.filter((u) =>
    u.kind !== "copy" || u.path === undefined || !repaired.has(copyKeyOf(u))
  );
  const forgottenSaid = opts.forgetMissing ? `, ${forget.forgotten.length} forgotten` : "";
  session.log.line(
    `Verify complete: ${outcomes.length - failed} repaired, ${failed} not repaired` +
      `${forgottenSaid}, ${report.unknown.length} unknown file(s)`,
  );
  return {
    report,
    outcomes,
    ok: report.unknown.length + unreadableLeft.length === 0 && failed === 0,
    unreadableLeft: unreadableLeft.length,
    forgotten: forget.forgotten,
    forgetRefused: forget.refused,
  };
}

/**
 * With `forgetMissing`, records as lost the old copies missing that nothing holds the
 * content of any more (one that failed for want of room, or because a file that may hold it
 * could not be read, is made again by a later repair, and a copy recorded as lost never
 * is), and logs them, and the failures left, once each; returns the outcomes left.
 */
function forgetUnrepairable(
  config: Config,
  session: Session,
  report: VerifyReport,
  todo: StoredCopy[],
  outcomes: RepairOutcome[],
  opts: RepairOptions,
): { outcomes: RepairOutcome[]; forgotten: RepairOutcome[]; refused?: string } {
  if (!opts.forgetMissing) return { outcomes, forgotten: [] };
  const store = session.store;
  const forget = forgetMissing(
    store,
    outcomes.filter((o) => o.error?.includes(NOTHING_HOLDS)),
    new Set(report.missing.map(copyKeyOf)),
    todo,
    {
      total: store.storedOldCopies(),
      maxPercent: config.maxDeletePercent,
      force: opts.force === true,
    },
  );
  for (const o of forget.forgotten) session.log.line(forgottenLine(o));
  const forgotten = new Set(forget.forgotten);
  const left = outcomes.filter((o) => !forgotten.has(o));
  for (const o of left) if (o.error !== undefined) session.log.line(outcomeLine(o));
  if (forget.refused) session.log.line(`ERROR: ${forget.refused}`);
  return { outcomes: left, forgotten: forget.forgotten, refused: forget.refused };
}

/**
 * By record, not by name: verify names a copy as the disk lists it (which a disk that
 * ignores case may spell otherwise).
 */
function copyKeyOf(c: { path?: string; version?: number }): string {
  return copyKey(c.path!, c.version!);
}

/**
 * Where the bad copies may be made again from: the state's holders of their contents, the
 * other copies of them (one read of the state, on the first need, and one more for copies
 * under another hash algorithm, should one need those; read anew after `lookAgain`), the
 * changed copies that hold another's content (renamed by hand over one another: where each
 * is now, kept aside once its own copy was made again), and the files verify found that no
 * copy is recorded at (a copy renamed by hand, or one a
 * copy of the backup root made while a run went on holds under its old name).
 */
function copySources(
  config: Config,
  session: Session,
  report: VerifyReport,
  todo: StoredCopy[],
): { ctx: RepairContext; lookAgain(): void } {
  let others: ((c: StoredCopy) => Iterable<string>) | undefined;
  const everyCopy = () => session.store.eachStoredCopy();
  const view = session.store.planView();
  let strays: ((size: number) => readonly string[]) | undefined;
  /** Changed copies kept aside once made again: where their content is now. */
  const aside = new Map<string, string>();
  const ctx: RepairContext = {
    root: config.backupRoot,
    sources: config.sources,
    holdersOf: view.holdersOf,
    storedWith: (c) => (others ??= othersHoldingAnyAlgo(config.backupRoot, todo, everyCopy))(c),
    changedHolding: (hash, algo) =>
      report.changed.filter((b) => b.algo === algo && b.found === hash)
        .map((b) => aside.get(b.file) ?? b.file),
    keptAside: (storedAt, damagedTo) => aside.set(storedAt, damagedTo),
    unknownOfSize: (size) =>
      (strays ??= straysBySize(config.backupRoot, report.unknown.map((u) => u.file)))(size),
    linksWalked: new Set(report.linked.map((l) => l.file)),
    placement: {
      isStoredAt: view.isFile,
      isStoredBelow: view.isDir,
      record: (c, storedAt) => session.store.recordStoredAt(c.id, storedAt),
    },
  };
  return { ctx, lookAgain: () => others = undefined };
}

/**
 * Logs an outcome, and writes the log out, as each is done: a repair killed midway still
 * says what it did (the log holds up to 4,096 lines otherwise; each copy costs an fsync
 * anyway). A copy that could not be repaired because nothing else holds its content, and
 * that could not be read itself, may be intact: its permissions changed, say. An old copy
 * found changed that nothing holds stays named by every verify: what to do is said.
 */
function outcomeLogger(
  session: Session,
  { unreadable, changedOld, missingOld }: {
    unreadable: VerifyReport["unreadable"];
    /** The old copies (versions, deleted files) found changed, by `copyKeyOf`. */
    changedOld: ReadonlySet<string>;
    /** The old copies found missing, by `copyKeyOf`. */
    missingOld: ReadonlySet<string>;
  },
  opts: RepairOptions,
): (o: RepairOutcome) => void {
  const unreadableWhy = new Map(unreadable.map((u) => [copyKeyOf(u), u.error]));
  return (o) => {
    const nothingHolds = o.error?.includes(NOTHING_HOLDS) === true;
    const why = nothingHolds ? unreadableWhy.get(copyKeyOf(o)) : undefined;
    if (why !== undefined) {
      o.error += `; the copy itself could not be read (${why}): if only its permissions ` +
        "were changed, give them back and verify again";
    } else if (nothingHolds && changedOld.has(copyKeyOf(o))) o.error += damagedOldRemedy();
    else if (nothingHolds && missingOld.has(copyKeyOf(o)) && !opts.forgetMissing) {
      o.error += missingOldRemedy();
    }
    // With forgetMissing, a failure is logged once it is known not to be forgotten
    // instead: the log would otherwise name one copy both NOT REPAIRED and FORGOTTEN.
    if (o.error !== undefined && opts.forgetMissing) return;
    session.log.line(outcomeLine(o));
    session.log.flush();
    if (o.error === undefined) opts.onRepaired?.(o);
  };
}

/** Logged where a stop signal ended the repair: what stays, and what finishes it. */
const STOPPED_LINE = "Verify stopped before it finished (a stop signal): the copies made " +
  "again stay made; verify --repair again checks and repairs the rest";

/**
 * What to do about an old copy found damaged whose content nothing holds: left in place
 * (restore refuses it, but part of it may be of use), it is named by every verify until it
 * is recorded as lost, which `--forget-missing` does once it is out of the backup root.
 */
const damagedOldRemedy = () =>
  ": the damaged copy stays where it is and every verify names it: if no other backup " +
  "holds this content, move it out of the backup root (keep it if part of it may be of " +
  `use), then run '${commandHint("verify --forget-missing")}' to record it as lost`;

/**
 * What to do about an old copy missing whose content nothing holds: one removed by hand to
 * free space is recorded as lost by `--forget-missing` (a forgetting repair says this itself).
 */
const missingOldRemedy = () =>
  ": if it was removed on purpose (to free space), run " +
  `'${commandHint("verify --forget-missing")}' to record it as lost; else put it back from ` +
  "another backup";

/** What stands where a copy was made elsewhere is now a file no copy is recorded at. */
function noteMadeElsewhere(root: string, outcomes: RepairOutcome[], report: VerifyReport): void {
  const unknown = new Set(report.unknown.map((u) => u.file));
  for (const o of outcomes) {
    if (o.movedTo === undefined) continue;
    for (const file of standingAt(root, o.file)) {
      if (!unknown.has(file)) report.unknown.push({ file }); // a folder's: listed already
      unknown.add(file);
    }
  }
}

/** One line per repaired (or unrepaired) copy, for the log and the terminal. */
export function outcomeLine(o: RepairOutcome): string {
  const copy = `${o.file} (${o.path} v${o.version})`;
  if (o.error !== undefined) return `NOT REPAIRED: ${copy}: ${o.error}`;
  const aside = o.damagedTo ? `; the damaged copy is kept at ${o.damagedTo}` : "";
  const moved = o.movedTo
    ? `; made at '${o.movedTo}', something put there by hand standing in its place`
    : "";
  return `REPAIRED: ${copy} from ${o.from}${aside}${moved}`;
}

/**
 * The files among `files` (storage paths) that are regular files reached through real
 * folders, by size: looked at once, on the first need.
 */
function straysBySize(root: string, files: string[]): (size: number) => readonly string[] {
  const bySize = new Map<number, string[]>();
  const real = new Set<string>();
  for (const file of files) {
    const info = storedEntry(root, file, real);
    if (info === undefined || info === "unsafe" || !info.isFile) continue;
    const list = bySize.get(info.size);
    if (list) list.push(file);
    else bySize.set(info.size, [file]);
  }
  return (size) => bySize.get(size) ?? [];
}

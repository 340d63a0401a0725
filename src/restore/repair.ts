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
import { openSession } from "../engine/session.ts";
import { requireBackup } from "./open.ts";
import { catalogOf, verifyBackup, type VerifyOptions, type VerifyReport } from "./verify.ts";
import { standingAt } from "./verify_listing.ts";
import { othersHoldingAnyAlgo } from "./other_algos.ts";
import type { StoredCopy } from "../state/store.ts";
import { storedEntry } from "../engine/fsops.ts";
import { copyKey, forgetMissing, forgottenLine } from "./forget.ts";
import {
  NOTHING_HOLDS,
  type RepairContext,
  repairCopies,
  type RepairOutcome,
} from "./repair_copies.ts";

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

/**
 * Verifies under the lock, then repairs what is missing or changed; each outcome is
 * logged in a `verify` log file, and the session is recorded like a run.
 */
export async function verifyAndRepair(
  config: Config,
  opts: Pick<VerifyOptions, "samplePercent"> & {
    /** What verify found, before anything is repaired. */
    onReport?: (report: VerifyReport) => void;
    /** Each copy as it is made again: a repair killed midway has said what it did. */
    onRepaired?: (o: RepairOutcome) => void;
    /** Old copies missing and not repaired are recorded as lost (forget.ts). */
    forgetMissing?: boolean;
    /** Forget them beyond `safety.max_delete_percent` too. */
    force?: boolean;
  },
): Promise<RepairReport> {
  requireBackup(config);
  // A lost source folder is when a repair from the backup's other copies matters most.
  const session = await openSession(config, "verify", {
    sourcesRequired: false,
    backupRequired: true,
  });
  let status = "failed";
  try {
    const store = session.store;
    const report = await verifyBackup(config.backupRoot, catalogOf(store), opts);
    opts.onReport?.(report);
    // A copy that cannot be read (its permissions changed by hand) is as good as damaged:
    // restore cannot read it either. It is kept aside, like a changed one.
    const unreadable = report.unreadable.filter((u) => u.kind === "copy" && u.path !== undefined);
    const todo = [...report.missing, ...report.changed, ...unreadable].map((b) =>
      store.copiesOf(b.path!).find((c) => c.seq === b.version)!
    );
    // The other copies of the bad copies' contents: one read of the state, on the first need
    // (and one more for copies under another hash algorithm, should one need those).
    let others: ((c: StoredCopy) => Iterable<string>) | undefined;
    const everyCopy = () => store.eachStoredCopy();
    const view = session.store.planView();
    let strays: ((size: number) => readonly string[]) | undefined;
    const ctx: RepairContext = {
      root: config.backupRoot,
      sources: config.sources,
      holdersOf: view.holdersOf,
      storedWith: (c) => (others ??= othersHoldingAnyAlgo(config.backupRoot, todo, everyCopy))(c),
      // Files verify found that no copy is recorded at: a copy renamed by hand, or one a
      // copy of the backup root made while a run went on holds under its old name.
      unknownOfSize: (size) =>
        (strays ??= straysBySize(config.backupRoot, report.unknown.map((u) => u.file)))(size),
      placement: {
        isStoredAt: view.isFile,
        isStoredBelow: view.isDir,
        record: (c, storedAt) => session.store.recordStoredAt(c.id, storedAt),
      },
    };
    // Logged, and written out, as each is done: a repair killed midway still says what it
    // did (the log holds up to 4,096 lines otherwise; each copy costs an fsync anyway).
    // A copy that could not be repaired because nothing else holds its content, and that
    // could not be read itself, may be intact: its permissions changed, say.
    // By record, not by name: verify names a copy as the disk lists it (which a disk that
    // ignores case may spell otherwise).
    const key = (c: { path?: string; version?: number }) => copyKey(c.path!, c.version!);
    const unreadableWhy = new Map(unreadable.map((u) => [key(u), u.error]));
    const logged = (o: RepairOutcome) => {
      const why = o.error?.includes(NOTHING_HOLDS) ? unreadableWhy.get(key(o)) : undefined;
      if (why !== undefined) {
        o.error += `; the copy itself could not be read (${why}): if only its permissions ` +
          "were changed, give them back and verify again";
      }
      // With forgetMissing, a failure is logged once it is known not to be forgotten
      // instead: the log would otherwise name one copy both NOT REPAIRED and FORGOTTEN.
      if (o.error !== undefined && opts.forgetMissing) return;
      session.log.line(outcomeLine(o));
      session.log.flush();
      if (o.error === undefined) opts.onRepaired?.(o);
    };
    let outcomes = await repairCopies(ctx, todo, (o) => o.error === undefined && logged(o));
    // A copy made again may be what another one lacked: after a hash_algorithm change, a
    // source file recorded under the new algorithm is found only through its stored copy,
    // which may have been among the damaged. The others are tried once more, the copies
    // under other algorithms looked at anew.
    const firstFailed = outcomes.filter((o) => o.error !== undefined);
    if (firstFailed.length > 0 && firstFailed.length < outcomes.length) {
      others = undefined;
      const retry = new Set(firstFailed.map((o) => o.file));
      const again = await repairCopies(ctx, todo.filter((c) => retry.has(c.storedAt!)), logged);
      outcomes = [...outcomes.filter((o) => o.error === undefined), ...again];
    } else firstFailed.forEach(logged);
    // What stands where a copy was made elsewhere is now a file no copy is recorded at.
    const unknown = new Set(report.unknown.map((u) => u.file));
    for (const o of outcomes) {
      if (o.movedTo === undefined) continue;
      for (const file of standingAt(config.backupRoot, o.file)) {
        if (!unknown.has(file)) report.unknown.push({ file }); // a folder's: listed already
        unknown.add(file);
      }
    }
    // Only a copy that nothing holds the content of any more is forgotten: one that failed
    // for want of room, or because a file that may hold it could not be read, is made
    // again by a later repair, and a copy recorded as lost never is.
    const forget = opts.forgetMissing
      ? forgetMissing(
        store,
        outcomes.filter((o) => o.error?.includes(NOTHING_HOLDS)),
        new Set(report.missing.map(key)),
        todo,
        {
          total: store.storedOldCopies(),
          maxPercent: config.maxDeletePercent,
          force: opts.force === true,
        },
      )
      : { forgotten: [] };
    for (const o of forget.forgotten) session.log.line(forgottenLine(o));
    const forgotten = new Set(forget.forgotten);
    outcomes = outcomes.filter((o) => !forgotten.has(o));
    if (opts.forgetMissing) {
      for (const o of outcomes) if (o.error !== undefined) session.log.line(outcomeLine(o));
    }
    if (forget.refused) session.log.line(`ERROR: ${forget.refused}`);
    const failed = outcomes.filter((o) => o.error !== undefined).length;
    const repaired = new Set(outcomes.filter((o) => o.error === undefined).map(key));
    const unreadableLeft = report.unreadable.filter((u) =>
      u.kind !== "copy" || u.path === undefined || !repaired.has(key(u))
    );
    const ok = report.unknown.length + unreadableLeft.length === 0 && failed === 0;
    const forgottenSaid = opts.forgetMissing ? `, ${forgotten.size} forgotten` : "";
    session.log.line(
      `Verify complete: ${outcomes.length - failed} repaired, ${failed} not repaired` +
        `${forgottenSaid}, ${report.unknown.length} unknown file(s)`,
    );
    status = ok ? "ok" : "partial";
    return {
      report,
      outcomes,
      ok,
      unreadableLeft: unreadableLeft.length,
      forgotten: forget.forgotten,
      forgetRefused: forget.refused,
    };
  } finally {
    session.close(status, {});
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

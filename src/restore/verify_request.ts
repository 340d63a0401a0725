/**
 * `verify` as the command line asks for it. Without a repair: the state opened read-only,
 * without the run lock, and checked whole (verify_state.ts), a run's unfinished work said
 * first, then every copy checked (verify.ts), the tool's run logs in a log folder inside
 * the backup root not taken for unknown files; read-only, so an interruption leaves
 * nothing. With one: verifyAndRepair under the lock (repair.ts, which says what an
 * interruption leaves), its outcomes told apart into the copies made again and those not.
 */
import type { Config } from "../config/config.ts";
import { logDirInside, openState, runningNow } from "./open.ts";
import { type RepairOptions, type RepairReport, verifyAndRepair } from "./repair.ts";
import type { RepairOutcome } from "./repair_copies.ts";
import { unfinishedWarning, unfinishedWork } from "./unfinished.ts";
import { catalogOf, verifyBackup, type VerifyReport } from "./verify.ts";
import { requireIntactState } from "./verify_state.ts";
import { statePaths } from "../engine/session/session.ts";

/** What a repair did, its outcomes told apart. */
export interface RepairResult extends RepairReport {
  repaired: RepairOutcome[];
  notRepaired: RepairOutcome[];
}

/** Checks the backup, changing nothing; a run's unfinished work is said through `warn` first. */
export async function checkBackup(
  config: Config,
  samplePercent: number | undefined,
  warn: (line: string) => void,
): Promise<VerifyReport> {
  const store = openState(config);
  try {
    requireIntactState(store, statePaths(config.backupRoot).db);
    const unfinished = unfinishedWork(store.pendingIntents());
    const warning = unfinishedWarning(unfinished, "checks", runningNow(config));
    if (warning) warn(warning);
    return await verifyBackup(config.backupRoot, catalogOf(store), {
      samplePercent,
      logFolder: logDirInside(config),
      unfinished,
    });
  } finally {
    store.close();
  }
}

/** Checks the backup under its lock and makes bad copies again (repair.ts). */
export async function repairBackup(config: Config, opts: RepairOptions): Promise<RepairResult> {
  const found = await verifyAndRepair(config, opts);
  const repaired = found.outcomes.filter((o) => o.error === undefined);
  const notRepaired = found.outcomes.filter((o) => o.error !== undefined);
  return { ...found, repaired, notRepaired };
}

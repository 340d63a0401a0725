/**
 * `backupOnce`: one complete run — open a session (pre-flight, lock, recovery), one full
 * pass, `Run complete`, close. And `planOnce`: the same pass as a dry run that opens the
 * state read-only and writes nothing, not even a log file or the lock.
 */
import { basename } from "node:path";
import type { Config } from "../config/config.ts";
import { StateStore } from "../state/store.ts";
import { emptyCounts, type PassOptions, type PassResult, runPass } from "./pass.ts";
import { checkSourcesReadable, openSession, statePaths } from "./session.ts";
import { assignPrefixes } from "./layout.ts";
import { exists } from "./fsops.ts";

export interface RunSummary extends PassResult {
  runId: number;
  durationMs: number;
  logFile?: string;
  /** 0 ok, 1 some files failed (or deletions held back by the guard). */
  exitCode: number;
}

export async function backupOnce(config: Config, opts: PassOptions = {}): Promise<RunSummary> {
  const started = performance.now();
  const session = await openSession(config, "run");
  let result: PassResult = { counts: emptyCounts(), bytesCopied: 0, errors: [], planned: [] };
  let status = "failed";
  try {
    result = await runPass(session, opts);
    status = result.counts.failed > 0 || result.deleteGuard ? "partial" : "ok";
    session.log.line(
      status === "ok" ? "Run complete" : `Run complete with ${result.counts.failed} failure(s)`,
    );
  } finally {
    session.close(status, { counts: result.counts, bytesCopied: result.bytesCopied });
  }
  return {
    ...result,
    runId: session.runId,
    durationMs: Math.round(performance.now() - started),
    logFile: session.log.path,
    exitCode: status === "ok" ? 0 : 1,
  };
}

export async function planOnce(config: Config, opts: PassOptions = {}): Promise<RunSummary> {
  const started = performance.now();
  checkSourcesReadable(config);
  const paths = statePaths(config.backupRoot);
  const store = exists(paths.db) ? StateStore.open(paths.db, { readOnly: true }) : undefined;
  try {
    const known = store?.prefixes() ?? new Map<string, string>();
    const prefixes = assignPrefixes(known, config.sources.map((s) => s.name));
    const ctx = {
      config,
      root: config.backupRoot,
      rootName: basename(config.backupRoot),
      tmpDir: paths.tmp,
      store,
      prefixes,
      runId: 0,
    };
    const result = await runPass(ctx, { ...opts, dryRun: true });
    const failed = result.counts.failed > 0 || result.deleteGuard !== undefined;
    return {
      ...result,
      runId: 0,
      durationMs: Math.round(performance.now() - started),
      exitCode: failed ? 1 : 0,
    };
  } finally {
    store?.close();
  }
}

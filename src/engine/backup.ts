/**
 * `backupOnce`: one complete run — open a session (pre-flight, lock, recovery), one full
 * pass, `Run complete`, close. And `planOnce`: the same pass as a dry run that opens the
 * state read-only and writes nothing, not even a log file or the lock.
 */
import { basename, join } from "node:path";
import type { Config } from "../config/config.ts";
import { StateStore } from "../state/store.ts";
import { NoStateYet } from "../state/schema.ts";
import { runPass } from "./pass.ts";
import { emptyResult, type PassOptions, type PassResult } from "./pass_types.ts";
import { movedSourceNotes, openSession, type Session, statePaths } from "./session/session.ts";
import { checkLogDir, checkSourcesReadable } from "./session/preflight.ts";
import { checkStateFolder } from "./session/state_folder.ts";
import { refuseForgottenRoot } from "./session/forgotten_root.ts";
import { assignPrefixes } from "../core/layout.ts";
import { exists, isMissing, removeQuietly } from "./fs/fsops.ts";
import { diskFullError, errorText, PreflightError } from "./errors.ts";
import { diskFullAt } from "./session/reserve.ts";
import { LogError } from "../log/runlog.ts";
import { rereadLine, unchangedLine } from "../core/describe.ts";

export interface RunSummary extends PassResult {
  runId: number;
  durationMs: number;
  logFile?: string;
  /** 0 ok, 1 some files failed, deletions were held back, or a stored copy was lost. */
  exitCode: number;
  /** For `plan`: what the plan cannot show (an interrupted run the next run completes first). */
  notice?: string;
  /**
   * The part of `notice` a quiet run says too, on stderr (a scheduled job's mail): a run
   * before it killed, the clock behind the times recorded, a source's folder changed, and
   * sources no longer in the config where the last run did not find them so (said once,
   * not in every mail after).
   */
  quietNotice?: string;
  /** Stopped by `signal` before the pass was over. */
  stopped?: boolean;
}

/** What a run is given: a pass's options, and where to say at once what cannot wait. */
interface RunOptions extends PassOptions {
  /**
   * Told, as soon as the lock is taken over, that the sessions which left it were killed
   * (`Session.unfinishedNote`), which the summary then leaves out: a run killed in turn
   * (the out-of-memory killer at the same point every hour) has said it all the same.
   * Without it, the summary's notes carry it.
   */
  onUnfinished?: (note: string) => void;
}

export async function backupOnce(config: Config, opts: RunOptions = {}): Promise<RunSummary> {
  const started = performance.now();
  const session = await openSession(config, "run");
  const unfinished = session.unfinishedNote;
  if (unfinished !== undefined) opts.onUnfinished?.(unfinished);
  let result: PassResult = emptyResult();
  let status = "failed";
  let notes: RunNotes = {};
  try {
    // Unchanged files counted in one line instead of named each (see `log_unchanged`).
    const quietSkips = opts.quietSkips || !config.logUnchanged;
    result = await runPass(session, { ...opts, quietSkips });
    if (quietSkips) session.log.line(unchangedLine(result.unnamedSkips ?? 0));
    if (result.reread) session.log.line(rereadLine(result.reread, true));
    result.warnings = [...session.recovered, ...result.warnings];
    notes = runNotes(session, opts.onUnfinished ? undefined : unfinished);
    // Stopped only where the signal left work undone: one heard during the last batch,
    // nothing after it, ends a complete run.
    status = result.stopped ? "stopped" : needsAttention(result) ? "partial" : "ok";
    session.log.line(status === "stopped" ? STOPPED_LINE : completionLine(result));
  } catch (e) {
    throw runFailure(session, e);
  } finally {
    // `heldBack` from 2026-12-05 on: a restore of a moment since says the files the guard
    // kept are given back (run_queries.ts `heldBackRuns`); 0 where it held none.
    const { counts, bytesCopied } = result;
    const heldBack = result.heldBack ?? 0;
    // `clockHeld`: its times vouch for no later run's clock (deleted_guard.ts).
    const clockHeld = result.clockGuard?.copies;
    session.close(status, {
      counts,
      bytesCopied,
      heldBack,
      ...(clockHeld && { clockHeld }),
      left: notes.left,
      config: config.file,
    });
  }
  return {
    ...result,
    runId: session.runId,
    durationMs: Math.round(performance.now() - started),
    logFile: session.log.path,
    exitCode: status === "ok" ? 0 : 1,
    stopped: status === "stopped",
    notice: notes.notice,
    quietNotice: notes.quietNotice,
  };
}

interface RunNotes {
  notice?: string;
  quietNotice?: string;
  /** The names of the sources left out of the config, recorded in the run's summary. */
  left?: string[];
}

/**
 * A run's notes (the sessions before it killed, `unfinished`, where not said already; the
 * clock, sources moved, sources left out of the config), its log's `NOTE:` line for the
 * sources left, and which of them a quiet run says: those left are said by every run, but
 * by a quiet one only where the last run of the same config file found others (or none).
 */
function runNotes(session: Session, unfinished: string | undefined): RunNotes {
  const { config, prefixes, store } = session;
  const counts = leftSourceCounts(config, prefixes, store);
  const left = leftSourcesNote(counts);
  if (left) session.log.line(`NOTE: ${left}`);
  const names = counts.map((s) => s.name);
  const own = config.sources.map((s) => s.name);
  const before = store.lastLeftSources(session.runId, config.file, own);
  const newlyLeft = names.some((name) => !before?.includes(name));
  const joined = (notes: (string | undefined)[]) =>
    notes.filter((n) => n !== undefined).join("; ") || undefined;
  const always = [unfinished, session.clockNote, ...session.movedNotes];
  return {
    notice: joined([...always, left]),
    quietNotice: joined([...always, newlyLeft ? left : undefined]),
    left: names,
  };
}

/**
 * Sources the state still tracks files of but the config no longer names (removed, or
 * renamed: a renamed source folder takes a new name, and its files are stored anew under
 * it): their copies are kept as they are and no longer followed. Said on every run and
 * watch session, as a note, so that a rename is not mistaken for an update of the same source.
 */
export function leftSources(
  config: Config,
  prefixes: ReadonlyMap<string, string>,
  store: StateStore,
): string | undefined {
  return leftSourcesNote(leftSourceCounts(config, prefixes, store));
}

/**
 * A source `leftSources` names: how many files the state tracks of it, and the configured
 * source now at the folder it was backed up from, if any (a source renamed in the config).
 */
interface LeftSource {
  name: string;
  files: number;
  renamedTo?: { name: string; path: string };
}

/** The sources `leftSources` names, with how many files the state tracks of each. */
function leftSourceCounts(
  config: Config,
  prefixes: ReadonlyMap<string, string>,
  store: StateStore,
): LeftSource[] {
  const configured = new Set(config.sources.map((s) => s.name));
  const recorded = store.sourcePaths();
  const added = store.sourcesAddedAt();
  // A configured source at the folder a left one was backed up from, and newer than it (or
  // not backed up yet): the left one renamed in the config. (An older one there is the
  // old name given back, the left one a copy of it stored meanwhile.)
  const renamedFrom = (name: string) => (s: { name: string; path: string }) =>
    s.path === recorded.get(name) && (added.get(s.name) ?? Infinity) > added.get(name)!;
  return [...prefixes.keys()].filter((name) => !configured.has(name))
    .map((name) => {
      const renamedTo = config.sources.find(renamedFrom(name));
      return { name, files: store.trackedIn(name), renamedTo };
    })
    .filter((s) => s.files > 0);
}

function leftSourcesNote(left: LeftSource[]): string | undefined {
  const renamed = left.filter((s) => s.renamedTo !== undefined).map(renamedSourceNote);
  const others = left.filter((s) => s.renamedTo === undefined);
  if (others.length === 0) return renamed.join("; ") || undefined;
  const list = others.map((s) => `'${s.name}' (${files(s.files)})`).join(", ");
  return [
    ...renamed,
    `the state still tracks files of ${list}, no longer in the config: their copies are ` +
    "kept and no longer followed (restore them with --to); a source folder renamed is a new " +
    "source, stored anew under its new name",
  ].join("; ");
}

/**
 * The note for a source renamed in the config at the folder it was backed up from: its
 * files are stored anew under the new name (its old copies are not moved), and the way
 * back to the old backup is the old name.
 */
function renamedSourceNote(s: LeftSource): string {
  const to = s.renamedTo!;
  return `source '${to.name}' is the folder source '${s.name}' was backed up from ` +
    `('${to.path}'): a source's name ties it to its files, so its files are backed up anew ` +
    `under '${to.name}', beside the ${files(s.files)} of '${s.name}' (kept as they are, no ` +
    `longer followed); to go on with the backup of '${s.name}' instead, give it back its ` +
    `name ("name": "${s.name}")`;
}

function files(n: number): string {
  return `${n} ${n === 1 ? "file" : "files"}`;
}

/** The log's last line for a run stopped by a signal between two batches. */
const STOPPED_LINE = "Run stopped before it finished (a stop signal): what was committed " +
  "stays; the rest is left for the next run";

/**
 * The state a plan reads (read only; none before the first run), and how many journaled
 * actions an interrupted run left. Where it left some, a private copy of the state with
 * them recorded, as the next run's recovery records them first: planned against the state
 * as the crash left it, the copies that run placed would look like someone else's files,
 * and its work would be planned again. A root the user cannot read is exit 2.
 */
function openForPlan(config: Config, db: string): { store?: StateStore; pending: number } {
  try {
    if (!exists(db)) return { pending: 0 };
    let store: StateStore;
    try {
      store = StateStore.open(db, { readOnly: true });
    } catch (e) {
      if (e instanceof NoStateYet) return { pending: 0 }; // a first run under way: none yet
      throw e;
    }
    const intents = store.pendingIntents();
    if (intents.length === 0) return { store, pending: 0 };
    store.close();
    const copy = StateStore.openPrivateCopy(db);
    for (const intent of copy.pendingIntents()) {
      const ctx = { runId: intent.runId, time: intent.createdAt, trustBefore: 0 };
      copy.commitBatch(intent.actions, ctx, [intent.id]);
    }
    return { store: copy, pending: intents.reduce((n, i) => n + i.actions.length, 0) };
  } catch (e) {
    if (!(e instanceof Deno.errors.PermissionDenied)) throw e;
    throw new PreflightError(
      `Cannot read backup '${config.backupRoot}': ${errorText(e)}: run as a user who can ` +
        "read the backup root",
    );
  }
}

export async function planOnce(config: Config, opts: PassOptions = {}): Promise<RunSummary> {
  const started = performance.now();
  checkSourcesReadable(config);
  checkLogDir(config); // what the run would refuse, the plan refuses too
  const paths = statePaths(config.backupRoot);
  checkStateFolder(config.backupRoot, paths.dir);
  if (isMissing(paths.db)) refuseForgottenRoot(config);
  const { store, pending } = openForPlan(config, paths.db);
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
    const interrupted = pending === 0 ? undefined : `an interrupted run left ${pending} ` +
      "journaled action(s), which the next run completes before anything else; they are not " +
      "shown here, and the plan is of what follows them";
    // What the run will note too: a source renamed in the config plans every file anew.
    const left = store ? leftSources(config, prefixes, store) : undefined;
    const moved = store ? movedSourceNotes(config.sources, store.sourcePaths()) : [];
    return {
      ...result,
      notice: [interrupted, ...moved, left].filter((n) => n !== undefined).join("; ") ||
        undefined,
      runId: 0,
      durationMs: Math.round(performance.now() - started),
      exitCode: needsAttention(result) ? 1 : 0,
    };
  } finally {
    store?.close();
  }
}

/**
 * Whether a pass ends with exit code 1: failed files, held-back deletions or prunes of
 * deleted files' copies (the clock guard), lost copies.
 */
function needsAttention(r: PassResult): boolean {
  return r.counts.failed > 0 || r.deleteGuard !== undefined || r.clockGuard !== undefined ||
    r.warnings.length > 0;
}

/** The log's last line for a run: what needs attention, if anything. */
function completionLine(r: PassResult): string {
  if (!needsAttention(r)) return "Run complete";
  const held = (r.deleteGuard !== undefined ? ", deletions held back by the deletion guard" : "") +
    (r.clockGuard !== undefined ? ", prunes of deleted files' copies held back (clock)" : "");
  const missing = r.warnings.length > 0
    ? `, ${r.warnings.length} missing or damaged copy(ies)`
    : "";
  return `Run complete with ${r.counts.failed} failure(s)${held}${missing}`;
}

/**
 * A run that failed as a whole: said in its log; the staged copies of a batch that was
 * never journaled are removed (on a full disk they hold the space the next run needs);
 * a full disk is named as such, with the remedy.
 */
function runFailure(session: Session, e: unknown): Error {
  const message = errorText(e);
  try {
    session.log.line(`Run failed: ${message}`);
    if (session.store.pendingIntents().length === 0) {
      for (const entry of Deno.readDirSync(session.tmpDir)) {
        removeQuietly(join(session.tmpDir, entry.name));
      }
    }
  } catch { /* the failure itself is what to report */ }
  if (e instanceof LogError || !diskFullAt(message, session.tmpDir)) return e as Error;
  return diskFullError(session.root, message);
}

/**
 * A session: everything a run (or a whole watch session) holds open on one backup root —
 * the lock, the state store, the run log and the run's row. Opening one for a run checks
 * that every source can be read before anything is created (an unmounted disk aborts with
 * nothing changed), then claims the backup root (its folders, the lock, the state's
 * header, the log: claim_root.ts, undone on a refusal), narrows the modes of the tool's own
 * entries where others may write them (own_modes.ts), opens the state and finishes
 * whatever an interrupted run left behind.
 */
import { clockBehindNote, withClock } from "../../core/clock_ahead.ts";
import { basename, dirname, join } from "node:path";
import type { Config } from "../../config/config.ts";
import { LogError, RunLog } from "../../log/runlog.ts";
import { StateStore } from "../../state/store.ts";
import { stateProblem } from "../../state/connection.ts";
import { diskFullError, errorText, PreflightError } from "../errors.ts";
import { LOCK_FILE, RESERVE_FILE, STATE_DB, STATE_DIR, TMP_DIR } from "../../core/layout.ts";
import type { Lock } from "./lock.ts";
import { claimBackupRoot, type ClaimedRoot, removeMade } from "./claim_root.ts";
import { takeoverLines, unfinishedNote } from "../../core/lock_record.ts";
import { recoverInterrupted } from "../recover.ts";
import { checkStateFolder } from "./state_folder.ts";
import { isMissing } from "../fs/fsops.ts";
import {
  diskFullAt,
  flaggedAt,
  keepReserve,
  releaseReserve,
  removeStrayProbes,
  stateFolderFlagged,
} from "./reserve.ts";
import { narrowOwnModes } from "./own_modes.ts";
import { openSyncFs, type SyncFs } from "../fs/syncfs.ts";
import { checkLogDir, checkSourcesReadable } from "./preflight.ts";
import { refuseForgottenRoot } from "./forgotten_root.ts";
import { mayShareAt } from "../fs/share_extents.ts";

export interface Session {
  config: Config;
  /** The backup root (absolute). */
  root: string;
  /** The backup root's folder name, as log lines show it (`backup/one.txt`). */
  rootName: string;
  tmpDir: string;
  store: StateStore;
  log: RunLog;
  prefixes: Map<string, string>;
  runId: number;
  /** Flushes the backup root's file system whole where that is trusted (Linux, local). */
  syncFs?: SyncFs;
  /** Stored copies the recovery of an interrupted run found missing (see recover.ts). */
  recovered: { path: string; message: string }[];
  /** Said when the clock is behind the times already recorded (see `recordedTime`). */
  clockNote?: string;
  /** Said for each source found at another folder than last time (see `movedSourceNotes`). */
  movedNotes: string[];
  /** Said where the lock was taken over from sessions that were killed (`unfinishedNote`). */
  unfinishedNote?: string;
  /**
   * Whether the backup root's lock file is still the one this session locked (see
   * `Lock.stillHeld`): asked by a watch session, which lives long enough to see its backup
   * root removed or replaced.
   */
  lockStillHeld(): boolean;
  /**
   * The room kept for the state, missing or short (used by a watch's pass that stopped on a
   * full disk, or never made: the session started on a disk without room for it), made
   * where the disk has room for it now (its free space looked at first: reserve.ts). After
   * it was used, only then the state's writes go on past their first commit again; until
   * then each pass stops there, the disk said full. Cheap where it is whole: one lstat.
   */
  renewReserve(): Promise<void>;
  /**
   * Ends the session: records the run's outcome, releases the lock, closes the log. Returns
   * why the outcome could not be recorded (a full disk), or undefined when it was (or, the
   * backup root another run's now, was not to be).
   */
  close(status: string, summary: unknown): string | undefined;
}

/** Where the state folder keeps what it holds. */
export type StatePaths = ReturnType<typeof statePaths>;

export function statePaths(root: string) {
  const dir = join(root, STATE_DIR);
  return {
    dir,
    db: join(dir, STATE_DB),
    lock: join(dir, LOCK_FILE),
    reserve: join(dir, RESERVE_FILE),
    tmp: join(dir, TMP_DIR),
  };
}

/**
 * Opens a session on the backup root. `sourcesRequired` (the default) refuses a source
 * that cannot be read; `verify --repair`, which only takes from the sources what they
 * still hold, does without them. `backupRequired` (`verify --repair`) refuses a state with
 * no backup in it yet (`noStateFound`), as readers do, where a run would begin one: told
 * under the lock, so that a first run under way, nothing committed yet, is a lock held
 * (exit code 3), and a state it left empty is refused with nothing changed.
 */
export async function openSession(
  config: Config,
  command: string,
  { sourcesRequired = true, backupRequired = false } = {},
): Promise<Session> {
  if (sourcesRequired) checkSourcesReadable(config);
  checkLogDir(config);
  const paths = statePaths(config.backupRoot);
  // A new backup (verify --repair reads the state, and says when there is none) where logs
  // record earlier runs: refused before even a log file is made.
  if (!backupRequired && isMissing(paths.db)) refuseForgottenRoot(config);
  // Looked at only (lstat): a symlink or another kind of entry there is refused before
  // anything is made or opened to write.
  checkStateFolder(config.backupRoot, paths.dir);
  const locked = claimBackupRoot(config, command, paths, backupRequired);
  return await startSession(config, command, paths, locked);
}

/**
 * Opens the state (migrating it), records the run, logs its start and the stale locks it
 * took over, and finishes an interrupted run's journaled work. A failure closes what was
 * opened (a run recorded is recorded failed); a session that never started leaves no log,
 * and the lock file as it was found.
 */
async function startSession(
  config: Config,
  command: string,
  paths: StatePaths,
  { lock, log, made }: ClaimedRoot,
): Promise<Session> {
  let store: StateStore | undefined;
  let syncFs: SyncFs | undefined;
  let started = false;
  let begun: number | undefined; // the run recorded, once it is
  try {
    // Opened before anything is staged: it reports write-back errors from this moment on.
    syncFs = openSyncFs(config.backupRoot);
    // Before the state is opened: a journal SQLite makes then takes the state's mode.
    const narrowed = await narrowOwnModes(config.backupRoot, paths.dir);
    store = StateStore.open(paths.db);
    removeStrayProbes(paths.dir);
    await keepReserve(paths.dir);
    store.useReserve(() => releaseReserve(paths.dir), (text) => diskFullAt(text, paths.tmp));
    const clock = Date.now();
    const now = store.recordedTime(clock);
    const movedNotes = movedSourceNotes(config.sources, store.sourcePaths());
    const { prefixes, runId } = firstWrite(
      config.backupRoot,
      paths.db,
      command,
      () => store!.beginRun(command, config.sources, now),
    );
    begun = runId;
    log.line(`Run started: ${command} (run ${runId}, pid ${Deno.pid})${log.ownerSuffix()}`);
    for (const line of narrowed) log.line(line);
    const clockNote = clockBehindNote(now, clock);
    if (clockNote) log.line(`CLOCK: ${clockNote}`);
    for (const note of movedNotes) log.line(`NOTE: ${note}`);
    started = true;
    const unfinished = unfinishedNote(lock.staleHolders, `this ${command}`);
    logTakeover(log, lock);
    // At the start, so that the log's last line says how the run ended.
    rotateLogs(log, config.logRetention);
    const recovered = await recoverInterrupted(
      config.backupRoot,
      paths.tmp,
      store,
      log,
      () => lock.stillHeld(),
      syncFs,
    );
    // Where new copies may share kept ones' blocks (btrfs, XFS; share_blocks): their index.
    const stores = (command === "run" || command === "watch") && config.shareBlocks;
    if (stores && mayShareAt(config.backupRoot)) store.keepKeptCopiesIndex();
    log.flush(); // a run killed before its first batch still leaves its start in the log
    return makeSession({
      config,
      tmpDir: paths.tmp,
      store,
      log,
      lock,
      prefixes,
      runId,
      syncFs,
      recovered,
      clockNote,
      movedNotes,
      unfinishedNote: unfinished,
    });
  } catch (e) {
    // A session that never started leaves no log (it would count toward log_retention).
    try {
      if (started) log.close();
      else log.discard();
    } catch {
      // Its disk full: what is thrown is why the session could not start, and the lock
      // is released all the same (see `close`).
    }
    // Recorded as the failure it is (history's "failed"), not left running, which history
    // then gives as "interrupted": killed, or the machine stopped.
    try {
      if (begun !== undefined) store!.finishRun(begun, "failed", {}, store!.recordedTime());
    } catch { /* a full disk refusing even this: history says interrupted */ }
    store?.close();
    syncFs?.close();
    if (e instanceof PreflightError) removeMade(made, { files: true }); // under the lock
    // Not started, nothing logged: a stale lock's takeover is left for the next run to log.
    lock.release({ restore: !started });
    throw fullDiskNamed(e, config.backupRoot, paths.dir, command);
  }
}

/**
 * `e`, or where it is the disk of the state folder `dir` out of room (SQLite's "disk I/O
 * error" where it cannot make the WAL's index, opening the state), that said with the
 * remedy: `command` is what to do again once there is room. A state folder the probe found
 * immutable or append-only (SQLite's same words) is said so, with its remedy.
 */
function fullDiskNamed(e: unknown, root: string, dir: string, command: string): unknown {
  // The log's disk full is the log's to say, with its own remedy (runlog.ts LogError).
  if (e instanceof PreflightError || e instanceof LogError) return e;
  if (!diskFullAt(errorText(e), dir)) {
    return flaggedAt(dir) ? stateFolderFlagged(dir, e, command) : e;
  }
  if (/^the backup disk is full /.test(errorText(e))) return e; // said so already
  return startDiskFull(root, errorText(e), command);
}

/**
 * A session's start stopped by a full disk, with the remedy: `command` again once there is
 * room (a watch: started again).
 */
function startDiskFull(root: string, message: string, command: string): Error {
  return diskFullError(root, message, command === "watch" ? "start the watch" : command);
}

/**
 * Logs the stale locks this session took over (`takeoverLines`), and makes the lines
 * durable (fdatasync) before the lock's record stops carrying them (`takeoverLogged`): a
 * session killed before that leaves them to the next one to log.
 */
function logTakeover(log: RunLog, lock: Lock): void {
  const lines = takeoverLines(lock.staleHolders);
  if (lines.length === 0) return;
  for (const line of lines) log.line(line);
  log.sync();
  lock.takeoverLogged();
}

/**
 * A note for each source the state knows by its name at another folder than the config's
 * now: a folder moved (its files are then compared with those backed up from the old
 * one, as they should be), or another folder given the same name by mistake (a second
 * config sharing the backup root, `alice/docs` and `bob/docs`): then the first's files look
 * deleted and the second's modified, which the mass-deletion guard may hold back, and
 * nothing else said why.
 */
export function movedSourceNotes(
  sources: readonly { name: string; path: string }[],
  recorded: ReadonlyMap<string, string>,
): string[] {
  return sources.flatMap((s) => {
    const was = recorded.get(s.name);
    if (was === undefined || was === s.path) return [];
    return [
      `source '${s.name}' was backed up from '${was}' last time, and is now '${s.path}': ` +
      "its files are compared with those backed up from there (a folder moved); if it is " +
      `another folder, give it a "name" of its own in the config`,
    ];
  });
}

/**
 * The run's first writes to the state (its opening, its row): one it may only read is exit
 * 2, naming the file; a full disk is said so, with the remedy (`command` to do again).
 */
function firstWrite<T>(root: string, db: string, command: string, write: () => T): T {
  try {
    return write();
  } catch (e) {
    const text = errorText(e);
    if (diskFullAt(text, dirname(db))) throw startDiskFull(root, text, command);
    throw stateProblem(db, e, true) ?? e;
  }
}

type SessionParts =
  & Omit<Session, "root" | "rootName" | "close" | "lockStillHeld" | "renewReserve">
  & {
    lock: Lock;
  };

function makeSession({ lock, ...parts }: SessionParts): Session {
  const { config, store, log, runId, syncFs } = parts;
  return {
    ...parts,
    root: config.backupRoot,
    rootName: basename(config.backupRoot),
    lockStillHeld: () => lock.stillHeld(),
    async renewReserve() {
      try {
        if (await keepReserve(statePaths(config.backupRoot).dir)) store.reserveUsed = false;
      } catch {
        // Not to be looked at now (a disk going away): the pass finds what is wrong.
      }
    },
    close(status, summary) {
      // A backup root removed or replaced meanwhile (a watch session finds that) may be
      // another run's now: its state is left open, not closed, since SQLite would remove
      // the -wal and -shm files by their path, which are the other run's now.
      const ours = lock.stillHeld();
      try {
        try {
          if (ours) {
            const clock = Date.now();
            const end = store.recordedTime(clock);
            store.finishRun(runId, status, withClock(summary, end, clock), end);
          }
          return undefined;
        } catch (e) {
          // A full disk can refuse even this; what the run did is committed already.
          log.line(`Cannot record the end of run ${runId}: ${errorText(e)}`);
          return errorText(e);
        }
      } finally {
        // The log's disk full (its last lines refused) still ends the session as a failure
        // does: state closed, lock released, then the log's failure is thrown. Left open,
        // the lock file kept this run's record, and the next run said it had been killed.
        try {
          log.close();
        } finally {
          if (ours) store.close();
          else store.abandon();
          syncFs?.close();
          lock.release();
        }
      }
    },
  };
}

/** Removes the oldest run logs beyond `keep`; one that cannot be removed is said, not fatal. */
function rotateLogs(log: RunLog, keep: number): void {
  try {
    log.rotate(keep);
  } catch (e) {
    log.line(`LOG ROTATE failed: ${errorText(e)}`);
  }
}

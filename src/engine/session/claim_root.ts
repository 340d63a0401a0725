/**
 * Claiming a backup root for a session (session.ts): its folders made where missing (the
 * root private to its owner), the lock taken, the state's header checked under it, the
 * staging folder found to take new files (staging_folder.ts), and the run's log made. A refusal (exit 2, or 3 for a lock held) undoes it: what the session made
 * is removed (its files only while it holds the lock, its folders only if empty) and the
 * lock file is given back as it was found, so a refused run changes nothing. A kill leaves
 * at most empty folders, and a lock file the next run takes over.
 */
import { dirname, join } from "node:path";
import type { Config } from "../../config/config.ts";
import { RunLog } from "../../log/runlog.ts";
import { checkHeaderUnlessEmpty } from "../../state/connection.ts";
import { errorText, isReadOnlyDisk, PreflightError, remedyUnlessOutOfFiles } from "../errors.ts";
import { acquireLock, type Lock } from "./lock.ts";
import { isMissing, lstatOrNone, makeFolders, missingFolders, removeQuietly } from "../fs/fsops.ts";
import { deniedRootRemedy, notOwnRootRemedy } from "../fs/owner.ts";
import { pausePoint } from "../fault.ts";
import { STATE_DIR } from "../../core/layout.ts";
import { checkStagingFolder } from "../staging_folder.ts";
import { statelessEvidence, unmountedRootProblem } from "./forgotten_root.ts";
import type { StatePaths } from "./session.ts";

/**
 * The error (exit code 2) for a backup root with no backup in it yet: no state, or an empty
 * one (a first run killed, or not finished, before its first commit).
 */
export function noStateFound(config: Config, db: string): PreflightError {
  // Its state folder removed, or left out by a copy, beside the backup's own folders or
  // with logs of runs into it: a backup would be refused there (forgotten_root.ts), and
  // the state is what to look for.
  const stateDir = dirname(db);
  const evidence = statelessEvidence(config);
  if (evidence !== undefined) {
    return new PreflightError(
      `Cannot read backup '${config.backupRoot}': it holds a backup (${evidence}) but not its state '${stateDir}': put that folder back (a copy made with ` +
        "'cp -r backup/*' leaves it out); without it, nothing records the copies, but the " +
        "latest ones can still be copied out of the backup root as they are",
    );
  }
  // Missing or empty while logs record runs into it: its disk is not mounted (here).
  const unmounted = unmountedRootProblem(config);
  if (unmounted !== undefined) {
    return new PreflightError(`Cannot read backup '${config.backupRoot}': ${unmounted}`);
  }
  // No config file: the backup root was given alone (`--backup-root`, bare_root.ts).
  const check = config.file === ""
    ? "check the folder given to --backup-root"
    : `check backup_root in '${config.file}'`;
  return new PreflightError(
    `Cannot read backup '${config.backupRoot}': no backup state found at '${db}': ` +
      `run a backup first, or ${check}`,
  );
}

/** What `claimBackupRoot` leaves for the session's start. */
export interface ClaimedRoot {
  lock: Lock;
  log: RunLog;
  /** What this session made, removed again should it refuse to start (see `removeMade`). */
  made: string[];
}

/**
 * Makes the backup root and its state folder where missing, takes the lock, checks the
 * state's header under it and makes the log. Refused (exit 2, 3), it removes what it made
 * and gives the lock file back as it found it.
 */
export function claimBackupRoot(
  config: Config,
  command: string,
  paths: StatePaths,
  backupRequired: boolean,
): ClaimedRoot {
  // What this session makes, removed again should it refuse to start (exit 2 changes
  // nothing): innermost first. What cannot be looked at is not counted as made.
  let made = [paths.db, paths.reserve, paths.lock, paths.tmp, paths.dir].filter(isMissing)
    .concat(missingFolders(config.backupRoot));
  let lock: Lock | undefined;
  try {
    preflight(
      () => {
        makePrivateFolder(config.backupRoot);
        makeFolders(paths.dir);
      },
      () =>
        isFolder(config.backupRoot)
          ? (notOwnRootRemedy(config.backupRoot) && !canEnter(config.backupRoot)
            ? `Cannot use the backup root '${config.backupRoot}'`
            : `Cannot create the state folder '${paths.dir}' in the backup root`)
          : `Cannot create the backup root '${config.backupRoot}'`,
      (e) => deniedRootRemedy(config.backupRoot, e),
    );
    pausePoint("locking");
    lock = acquireLock(paths.lock, command === "verify" ? "verify --repair" : command);
    pausePoint("locked");
    // A state there now was made by a run that began and ended while this one waited for
    // the lock: not this session's to remove should it refuse to start. Nor is a lock file
    // that held a record: made meanwhile by a run that was killed, whose record the lock
    // file is given back for the next run to log as a stale lock taken over.
    const stale = lock.staleHolders.records.length > 0;
    made = made.filter((p) =>
      p === paths.lock ? !stale : (p !== paths.db && p !== paths.reserve) || isMissing(p)
    );
    // What the state's header shows (not a database, a newer tool's, another program's) is
    // refused here, under the lock (no run writes it meanwhile), before the state opens; so
    // is a state with no backup yet, where one is required.
    if (checkHeaderUnlessEmpty(paths.db) && backupRequired) throw noStateFound(config, paths.db);
    preflight(
      () => makeFolders(paths.tmp),
      `Cannot create the state folder '${paths.tmp}' in the backup root`,
    );
    // Immutable or append-only, it would fail each file the session stages: refused once.
    checkStagingFolder(paths.tmp, command);
    pausePoint("claimed"); // tests: a flag set on the staging folder after that look
    // The log is made once the lock is held and the state's header passed: a run refused
    // for either (another run holds the lock: exit 3) leaves log_dir as it was, not with a
    // log file made and removed again. A log_dir that cannot be written is still refused
    // (exit 2) before the state is opened, which may migrate it.
    const log = preflight(
      () => RunLog.open(config.logDir, command, new Date(), config.backupRoot),
      ...logFolderProblem(config),
    );
    return { lock, log, made };
  } catch (e) {
    // Files only under the lock, so that they are this session's own; folders only if empty.
    if (e instanceof PreflightError) removeMade(made, { files: lock !== undefined });
    // The lock file as it was found: a dead holder's record in it is the next run's to log
    // (a takeover said nowhere else), and its time is kept (exit 2 changes nothing).
    lock?.release({ restore: true });
    throw e;
  }
}

/**
 * Removes what a session that refused to start made: its files (`files`: only while it
 * holds the lock, so they are its own) and its folders, each only if empty.
 */
export function removeMade(made: string[], { files }: { files: boolean }): void {
  for (const path of made) {
    try {
      if (files || lstatOrNone(path)?.isDirectory) removeQuietly(path); // a folder: if empty
    } catch { /* cannot be looked at: left */ }
  }
}

/**
 * What a log folder that cannot be written is said to be, and what to do: the config's
 * log_dir, or, with no config file (`verify --repair --backup-root`, bare_root.ts), `logs`
 * of the working folder, which no key the user set names.
 */
function logFolderProblem(config: Config): [string, string | ((e: unknown) => string)] {
  if (config.file !== "") {
    // A disk mounted read-only: no permission to check would change that.
    const remedy = (e: unknown) =>
      isReadOnlyDisk(e)
        ? "its disk is mounted read-only: mount it read-write, or set log_dir to a folder on " +
          "another disk"
        : CHECK_PERMISSIONS;
    return [`Cannot write a log file in log_dir '${config.logDir}'`, remedy];
  }
  return [
    `Cannot write the repair's log in '${config.logDir}'`,
    "run it from a folder you may write in: with --backup-root its log goes to ./logs there",
  ];
}

const CHECK_PERMISSIONS = "check the path and its permissions";

/**
 * Runs a set-up step; a failure becomes a configuration error (exit 2) naming the folder.
 * `remedy`: what to do, or what to do given the failure (CHECK_PERMISSIONS where none).
 */
function preflight<T>(
  step: () => T,
  what: string | (() => string),
  remedy: string | ((e: unknown) => string | undefined) = CHECK_PERMISSIONS,
): T {
  try {
    return step();
  } catch (e) {
    const action = typeof what === "string" ? what : what();
    const todo = (typeof remedy === "string" ? remedy : remedy(e)) ?? CHECK_PERMISSIONS;
    throw new PreflightError(`${action}: ${errorText(e)}${remedyUnlessOutOfFiles(e, todo)}`);
  }
}

/**
 * Creates the backup root, if it is not there yet, readable by its owner only (as restic
 * makes its repository): folders in it do not keep their sources' permissions, so a file
 * readable by all in a private source folder (`~/.ssh/config`) would otherwise be readable
 * by all in the backup. A backup root that exists is left as its owner made it.
 */
function makePrivateFolder(path: string): void {
  if (isFolder(path)) return;
  makeFolders(dirname(path));
  try {
    Deno.mkdirSync(path, { mode: 0o700 });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e; // made meanwhile: left as it is
  }
}

/**
 * Whether this user may look inside the folder at `path`: a state folder there, or its
 * absence, can be told (false for another user's `0700` backup root).
 */
function canEnter(path: string): boolean {
  try {
    Deno.lstatSync(join(path, STATE_DIR));
    return true;
  } catch (e) {
    return !(e instanceof Deno.errors.PermissionDenied);
  }
}

/** Whether a folder is at `path` (false where that cannot be told). */
function isFolder(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

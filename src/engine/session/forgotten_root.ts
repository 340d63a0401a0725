/**
 * Whether a run may start a new backup in its backup root, asked before anything is made
 * there: a root missing or empty while its disk is most likely not mounted is refused
 * (exit 2), and so is one that holds a backup without its state. Reads only: the logs'
 * first lines (an older version's, up to a line naming a source), /etc/fstab and the mount
 * table, and the folders on the root's way.
 */
import { join } from "node:path";
import type { Config } from "../../config/config.ts";
import { logsNaming, logsNamingNoRoot } from "../../log/log_files.ts";
import { PreflightError } from "../errors.ts";
import { exists, lstatOrNone } from "../fs/fsops.ts";
import {
  DELETED_DIR,
  DUPLICATES_DIR,
  SOURCES_DIR,
  STATE_DIR,
  VERSIONS_DIR,
} from "../../core/layout.ts";
import { missingMediaFolderOf, unmountedTablePointOf } from "../fs/mounts.ts";
import { backupElsewhereHint } from "./root_elsewhere.ts";

/**
 * Refuses (exit 2) to start a new backup in a backup root that is missing or empty while
 * the logs say it had one, or while /etc/fstab mounts a disk over it that is not mounted:
 * the disk it lives on is most likely not mounted (a scheduled run would otherwise fill the
 * empty mount point, on the system disk, with a new full backup and report success; the
 * table is asked too because logs are not there to ask where `log_dir` was changed or lies
 * on that disk), or while the root, or a folder on its way, is missing below a folder
 * where removable disks are mounted (mounts.ts: `/media/alice/Disk` for an unmounted disk,
 * which neither logs nor fstab may tell). Someone who removed the backup on purpose moves
 * its logs away first. A root that holds files but no state starts anew, unless they are a
 * backup (`refuseStatelessBackup`). `fstab`, `media`: the table's path and those folders
 * (tests give their own).
 */
export function refuseForgottenRoot(
  config: Config,
  fstab = "/etc/fstab",
  media?: readonly string[],
): void {
  if (!isEmptyOrMissing(config.backupRoot)) return refuseStatelessBackup(config);
  const earlier = logsNaming(config.logDir, config.backupRoot);
  if (earlier.length === 0) {
    refuseForUnnamedLogs(config);
    const point = unmountedTablePointOf(config.backupRoot, fstab);
    if (point !== undefined) {
      throw new PreflightError(
        `Cannot back up to '${config.backupRoot}': it holds no backup, and '${fstab}' mounts ` +
          `a disk on '${point}', where nothing is mounted now: mount it and run again (if ` +
          `that disk is no longer used, remove its line from '${fstab}' first)`,
      );
    }
    const missing = missingMediaFolderOf(config.backupRoot, media);
    if (missing === undefined) return;
    throw new PreflightError(
      `Cannot back up to '${config.backupRoot}': '${missing}' does not exist, and a ` +
        `removable disk is mounted there when it is plugged in: mount the disk and run ` +
        `again (to keep the backup on this computer's own disk, create '${missing}' first)` +
        backupElsewhereHint(config.backupRoot, config.sources),
    );
  }
  throw new PreflightError(
    `Cannot back up to '${config.backupRoot}': it holds no backup, but ` +
      `${logsRecord(earlier, config.logDir)} (the newest: '${earlier.at(-1)}'): ` +
      "is its disk mounted? Mount it and run again; to start a new backup there instead, " +
      "move those logs out of log_dir first" +
      backupElsewhereHint(config.backupRoot, config.sources),
  );
}

/** `a log in '…' records earlier runs into it`, or `3 logs … record …`. */
function logsRecord(logs: string[], logDir: string): string {
  return `${logsInRecord(logs, logDir)} earlier runs into it`;
}

/** `a log in '…' records`, or `3 logs in '…' record`: the subject of what logs tell. */
function logsInRecord(logs: string[], logDir: string): string {
  return logs.length === 1
    ? `a log in '${logDir}' records`
    : `${logs.length} logs in '${logDir}' record`;
}

/**
 * What `verify`, `restore` and `history` say of a backup root missing or empty while logs
 * record runs into it (its disk not mounted, or mounted at another place), or logs of a
 * version that named no root record runs of its sources (`unnamedLogsRecord`), as `run`
 * does, instead of to run a backup first, which `run` refuses there; undefined where no
 * log does.
 */
export function unmountedRootProblem(config: Config): string | undefined {
  if (!isEmptyOrMissing(config.backupRoot)) return undefined;
  const earlier = logsNaming(config.logDir, config.backupRoot);
  if (earlier.length === 0) {
    const unnamed = unnamedLogsRecord(config);
    return unnamed &&
      `it holds no backup, but ${unnamed}: is its disk mounted? Mount it and run again`;
  }
  return `it holds no backup, but ${logsRecord(earlier, config.logDir)}: is its disk ` +
    `mounted? Mount it and run again${backupElsewhereHint(config.backupRoot, config.sources)}`;
}

/**
 * Refuses (exit 2), as for logs that name the root, where log_dir holds logs of a version
 * from before 2026-12-03 that record runs of this job's sources (`unnamedLogsRecord`).
 */
function refuseForUnnamedLogs(config: Config): void {
  const unnamed = unnamedLogsRecord(config);
  if (unnamed === undefined) return;
  throw new PreflightError(
    `Cannot back up to '${config.backupRoot}': it holds no backup, but ${unnamed}: is its ` +
      "disk mounted? Mount it and run again; to start a new backup there instead, move those " +
      "logs out of log_dir first",
  );
}

/**
 * `a log in '…' records earlier runs, by a version from before 2026-12-03 …`, where log_dir
 * holds logs of such a version, which named no backup root: a root those versions backed up
 * to, its disk not mounted after an upgrade, leaves no other trace. Only logs that name one
 * of this job's sources count: another job's sharing log_dir does not hold back a new job's
 * first run (one of the same source's still does: the remedy is the same, moving them away).
 */
function unnamedLogsRecord(config: Config): string | undefined {
  const unnamed = logsNamingNoRoot(config.logDir, config.sources.map((s) => s.name));
  if (unnamed.length === 0) return undefined;
  return `${logsInRecord(unnamed, config.logDir)} earlier runs, by a version from before ` +
    `2026-12-03 that did not name their backup root (the newest: '${unnamed.at(-1)}')`;
}

/** The backup's own folders at the top of its root; no source's entry takes their names. */
const LAYOUT_FOLDERS = [VERSIONS_DIR, DUPLICATES_DIR, DELETED_DIR, SOURCES_DIR];

/**
 * Refuses (exit 2) a root that holds a backup (the backup's own folders there, or logs that
 * record runs into it) but no `.backup-tool/` at all: its state was deleted, or left out by
 * a copy (`cp -r backup/*` skips it). A new state would store every file again beside its
 * old copy, under a `.~2` name, and report success. The reference tool's backup
 * (`state.json`) is said as such: it is not taken over. A state file moved aside (damaged:
 * damage.ts) leaves `.backup-tool/`, and that root starts anew, as the remedy there says;
 * so does one where the user made that folder, as the remedy here says.
 */
function refuseStatelessBackup(config: Config): void {
  const root = config.backupRoot;
  const stateDir = join(root, STATE_DIR);
  if (exists(stateDir)) return;
  const evidence = statelessEvidence(config);
  if (evidence === undefined) return;
  const beside = "; to start a new backup beside it instead (a copy stored under another " +
    `name where one of its files stands), create the empty folder '${stateDir}' first`;
  if (exists(join(root, "state.json"))) {
    throw new PreflightError(
      `Cannot back up to '${root}': it holds a backup made by the reference tool ` +
        `('state.json'), which this tool does not take over: point backup_root at a new ` +
        `folder${beside}`,
    );
  }
  throw new PreflightError(
    `Cannot back up to '${root}': it holds a backup (${evidence}) but not its state ` +
      `'${stateDir}': put that folder back (a copy made with 'cp -r backup/*' leaves it ` +
      `out) and run again${beside}`,
  );
}

/**
 * What tells that the backup root, not empty, holds a backup though `.backup-tool/` is not
 * there (`its folder 'versions'`, `a log in '…' records runs into it`); undefined where
 * nothing does. Shared by run's refusal and the readers' (claim_root.ts `noStateFound`).
 */
export function statelessEvidence(config: Config): string | undefined {
  const root = config.backupRoot;
  if (exists(join(root, STATE_DIR)) || isEmptyOrMissing(root)) return undefined;
  const folders = backupFoldersIn(root);
  if (folders.length > 0) return folderEvidence(folders);
  const logs = logsNaming(config.logDir, root);
  if (logs.length === 0) return undefined;
  return `${logsInRecord(logs, config.logDir)} runs into it`;
}

/**
 * The backup's own folders at the top of `root` (`versions` only where it holds a version's
 * copy): none where no backup was made there.
 */
export function backupFoldersIn(root: string): string[] {
  return LAYOUT_FOLDERS.filter((name) =>
    lstatOrNone(join(root, name))?.isDirectory &&
    (name !== VERSIONS_DIR || holdsVersionCopy(join(root, name)))
  );
}

/** `'versions', '_sources'`, as a refusal names a backup's folders. */
export function folderEvidence(folders: string[]): string {
  return `its folder${folders.length === 1 ? "" : "s"} ${folders.map((f) => `'${f}'`).join(", ")}`;
}

/** A version's copy's name: `vN.bak`, or `.~K` after it where that name was taken. */
const VERSION_COPY = /^v\d+\.bak(\.~\d+)?$/;

/** Entries looked at, at most, for a version's copy (see `holdsVersionCopy`). */
const VERSION_LOOK = 10_000;

/**
 * Whether a `versions` folder is the backup's: one that holds a version's copy
 * (`versions/<mirror>/vN.bak`), which a walk down its first folders soon meets (the backup
 * leaves no folder empty there). A folder of that name someone keeps in the root holds
 * other files (a first backup into a disk that has one is not refused). One that cannot be
 * read, or too large to look through, counts as the backup's. Reads only; never follows a
 * symlink.
 */
function holdsVersionCopy(folder: string): boolean {
  const stack = [folder];
  let seen = 0;
  while (stack.length > 0) {
    const at = stack.pop()!;
    try {
      for (const e of Deno.readDirSync(at)) {
        if (++seen > VERSION_LOOK) return true;
        if (e.isDirectory) stack.push(join(at, e.name));
        else if (at !== folder && VERSION_COPY.test(e.name)) return true;
      }
    } catch {
      return true;
    }
  }
  return false;
}

function isEmptyOrMissing(folder: string): boolean {
  try {
    for (const _ of Deno.readDirSync(folder)) return false;
    return true;
  } catch (e) {
    return e instanceof Deno.errors.NotFound;
  }
}

/**
 * Whether a run may start a new backup in its backup root, asked before anything is made
 * there: a root missing or empty while its disk is most likely not mounted is refused
 * (exit 2). Reads only: the logs' first lines, /etc/fstab and the mount table, and the
 * folders on the root's way.
 */
import type { Config } from "../config/config.ts";
import { logsNaming } from "../log/log_files.ts";
import { PreflightError } from "./errors.ts";
import { missingMediaFolderOf, unmountedTablePointOf } from "./mounts.ts";

/**
 * Refuses (exit 2) to start a new backup in a backup root that is missing or empty while
 * the logs say it had one, or while /etc/fstab mounts a disk over it that is not mounted:
 * the disk it lives on is most likely not mounted (a scheduled run would otherwise fill the
 * empty mount point, on the system disk, with a new full backup and report success; the
 * table is asked too because logs are not there to ask where `log_dir` was changed or lies
 * on that disk), or while the root, or a folder on its way, is missing below a folder
 * where removable disks are mounted (mounts.ts: `/media/alice/Disk` for an unmounted disk,
 * which neither logs nor fstab may tell). Someone who removed the backup on purpose moves
 * its logs away first. A root that holds files but no state (one moved aside as damaged)
 * starts anew. `fstab`, `media`: the table's path and those folders (tests give their own).
 */
export function refuseForgottenRoot(
  config: Config,
  fstab = "/etc/fstab",
  media?: readonly string[],
): void {
  if (!isEmptyOrMissing(config.backupRoot)) return;
  const earlier = logsNaming(config.logDir, config.backupRoot);
  if (earlier.length === 0) {
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
        `again (to keep the backup on this computer's own disk, create '${missing}' first)`,
    );
  }
  const count = earlier.length === 1 ? "a log" : `${earlier.length} logs`;
  const verb = earlier.length === 1 ? "records" : "record";
  throw new PreflightError(
    `Cannot back up to '${config.backupRoot}': it holds no backup, but ${count} in ` +
      `'${config.logDir}' ${verb} earlier runs into it (the newest: '${earlier.at(-1)}'): ` +
      "is its disk mounted? Mount it and run again; to start a new backup there instead, " +
      "move those logs out of log_dir first",
  );
}

function isEmptyOrMissing(folder: string): boolean {
  try {
    for (const _ of Deno.readDirSync(folder)) return false;
    return true;
  } catch (e) {
    return e instanceof Deno.errors.NotFound;
  }
}

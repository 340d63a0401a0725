/**
 * Reading a backup without its config (`--backup-root DIR` of restore, ls, diff, history,
 * find, stats and verify): once the computer and its config are lost, the backup disk alone is enough,
 * as a restic user expects of `restic -r`. The config is made from the backup's own record:
 * its root, and each source the state has recorded, at the folder the last run found it at
 * (restored in place there, or under `--to`); a source recorded at a path that is not
 * absolute here (a Windows backup read on Linux), or at a folder another recorded source's
 * overlaps, is left out, so that its files are restored under `--to` only
 * (recorded_sources.ts). The other settings are the defaults. `verify --repair`, the one
 * such command that writes, keeps its log in `logs` of the working folder, as a config
 * there would by default.
 * Reads only; nothing to leave behind.
 */
import { dirname, join, resolve } from "node:path";
import { type Config, DEFAULTS } from "../config/config.ts";
import { givenPathNotUtf8, Invalid, notUtf8Given, osDetail, quote } from "../config/errors.ts";
import { isInside, realTarget } from "../config/paths.ts";
import { errorText, isGone, PreflightError, UsageError } from "../engine/errors.ts";
import { statePaths } from "../engine/session/session.ts";
import { loadConfigFor, withState } from "./open.ts";
import { inPlaceSources, NO_CONFIG_FILE } from "./recorded_sources.ts";

/** What each reading command does, as its errors say it. */
const DOING = {
  restore: "restore",
  history: "show history",
  verify: "verify",
  ls: "list",
  find: "find",
  diff: "compare",
  stats: "count",
};

/**
 * The config a reading command works with: the config file (`--config`, or the working
 * folder's), or, with `--backup-root`, one made from the backup's record. Both at once is a
 * usage error: the config's backup root could be another.
 */
export function configForReading(
  command: keyof typeof DOING,
  configFlag: string | undefined,
  rootFlag: string | undefined,
  writesLog = false,
): Config {
  if (rootFlag === undefined) return loadConfigFor(configFlag);
  if (configFlag !== undefined) {
    throw new UsageError(
      `Cannot ${DOING[command]}: give --config FILE or --backup-root DIR, not both: see ` +
        `'${command} --help'`,
    );
  }
  return configOfBackupRoot(rootFlag, writesLog);
}

/**
 * The config to read the backup at `given` (a folder holding `.backup-tool/`) with, and,
 * where the command `writesLog` (`verify --repair`), to keep its log in `./logs`.
 */
function configOfBackupRoot(given: string, writesLog = false): Config {
  if (given === "") {
    throw new UsageError(
      "Cannot read backup: --backup-root needs a folder path (an unset variable?): give the " +
        "folder that holds '.backup-tool'",
    );
  }
  const root = realFolder(resolve(given));
  const bare: Config = {
    file: NO_CONFIG_FILE,
    sources: [],
    backupRoot: root,
    // Outside the root, where the config loader refuses a log_dir (verify then looks at
    // every folder in the root): beside it where nothing is written.
    logDir: writesLog ? logsHere(root) : resolve(root, "..", "logs"),
    hashAlgorithm: DEFAULTS.hash_algorithm,
    maxVersionsPerFile: DEFAULTS["retention.max_versions_per_file"],
    keptPeriods: { days: 0, weeks: 0, months: 0, timeZone: DEFAULTS["retention.time_zone"] },
    keepDeletedDays: 0,
    exclude: [],
    excludeOrigins: [],
    excludeFrom: [],
    excludeCaches: DEFAULTS.exclude_caches,
    excludeIfPresent: [],
    oneFileSystem: DEFAULTS.one_file_system,
    excludeLargerThan: DEFAULTS.exclude_larger_than,
    watch: { debounceMs: DEFAULTS["watch.debounce_ms"], rescanIntervalMs: 0 },
    maxDeletePercent: DEFAULTS["safety.max_delete_percent"],
    logRetention: DEFAULTS.log_retention,
    logUnchanged: DEFAULTS.log_unchanged,
    rehash: false,
    shareBlocks: DEFAULTS.share_blocks,
  };
  refuseWithoutState(root);
  const sources = withState(bare, (store) => inPlaceSources(store.sourcePaths()).sources);
  return { ...bare, sources };
}

/**
 * `logs` in the working folder, where a config there keeps its log by default, its real
 * path, as a config's log_dir is taken; exit code 2 where that is inside the backup root
 * (the disk looked at from inside, or a `logs` symlink into it: a log there takes a name
 * among the copies, and verify then finds it unknown).
 */
function logsHere(root: string): string {
  const given = resolve(DEFAULTS.log_dir);
  const logs = realOrAsGiven(given);
  if (logs === root || isInside(logs, root)) {
    const through = logs === given ? "" : `, which leads to ${quote(logs)}`;
    throw new PreflightError(
      `Cannot write the repair's log in ${quote(given)}${through}: it is inside the backup ` +
        `root ${quote(root)}, whose folders mirror the sources: run it from a folder outside ` +
        "the backup root",
    );
  }
  return logs;
}

/**
 * `abs` through the symlinks of its existing part; as given where that cannot be told (a
 * symlink to nothing): writing the log there then says why.
 */
function realOrAsGiven(abs: string): string {
  try {
    return realTarget(abs, "log_dir");
  } catch (e) {
    if (e instanceof Invalid) return abs;
    throw e;
  }
}

/** The folder's real path; exit code 2 when it is not a folder that can be looked at. */
function realFolder(abs: string): string {
  let real: string;
  try {
    real = Deno.realPathSync(abs);
  } catch (e) {
    // Given not in UTF-8: the folder meant may be there under the bytes given.
    const remedy = givenPathNotUtf8(abs)
      ? notUtf8Given()
      : "give the folder that holds '.backup-tool' to --backup-root";
    throw new PreflightError(`Cannot read backup ${quote(abs)}: ${osDetail(e)}: ${remedy}`);
  }
  if (!Deno.statSync(real).isDirectory) {
    throw new PreflightError(
      `Cannot read backup ${quote(abs)}: it is not a folder: give the folder that holds ` +
        "'.backup-tool' to --backup-root",
    );
  }
  return real;
}

/**
 * Exit code 2 when `root` holds no state: naming the folder that does, where one does: the
 * backup root holding `root` (its `versions/`, its `.backup-tool/` given), or one directly
 * below `root` (the disk's mount point given for the backup folder on it).
 */
function refuseWithoutState(root: string): void {
  if (holdsStateReadably(root)) return;
  const above = stateHolderAbove(root);
  const below = above === undefined ? stateHolderBelow(root) : undefined;
  const remedy = above !== undefined
    ? `it is inside the backup ${quote(above)}: give that folder to --backup-root`
    : below !== undefined
    ? `${quote(below)} holds one: give that folder to --backup-root`
    : "give the folder that holds '.backup-tool' to --backup-root";
  throw new PreflightError(
    `Cannot read backup ${quote(root)}: no backup state ('.backup-tool/state.db') in it: ${remedy}`,
  );
}

/**
 * Whether `root` holds a backup's state; exit code 2 when that cannot be told: a backup
 * root this user may not enter (a backup made by root, `0700`) is not a folder without one.
 */
function holdsStateReadably(root: string): boolean {
  try {
    return Deno.statSync(statePaths(root).db).isFile;
  } catch (e) {
    if (isGone(e)) return false;
    const remedy = e instanceof Deno.errors.PermissionDenied
      ? ": run as a user who can read the backup root"
      : "";
    throw new PreflightError(`Cannot read backup ${quote(root)}: ${errorText(e)}${remedy}`);
  }
}

/** Whether `root` holds a backup's state (false where that cannot be told). */
function holdsState(root: string): boolean {
  try {
    return holdsStateReadably(root);
  } catch {
    return false;
  }
}

/** The nearest folder above `root` that holds a backup's state. */
function stateHolderAbove(root: string): string | undefined {
  for (let below = root, at = dirname(root); at !== below; below = at, at = dirname(at)) {
    if (holdsState(at)) return at;
  }
  return undefined;
}

/** The first folder directly below `root`, in name order, that holds a backup's state. */
function stateHolderBelow(root: string): string | undefined {
  const names: string[] = [];
  try {
    for (const e of Deno.readDirSync(root)) if (e.isDirectory) names.push(e.name);
  } catch {
    return undefined; // an unreadable folder: the message says what to give
  }
  return names.sort().map((n) => join(root, n)).find(holdsState);
}

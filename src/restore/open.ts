/**
 * Opening a backup for reading, shared by restore, history and verify: the config, the
 * state opened read-only (no lock taken: a running backup may continue; an open reader
 * holds no lock between its queries), and a path resolver over every source and path the
 * state knows, asking the state.
 */
import { isAbsolute, relative, sep } from "node:path";
import { type Config, findConfigFile, loadConfig } from "../config/config.ts";
import { errorText, PreflightError } from "../engine/errors.ts";
import { exists } from "../engine/fs/fsops.ts";
import { statePaths } from "../engine/session/session.ts";
import { noStateFound } from "../engine/session/claim_root.ts";
import { checkStateFolder } from "../engine/session/state_folder.ts";
import { StateStore } from "../state/store.ts";
import { NoStateYet } from "../state/schema.ts";
import { checkHeaderUnlessEmpty } from "../state/connection.ts";
import { currentHolderRecord } from "../engine/session/lock.ts";
import { PathResolver } from "./paths.ts";
import { inPlaceSources, NO_CONFIG_FILE } from "./recorded_sources.ts";

/**
 * The config of a command that reads the backup, taken as far as it can be where a source,
 * the log folder or a file of exclude patterns is lost; `asksPatterns` (purge): a file of
 * exclude patterns that cannot be read is refused, as a run refuses it.
 */
export function loadConfigFor(
  configFlag: string | undefined,
  { asksPatterns = false } = {},
): Config {
  return loadConfig(findConfigFile(configFlag, Deno.cwd()), {
    sourcesMayBeMissing: true,
    logDirMayBeUnreachable: true,
    excludeFromMayBeUnreadable: !asksPatterns,
  });
}

/** The state database's path; exit code 2 when there is no backup yet. */
function requireState(config: Config): string {
  const { dir, db } = statePaths(config.backupRoot);
  checkStateFolder(config.backupRoot, dir, { reading: true }); // a FIFO there would hang
  if (!readableThere(config, db)) throw noStateFound(config, db);
  return db;
}

/**
 * For `verify --repair`, before its session: exit code 2 when the backup root cannot be
 * read, or holds no backup while no run has begun one (no lock file: a run makes it before
 * the state), before the session would make the lock file to take the lock. A state with no
 * backup beside a lock file (a first run under way, or one killed before its first commit)
 * is the session's to refuse, under the lock (`backupRequired`): exit code 3 while a run
 * holds it. Reads the state's header at most, never opens the state.
 */
export function requireBackup(config: Config): void {
  const { dir, db, lock } = statePaths(config.backupRoot);
  checkStateFolder(config.backupRoot, dir, { reading: true });
  if (readableThere(config, lock)) return;
  if (!readableThere(config, db) || checkHeaderUnlessEmpty(db)) throw noStateFound(config, db);
}

/** Whether something is at `path` in the backup root; exit code 2 when that cannot be told. */
function readableThere(config: Config, path: string): boolean {
  try {
    return exists(path);
  } catch (e) {
    throw new PreflightError(
      `Cannot read backup '${config.backupRoot}': ${errorText(e)}: run as a user who can ` +
        "read the backup root",
    );
  }
}

/** Who is changing the backup root now (a run, a watch session, a repair), if anyone. */
export function runningNow(config: Config): string | undefined {
  return holderNow(config)?.text;
}

/** `runningNow`, with when the holder took the lock where its record says so. */
export function holderNow(config: Config): { text: string; startedMs?: number } | undefined {
  return currentHolderRecord(statePaths(config.backupRoot).lock);
}

/** The state opened read-only (close it when done); exit code 2 when there is no backup yet. */
export function openState(config: Config): StateStore {
  const db = requireState(config);
  try {
    return StateStore.open(db, { readOnly: true });
  } catch (e) {
    if (e instanceof NoStateYet) throw noStateFound(config, db); // a first run is under way
    throw e;
  }
}

/** Runs `fn` with the state opened read-only; exit code 2 when there is no backup yet. */
export function withState<T>(config: Config, fn: (store: StateStore) => T): T {
  const store = openState(config);
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

/**
 * A resolver over the configured sources and everything the state recorded, asking the
 * state (open while it is used) rather than holding every path in memory. Read without a
 * config, it says why a recorded source is not restored in place (`inPlaceSources`).
 */
export function resolverFor(config: Config, store: StateStore) {
  const names = [...config.sources.map((s) => s.name), ...store.prefixes().keys()];
  const lastPaths = store.sourcePaths();
  return new PathResolver(
    names,
    config.sources,
    { isFile: (p) => store.isRecorded(p), hasBelow: (p) => store.isRecordedBelow(p) },
    Deno.build.os,
    lastPaths,
    { root: config.backupRoot, copyAt: (storage) => store.copyStoredAt(storage) },
    config.file === NO_CONFIG_FILE ? inPlaceSources(lastPaths).refused : undefined,
  );
}

/** The log folder as a storage path when it is the backup root ("") or lies inside it. */
export function logDirInside(config: Config): string | undefined {
  const rel = relative(config.backupRoot, config.logDir);
  if (rel === "") return "";
  if (rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return rel.split(sep).join("/");
}

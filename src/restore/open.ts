/**
 * Opening a backup for reading, shared by restore, history and verify: the config, the
 * state opened read-only (no lock taken: a running backup may continue), and a path
 * resolver over every source and path the state knows. The state is read in one go and
 * closed before any file is touched.
 */
import { isAbsolute, relative, sep } from "node:path";
import { type Config, findConfigFile, loadConfig } from "../config/config.ts";
import { PreflightError } from "../engine/errors.ts";
import { exists } from "../engine/fsops.ts";
import { statePaths } from "../engine/session.ts";
import { StateStore } from "../state/store.ts";
import { PathResolver } from "./paths.ts";

export function loadConfigFor(configFlag: string | undefined): Config {
  return loadConfig(findConfigFile(configFlag, Deno.cwd()), { sourcesMayBeMissing: true });
}

/** The state database's path; exit code 2 when there is no backup yet. */
export function requireState(config: Config): string {
  const db = statePaths(config.backupRoot).db;
  if (!exists(db)) {
    throw new PreflightError(
      `Cannot read backup '${config.backupRoot}': no backup state found at '${db}': ` +
        `run a backup first, or check backup_root in '${config.file}'`,
    );
  }
  return db;
}

/** Runs `fn` with the state opened read-only; exit code 2 when there is no backup yet. */
export function withState<T>(config: Config, fn: (store: StateStore) => T): T {
  const store = StateStore.open(requireState(config), { readOnly: true });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

/** A resolver over the configured sources and everything the state recorded. */
export function resolverFor(config: Config, store: StateStore, paths: Iterable<string>) {
  const names = [...config.sources.map((s) => s.name), ...store.prefixes().keys()];
  return new PathResolver(names, config.sources, paths);
}

/** The log folder as a storage path when it is the backup root ("") or lies inside it. */
export function logDirInside(config: Config): string | undefined {
  const rel = relative(config.backupRoot, config.logDir);
  if (rel === "") return "";
  if (rel.startsWith("..") || isAbsolute(rel)) return undefined;
  return rel.split(sep).join("/");
}

/**
 * What a session checks before it creates anything (exit code 2, nothing changed): every
 * source can be listed and none is the backup root, in it or another source by another
 * path; log_dir is not inside the backup root, with where to put the logs instead. Reads
 * only: an interruption leaves nothing.
 */
import path from "node:path";
import { homedir } from "node:os";
import type { Config } from "../../config/config.ts";
import { isInside } from "../../config/paths.ts";
import { errorText, PreflightError, remedyUnlessOutOfFiles } from "../errors.ts";
import { sourceClashes } from "./source_clash.ts";

/**
 * Fails (exit code 2) when a source cannot be listed, or is the backup root, a folder in
 * it or another source by another path (see source_clash.ts), before anything is created.
 * `listed`: which sources to list (a watch's config reloaded: those it adds).
 */
export function checkSourcesReadable(
  config: Config,
  listed: (source: Config["sources"][number]) => boolean = () => true,
): void {
  for (const s of config.sources.filter(listed)) {
    try {
      for (const _ of Deno.readDirSync(s.path)) break;
    } catch (e) {
      const remedy = remedyUnlessOutOfFiles(
        e,
        "check the path, its permissions, or mount the disk",
      );
      throw new PreflightError(`Cannot read source '${s.path}': ${errorText(e)}${remedy}`);
    }
  }
  const [clash] = sourceClashes(config.sources, config.backupRoot).values();
  if (clash !== undefined) throw new PreflightError(`${clash} in '${config.file}'`);
}

/**
 * Fails (exit code 2) when log_dir lies inside the backup root, before anything is created:
 * the root's folders mirror the sources, so a log there could take a copy's name, and log
 * rotation could then remove a copy. Only commands that write logs check it, and `plan`,
 * which says what a run would do, so a config from before this rule still serves
 * `restore`, `history` and `verify`.
 */
export function checkLogDir(config: Config): void {
  const { logDir, backupRoot, file } = config;
  const same = logDir === backupRoot;
  if (same || isInside(logDir, backupRoot)) {
    const where = same
      ? "the same folder as 'backup_root'"
      : `inside 'backup_root' ('${backupRoot}')`;
    throw new PreflightError(
      `Cannot write logs inside the backup root: 'log_dir' ('${logDir}') in '${file}' is ` +
        `${where}, whose folders mirror the sources: ${logDirRemedy(backupRoot, file)}`,
    );
  }
}

/**
 * Where to put the logs instead, with an example as the config writes it: a folder beside
 * the backup root (relative to the config's folder), `logs` there, or `run-logs` where the
 * backup root is that `logs`. Never "./logs" as such, which is inside a backup root of "."
 * (the config kept on the backup disk) and is the default the refused config may already
 * have. A backup root that is a disk's own root (a backup disk given whole, E:\) has
 * nothing beside it: another disk then, the home folder's `backup-logs` (`home`) where it
 * is not in the backup root. `p`: the platform's paths (tests give the other's).
 */
export function logDirRemedy(
  backupRoot: string,
  file: string,
  home = homeFolder(),
  p: path.PlatformPath = path,
): string {
  const parent = p.dirname(backupRoot);
  if (parent === backupRoot) {
    const dir = home === undefined ? undefined : p.join(home, "backup-logs");
    const rel = dir === undefined ? "" : p.relative(backupRoot, dir);
    return dir === undefined || !(rel.startsWith("..") || p.isAbsolute(rel))
      ? "put the logs on another disk"
      : `put the logs on another disk, e.g. "log_dir": ${JSON.stringify(dir)}`;
  }
  let dir = p.join(parent, "logs");
  if (dir === backupRoot) dir = p.join(parent, "run-logs");
  const rel = p.relative(p.dirname(file), dir);
  const example = p.isAbsolute(rel) // another drive (Windows)
    ? dir
    : rel.startsWith("..")
    ? rel
    : `./${rel}`;
  return `put the logs beside it, e.g. "log_dir": ${JSON.stringify(example)}`;
}

/** The user's home folder, where it can be told. */
function homeFolder(): string | undefined {
  try {
    return homedir() || undefined;
  } catch {
    return undefined;
  }
}

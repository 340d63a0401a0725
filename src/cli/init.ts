/**
 * `init [DIR]`: writes a commented config.jsonc into DIR (default: the current folder),
 * every key explained and set to its default (init_template.ts), after refusing the
 * folders the loader would refuse (not a folder, sources overlapping, a backup root
 * holding a source). The file is created with `createNew`: an existing config is never
 * overwritten, not even by a race with another `init`; folders made for a config that
 * could not be written are removed again. An interruption may leave the folders made, and
 * the config empty or cut short, which the next `init` refuses to overwrite.
 */
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { usableSourceName } from "../config/sources.ts";
import { isInside, isThere, nonFolderAbove } from "../config/paths.ts";
import { ConfigError } from "../config/config.ts";
import { givenPathNotUtf8, notUtf8Given, osDetail } from "../config/errors.ts";
import { flag, parseCommand, refuseEmptyPaths, str, UsageError } from "./args.ts";
import { realPathOrNone } from "../engine/fs/identity.ts";
import { missingFolders, removeQuietly } from "../engine/fs/fsops.ts";
import { say } from "./stdout.ts";
import { configTemplate } from "./init_template.ts";

const INIT_HELP =
  `Usage: backup-tool init [DIR] [--source PATH]... [--backup-root PATH] [--config FILE]
                        [--quiet]

Writes a commented config.jsonc into DIR (default: the current folder), with every key
explained and set to its default. An existing config is never overwritten.

Options:
  --source PATH       Folder to back up (repeatable; default ./data next to the config)
  --backup-root PATH  Where the backup goes (default ./backup next to the config)
  --config FILE       Write this file instead of DIR/config.jsonc
  --quiet, -q         Print nothing but errors

Relative --source and --backup-root paths are taken from the current folder.

Exit codes: 0 written, 2 usage error, a config already there, or a folder given that
cannot be a source or backup root or cannot be made (nothing written).

Examples:
  backup-tool init
  backup-tool init ~/backup --source ~/Documents --source ~/Pictures --backup-root /mnt/usb/backup`;

/** Exit code 2: the config exists. */
class ExistsError extends UsageError {}

export function initCommand(argv: string[]): Promise<number> {
  const p = parseCommand("init", argv, {
    paths: true,
    boolean: ["quiet"],
    string: ["source", "backup-root"],
    multiple: ["source"],
  });
  if (flag(p, "help")) {
    say(INIT_HELP);
    return Promise.resolve(0);
  }
  if (p.positionals.length > 1) {
    throw new UsageError(
      `Cannot init: more than one folder given (${p.positionals.join(", ")}): see 'init --help'`,
    );
  }
  refuseEmptyPaths("init", p);
  // An empty value (an unset variable) would name the current folder.
  for (const name of ["source", "backup-root"]) {
    const given = p.values[name];
    if ((Array.isArray(given) ? given : [given]).includes("")) {
      throw new UsageError(
        `Cannot init: --${name} needs a folder path (an unset variable?): see 'init --help'`,
      );
    }
  }
  const file = targetFile(p.positionals[0], str(p, "config"));
  for (const s of (p.values.source as string[] | undefined) ?? []) refuseNonFolder("source", s);
  const rootFlag = str(p, "backup-root");
  if (rootFlag !== undefined) refuseNonFolder("backup-root", rootFlag);
  const dir = dirname(file);
  const sources = (p.values.source as string[] | undefined) ?? [];
  const root = str(p, "backup-root");
  if (root !== undefined) {
    // Without --source, the config's source is `data` beside it.
    const named = sources.map((s) => [s, `'--source ${s}'`] as const);
    const data = join(dir, "data");
    checkRootApart(root, named.length > 0 ? named : [[data, `the default source '${data}'`]]);
  }
  const text = configTemplate({
    sources: sources.length > 0 ? sourceEntries(dir, sources) : ["./data"],
    backupRoot: root === undefined ? "./backup" : configPath(dir, root),
  });
  writeNew(file, text);
  if (!flag(p, "quiet")) say(nextSteps(file, dir, sources));
  return Promise.resolve(0);
}

function targetFile(dir: string | undefined, config: string | undefined): string {
  if (dir !== undefined && config !== undefined) {
    throw new UsageError("Cannot init: give either DIR or --config FILE, not both");
  }
  if (config === "") {
    throw new UsageError(
      "Cannot init: --config needs a file path (an unset variable?): see 'init --help'",
    );
  }
  const file = config !== undefined ? resolve(config) : join(resolve(dir ?? "."), "config.jsonc");
  // Another file than the one meant, which would be written.
  if (givenPathNotUtf8(file)) {
    throw new UsageError(`Cannot init '${file}': ${notUtf8Given()}`);
  }
  return file;
}

/**
 * The `sources` entries: each folder's path, with a "name" where its basename cannot name
 * a source (a `\`, a reserved name, the same name twice) and the loader would refuse it.
 */
function sourceEntries(
  dir: string,
  sources: string[],
): (string | { path: string; name: string })[] {
  checkNoOverlap(sources);
  const taken = new Set<string>();
  return sources.map((s) => {
    const path = configPath(dir, s);
    const folder = basename(resolve(s));
    const name = usableSourceName(folder, taken);
    taken.add(name.toLowerCase());
    return name === folder ? path : { path, name };
  });
}

/**
 * Refuses a path the loader would: a file (or anything but a folder) where a folder goes,
 * or a file on the way to one. One that does not exist yet is fine: it is made later. One
 * given not in UTF-8 is another folder than the one meant, which the config would name.
 */
function refuseNonFolder(flagName: string, path: string): void {
  if (givenPathNotUtf8(path)) {
    throw new UsageError(`Cannot init: '--${flagName} ${path}': ${notUtf8Given()}`);
  }
  for (let at = resolve(path), rest = "";; rest = ` (its part '${at}' is a file)`) {
    let info: Deno.FileInfo | undefined;
    try {
      info = Deno.statSync(at);
    } catch { /* not there (or not to be looked at): the folder above is */ }
    if (info !== undefined) {
      if (info.isDirectory) return;
      throw new UsageError(
        `Cannot init: '--${flagName} ${path}' is not a folder${rest}: give a folder path`,
      );
    }
    if (dirname(at) === at) return;
    at = dirname(at);
  }
}

/** Refuses sources the loader would: one folder twice, or one inside another. */
function checkNoOverlap(sources: string[]): void {
  const real = sources.map(realOrAsWritten);
  for (let i = 0; i < real.length; i++) {
    for (let j = 0; j < real.length; j++) {
      if (i === j) continue;
      const [a, b] = [sources[i], sources[j]];
      if (i < j && real[i] === real[j]) {
        throw new UsageError(
          `Cannot init: '--source ${a}' and '--source ${b}' are one folder: give it once`,
        );
      }
      if (isInside(real[i], real[j])) {
        throw new UsageError(
          `Cannot init: '--source ${a}' is inside '--source ${b}': sources must not overlap` +
            " (its files would be backed up twice); give only one of them",
        );
      }
    }
  }
}

/**
 * Refuses a backup root the loader would: a source's own folder, or one holding a source
 * (the backup would contain itself). A backup root inside a source is fine: it is skipped.
 */
function checkRootApart(root: string, sources: readonly (readonly [string, string])[]): void {
  const realRoot = realOrAsWritten(root);
  for (const [s, label] of sources) {
    const real = realOrAsWritten(s);
    if (real === realRoot) {
      throw new UsageError(
        `Cannot init: '--backup-root ${root}' is the same folder as ${label}: give a backup ` +
          "root apart from the sources",
      );
    }
    if (isInside(real, realRoot)) {
      throw new UsageError(
        `Cannot init: ${label} is inside '--backup-root ${root}': the backup would contain ` +
          "itself; give a backup root outside the sources",
      );
    }
  }
}

function realOrAsWritten(path: string): string {
  return realPathOrNone(path) ?? resolve(path); // not there yet: as written
}

/** A path as the config should hold it: relative to the config's folder when inside it. */
function configPath(dir: string, given: string): string {
  const abs = resolve(given);
  const rel = relative(dir, abs);
  if (rel === "") return ".";
  if (rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return abs;
  return `./${rel.split(sep).join("/")}`;
}

/** What is at `file` already, said with what to do: a folder is not a file to edit. */
function existsError(file: string): ExistsError {
  let folder = false;
  try {
    folder = Deno.statSync(file).isDirectory;
  } catch { /* gone since: said as a file */ }
  return new ExistsError(
    folder
      ? `Cannot init: '${file}' is a folder: pass --config FILE to name the file to write ` +
        `(such as '${join(file, "config.jsonc")}')`
      : `Cannot init: '${file}' already exists and is left unchanged:` +
        ` edit it, delete it first, or pass --config FILE to write elsewhere`,
  );
}

function writeNew(file: string, text: string): void {
  // Only a file named config.jsonc is looked up before config.json (`my-config.jsonc` is not).
  const other = join(dirname(file), "config.json");
  if (basename(file) === "config.jsonc" && isThere(other)) {
    throw new ExistsError(
      `Cannot init: '${other}' already exists and would be shadowed by a new config.jsonc:` +
        ` edit it, or pass --config FILE to write elsewhere`,
    );
  }
  // Exit code 2 changes nothing: folders made for a config that could not be written go
  // again (deepest first, each only if empty).
  const made = missingFolders(dirname(file));
  try {
    Deno.mkdirSync(dirname(file), { recursive: true });
  } catch (e) {
    made.forEach(removeQuietly);
    throw cannotWrite(file, e);
  }
  try {
    Deno.writeTextFileSync(file, text, { createNew: true });
  } catch (e) {
    made.forEach(removeQuietly);
    if (e instanceof Deno.errors.AlreadyExists) throw existsError(file);
    throw cannotWrite(file, e);
  }
}

function cannotWrite(file: string, e: unknown): ConfigError {
  // A file on the way (`init notes.txt`): named, not the system's "File exists (os error
  // 17): mkdir '…'" or "Not a directory", which left the user to guess which part.
  const blocker = nonFolderAbove(file);
  if (blocker !== undefined) {
    return new ConfigError(
      `Cannot write config '${file}': '${blocker}' on its way is not a folder: pass ` +
        "--config FILE to write elsewhere",
    );
  }
  return new ConfigError(
    `Cannot write config '${file}': ${osDetail(e)}:` +
      ` check the folder and its permissions, or pass --config FILE to write elsewhere`,
  );
}

function nextSteps(file: string, dir: string, sources: string[]): string {
  const missing = (sources.length > 0 ? sources.map((s) => resolve(s)) : [join(dir, "data")])
    .filter((s) => !isThere(s));
  const lines = [`Wrote '${file}'. Next steps:`];
  if (missing.length > 0) {
    lines.push(`  - Create the source folder(s) or edit "sources": ${missing.join(", ")}`);
  }
  const flagText = file === join(resolve("."), "config.jsonc") ? "" : ` --config '${file}'`;
  lines.push(`  - Review the file: every key is explained in it`);
  lines.push(`  - See what would be backed up: backup-tool plan${flagText}`);
  lines.push(`  - Back up: backup-tool run${flagText}`);
  return lines.join("\n");
}

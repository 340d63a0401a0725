/**
 * `init [DIR]`: writes a commented config.jsonc into DIR (default: the current folder),
 * every key explained and set to its default from `DEFAULTS`, so the file documents the
 * configuration and stays in step with the loader. The file is created with `createNew`:
 * an existing config is never overwritten, not even by a race with another `init`.
 */
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { usableSourceName } from "../config/sources.ts";
import { isInside, isThere, nonFolderAbove } from "../config/paths.ts";
import { ConfigError, DEFAULTS } from "../config/config.ts";
import { givenPathNotUtf8, notUtf8Given, osDetail } from "../config/errors.ts";
import { flag, parseCommand, refuseEmptyPaths, str, UsageError } from "./args.ts";
import { realPathOrNone } from "../engine/fs/identity.ts";
import { missingFolders, removeQuietly } from "../engine/fs/fsops.ts";
import { say } from "./stdout.ts";

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

/** The commented config; values come from DEFAULTS so the file always matches the loader. */
function configTemplate(
  opts: { sources: (string | { path: string; name: string })[]; backupRoot: string },
): string {
  const j = (v: unknown) => JSON.stringify(v);
  return `// backup-tool configuration (JSONC: comments and trailing commas are allowed).
// Written by 'backup-tool init'. Every key is explained below; all but "sources" and
// "backup_root" may be removed to use the default shown. Relative paths resolve against
// this file's folder.
{
  // Folders to back up. They must exist. With one source the backup mirrors it directly;
  // with several, each gets a folder _sources/<name> (a source added later to a backup of
  // one keeps that one at the top). The name is the basename, or a "name"; it ties a
  // source to its files, so keep it when the folder is renamed:
  //   "sources": [{ "path": "./photos", "name": "photos" }, "/srv/documents"]
  "sources": [${
    opts.sources.map((s) =>
      typeof s === "string" ? j(s) : `{ "path": ${j(s.path)}, "name": ${j(s.name)} }`
    ).join(", ")
  }],

  // Where the browsable backup and its state (.backup-tool/) live. Created when missing.
  // It may sit inside a source (it is skipped there) but a source may not sit inside it.
  "backup_root": ${j(opts.backupRoot)},

  // One log file per run (or watch session) is written here, one line per action.
  // Not inside backup_root.
  "log_dir": ${j(DEFAULTS.log_dir)},

  // How many of this backup root's newest logs to keep in log_dir; older ones are deleted
  // and each deletion is logged ("LOG ROTATE delete: ..."). Logs of other backup roots
  // sharing log_dir, and other files in it, are left alone.
  "log_retention": ${j(DEFAULTS.log_retention)},

  // Whether each run's log names every unchanged file ("SKIP: ..."), as the reference's
  // did; false counts them in one line instead (100,000 files: about 6 MB a log less).
  "log_unchanged": ${j(DEFAULTS.log_unchanged)},

  // Content hash that detects changed and duplicate files:
  // sha256 (default), sha512, sha384, sha224, sha512-256, sha512-224, sha3-256, sha3-512,
  // sha3-384, sha3-224, blake2b512, blake2s256 (also as Python names: sha3_256, blake2b,
  // sha512_256, ...), sha1 or md5.
  "hash_algorithm": ${j(DEFAULTS.hash_algorithm)},

  "retention": {
    // Older versions kept per file, as versions/<path>/vN.bak; beyond this many the
    // oldest are deleted (and logged).
    "max_versions_per_file": ${j(DEFAULTS["retention.max_versions_per_file"])},
    // Beside those, the newest version of each of the newest this many days that have
    // versions of the file (in time_zone) is kept too: with watch, which stores each saved
    // change, a day of edits would otherwise retire yesterday's versions. 0 keeps none.
    // 14 days, 8 weeks and 12 months keep at most 34 more versions of a file.
    "keep_daily": ${j(DEFAULTS["retention.keep_daily"])},
    // The same for weeks, Monday to Sunday.
    "keep_weekly": ${j(DEFAULTS["retention.keep_weekly"])},
    // The same for calendar months.
    "keep_monthly": ${j(DEFAULTS["retention.keep_monthly"])},
    // The time zone those days, weeks and months are cut in: "local" is the zone each
    // command runs in (TZ). Where runs are made in more than one zone (a scheduled job
    // in UTC, one by hand elsewhere), name one, e.g. "Europe/Berlin" or "UTC", so that
    // each keeps the same versions.
    "time_zone": ${j(DEFAULTS["retention.time_zone"])},
    // Days a deleted file's last content stays in _deleted/ (and restorable); older ones
    // are deleted (and logged). 0 keeps them for good. Keep it longer than a loss could
    // go unnoticed: a source lost and then cleared leaves its files only there.
    "keep_deleted_days": ${j(DEFAULTS["retention.keep_deleted_days"])}
  },

  // gitignore-style patterns matched against paths inside each source. Files that become
  // excluded keep their existing copies in the backup ('backup-tool purge PATH' deletes
  // them). Examples:
  //   "*.tmp", ".cache/", "node_modules/", "/build/", "!keep.tmp"
  "exclude": ${j(DEFAULTS.exclude)},
  // Files of more such patterns, one a line, as rsync's --exclude-from and restic's
  // --exclude-file take them (a list shared by several machines, or one a script writes),
  // e.g. ["./exclude.txt"]: blank lines and lines starting with '#' are skipped ('\\#'
  // starts a pattern with '#'). Their patterns come before exclude's. A watch applies
  // an edit of one (or of this file) while it runs.
  "exclude_from": ${j(DEFAULTS.exclude_from)},

  // true: leave out every folder holding a CACHEDIR.TAG that begins with the Cache
  // Directory Tagging signature (cargo's target/, pip's and ccache's caches), all but
  // the tag itself. Files backed up before keep their copies, as excluded ones do.
  "exclude_caches": ${j(DEFAULTS.exclude_caches)},
  // Names of entries that leave the folder holding one out, all but that entry, e.g.
  // [".nobackup"]. Names as a folder lists them, not patterns or paths.
  "exclude_if_present": ${j(DEFAULTS.exclude_if_present)},
  // true: leave out what is mounted inside a source (a USB disk, a NAS share, a btrfs
  // subvolume: another device than the source's folder), as rsync -x does: nothing below
  // the mount point is backed up.
  "one_file_system": ${j(DEFAULTS.one_file_system)},
  // Leave out every file larger than this, e.g. "500M" or "1.5G" (units K, M, G, T,
  // 1024-based, as restic reads them; a number alone is bytes). Each file left out is
  // said in the log and on stderr (SKIP LARGE). null: no limit.
  "exclude_larger_than": ${j(DEFAULTS.exclude_larger_than)},

  "watch": {
    // 'backup-tool watch' backs up a changed file once it has seen no further change
    // to it for this many milliseconds.
    "debounce_ms": ${j(DEFAULTS["watch.debounce_ms"])},
    // Seconds between full rescans while watching, to catch changes the file system
    // did not report (network drives, full event queues), at least 1. 0 turns them off.
    "rescan_interval": ${j(DEFAULTS["watch.rescan_interval"])}
  },

  "safety": {
    // A run that would archive more than this percentage of the tracked files as deleted,
    // or of one source's (an unmounted disk, an emptied folder), archives none of them and
    // exits with 1; 'backup-tool run --force' archives them anyway.
    "max_delete_percent": ${j(DEFAULTS["safety.max_delete_percent"])}
  },

  // true: read and hash every file on every run, even when its size and times are
  // unchanged (slower; catches changes that keep them). 'run --rehash' does it once.
  "rehash": ${j(DEFAULTS.rehash)},

  // On btrfs and XFS (reflink), a copy of a content the backup already holds (a
  // duplicate, a moved file, one put back to an old version) shares its disk blocks
  // with the stored copy, taking next to no room. false: every copy owns its blocks,
  // so a disk fault in one block damages one copy only, not every copy sharing it.
  "share_blocks": ${j(DEFAULTS.share_blocks)}
}
`;
}

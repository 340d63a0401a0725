/**
 * Loads and validates config.jsonc into a `Config` with every default filled in and every
 * path absolute. Steps: read the file (UTF-8, BOM allowed), parse JSONC (comments and
 * trailing commas allowed), then check each key: unknown keys, JSON types, ranges, hash
 * algorithm, retention's periods and time zone (kept_periods.ts), the exclude patterns and the
 * files of them `exclude_from` lists (exclude_from.ts), and the source/backup_root paths.
 * Relative paths resolve against the config file's folder. The first problem throws a
 * one-line `ConfigError`; nothing is written.
 * Reading the file's text (size bounds, pipes, UTF-8) is config_text.ts.
 */
import { dirname, join, resolve } from "node:path";
import { ConfigError, Invalid, invalid, quote, show } from "./errors.ts";
import { type FileBytes, PASSED_PIPE, readConfigText } from "./config_text.ts";
import { parseJsonc } from "./jsonc.ts";
import { absolute, isThere, realTarget } from "./paths.ts";
import { Section } from "./section.ts";
import { readSources, type Source } from "./sources.ts";
import { didYouMean } from "./suggest.ts";
import { KEPT_PERIOD_KEYS, type KeptPeriods, readKeptPeriods } from "./kept_periods.ts";
import { readExcludeIfPresent } from "./exclude_keys.ts";
import { type PatternOrigin, readPatterns } from "./exclude_from.ts";
import { readExcludeLargerThan } from "./byte_size.ts";

export { ConfigError } from "./errors.ts";
export { type Source } from "./sources.ts";
export { configWarnings } from "./exclude_from.ts";

export interface Config {
  /** Absolute path of the config file. */
  file: string;
  /** In config order; names unique, paths realpath'd. */
  sources: Source[];
  /** Absolute: realpath of the nearest existing ancestor + the rest (may not exist yet). */
  backupRoot: string;
  /** Absolute, same rule as backupRoot. */
  logDir: string;
  hashAlgorithm: string;
  maxVersionsPerFile: number;
  /**
   * How many days, weeks and months keep their newest version of each file, beside the
   * newest `maxVersionsPerFile` (core/retention.ts); 0: none. The zone they are cut in:
   * "local" (the process's) or a zone name, as written (kept_periods.ts).
   */
  keptPeriods: KeptPeriods;
  /** Days a deleted file's copy stays in _deleted/; 0: for good. */
  keepDeletedDays: number;
  /**
   * gitignore-style patterns, as given: those of the `exclude_from` files first (in the
   * order listed, each file's in its order; exclude_from.ts), then `exclude`'s.
   */
  exclude: string[];
  /** Where each of `exclude` was written (the key, or a file's line), for messages. */
  excludeOrigins: PatternOrigin[];
  /** Absolute paths of the `exclude_from` files, as listed (a watch looks at them again). */
  excludeFrom: string[];
  /** Whether a folder with a cache's `CACHEDIR.TAG` is left out but the tag (engine/scan/tags.ts). */
  excludeCaches: boolean;
  /** Names of entries that leave the folder holding one out, all but the entry. */
  excludeIfPresent: string[];
  /** Whether a folder on another device than its source's root is left out (rsync -x). */
  oneFileSystem: boolean;
  /** Bytes over which a regular file is left out (`exclude_larger_than`); null: no limit. */
  excludeLargerThan: number | null;
  /** rescanIntervalMs 0 = periodic rescan disabled. */
  watch: { debounceMs: number; rescanIntervalMs: number };
  /** 0..100 */
  maxDeletePercent: number;
  /** Number of newest log files kept. */
  logRetention: number;
  /** Whether a run's log names each unchanged file (`SKIP:`), as the reference's did. */
  logUnchanged: boolean;
  rehash: boolean;
  /**
   * Whether a copy may share its disk blocks with a stored copy of the same content, where
   * the backup root's file system can (engine/fs/share_extents.ts); false: every copy owns
   * its blocks, and no sharing is asked of the file system or looked up in the state.
   */
  shareBlocks: boolean;
}

/** Defaults of the optional keys, by JSON key path. */
export const DEFAULTS = {
  log_dir: "./logs",
  hash_algorithm: "sha256",
  "retention.max_versions_per_file": 10,
  "retention.keep_daily": 0,
  "retention.keep_weekly": 0,
  "retention.keep_monthly": 0,
  "retention.time_zone": "local",
  "retention.keep_deleted_days": 0,
  exclude: [] as readonly string[],
  exclude_from: [] as readonly string[],
  exclude_caches: false,
  exclude_if_present: [] as readonly string[],
  one_file_system: false,
  exclude_larger_than: null,
  "watch.debounce_ms": 1000,
  "watch.rescan_interval": 3600,
  "safety.max_delete_percent": 50,
  log_retention: 30,
  log_unchanged: true,
  rehash: false,
  share_blocks: true,
} as const;

/** Longest timer delay JS supports (setTimeout/setInterval overflow beyond it). */
const MAX_DELAY_MS = 2 ** 31 - 1;

const TOP_KEYS = [
  "$schema",
  "sources",
  "backup_root",
  "log_dir",
  "hash_algorithm",
  "retention",
  "exclude",
  "exclude_from",
  "exclude_caches",
  "exclude_if_present",
  "one_file_system",
  "exclude_larger_than",
  "watch",
  "safety",
  "log_retention",
  "log_unchanged",
  "rehash",
  "share_blocks",
];

/** Where nested keys belong, to hint when one is written at the top level. */
const HOMES: Record<string, string> = {
  max_versions_per_file: "retention",
  keep_daily: "retention",
  keep_weekly: "retention",
  keep_monthly: "retention",
  time_zone: "retention",
  keep_deleted_days: "retention",
  debounce_ms: "watch",
  rescan_interval: "watch",
  max_delete_percent: "safety",
};

/**
 * Other tools' names for keys (restic's --exclude-file, git's core.excludesFile), as
 * section.ts compares them, with the key meant.
 */
const OTHER_NAMES: Record<string, string> = {
  excludefile: "exclude_from",
  excludefiles: "exclude_from",
  excludesfile: "exclude_from",
};

/**
 * The accepted `hash_algorithm` values, preferred first. A fixed list, not asked of
 * node:crypto, so loading a config does not load the digest module (see
 * engine/digest.ts); config_test.ts checks that the runtime computes each of them.
 */
export const HASH_ALGORITHMS: readonly string[] = [
  "sha256",
  "sha512",
  "sha384",
  "sha224",
  "sha512-256",
  "sha512-224",
  "sha3-256",
  "sha3-512",
  "sha3-384",
  "sha3-224",
  "blake2b512",
  "blake2s256",
  "sha1",
  "md5",
];

/**
 * The names Python's hashlib gives the same algorithms (the reference tool's config took
 * those), each recorded under its name above, so that both spellings are one algorithm.
 */
const HASH_ALIASES: Readonly<Record<string, string>> = {
  "blake2b": "blake2b512",
  "blake2s": "blake2s256",
  "sha3_224": "sha3-224",
  "sha3_256": "sha3-256",
  "sha3_384": "sha3-384",
  "sha3_512": "sha3-512",
  "sha512_224": "sha512-224",
  "sha512_256": "sha512-256",
};

/**
 * The config file to use: `explicit` (resolved against `cwd`) when given, else
 * `<cwd>/config.jsonc`, else `<cwd>/config.json`. Throws `ConfigError` when neither exists.
 */
export function findConfigFile(explicit: string | undefined, cwd: string): string {
  const dir = resolve(cwd);
  if (explicit === "") throw new ConfigError("Cannot find config: --config needs a file path");
  if (explicit !== undefined) return resolve(dir, explicit);
  // The first name that is there at all: a config.jsonc made a folder or a dangling link by
  // mistake is said (by loadConfig), not passed over for a config.json meant for another job.
  for (const name of ["config.jsonc", "config.json"]) {
    const candidate = join(dir, name);
    if (isThere(candidate)) return candidate;
  }
  throw new ConfigError(
    `Cannot find config: neither 'config.jsonc' nor 'config.json' in ${
      quote(dir)
    }: pass --config FILE`,
  );
}

/** How strictly a config is checked against the disk. */
interface LoadOptions {
  /**
   * A source folder that does not exist is taken as written instead of refused: for the
   * commands that only read the backup (restore, history, verify), which are needed most
   * once a source is lost.
   */
  sourcesMayBeMissing?: boolean;
  /**
   * A `log_dir` that cannot be reached (under a folder this user may not enter, or a file)
   * is taken as written instead of refused: for the commands that write no log (restore,
   * history, verify), which a monitoring user may run on root's backup. `plan` refuses it
   * as the run it previews would; `verify --repair`, which writes a log, names the folder
   * it cannot write.
   */
  logDirMayBeUnreachable?: boolean;
  /**
   * A file `exclude_from` lists that cannot be read (on a lost disk) gives no patterns
   * instead of being refused: for the commands that leave nothing out (restore, history,
   * verify, ls, diff, find, stats). `purge`, which asks the patterns, refuses it.
   */
  excludeFromMayBeUnreadable?: boolean;
  /** The config's and its exclude_from files' bytes, as a watch's look read them; else the disk. */
  read?: FileBytes;
}

/** Reads and validates a config file (relative `file` resolves against the cwd). */
export function loadConfig(file: string, opts: LoadOptions = {}): Config {
  const abs = resolve(file);
  const text = readConfigText(abs, opts.read);
  // A pipe's folder (/dev, /proc/<pid>/fd) is no place for paths: the working folder is.
  const base = PASSED_PIPE.test(abs) ? Deno.cwd() : dirname(abs);
  try {
    return build(abs, base, parseJsonc(text), opts);
  } catch (err) {
    if (err instanceof Invalid) {
      throw new ConfigError(`Cannot load config ${quote(abs)}: ${err.message}`);
    }
    throw err;
  }
}

function build(file: string, base: string, value: unknown, opts: LoadOptions): Config {
  const top = Section.of(value, "", TOP_KEYS, HOMES, OTHER_NAMES);
  top.string("$schema", "");
  const rawSources = top.required(
    "sources",
    'list the folders to back up, e.g. "sources": ["./data"]',
  );
  top.required("backup_root", 'say where the backup goes, e.g. "backup_root": "./backup"');
  const rootText = top.string("backup_root", "");
  const logText = top.string("log_dir", DEFAULTS.log_dir);
  const config = readSettings(top, base, opts);
  const backupRoot = realTarget(absolute(base, rootText, "backup_root"), "backup_root");
  checkStateFits(backupRoot);
  const logAbs = absolute(base, logText, "log_dir");
  const logDir = opts.logDirMayBeUnreachable
    ? realTargetOr(logAbs, "log_dir")
    : realTarget(logAbs, "log_dir");
  const sources = readSources(rawSources, base, backupRoot, opts.sourcesMayBeMissing);
  return { file, sources, backupRoot, logDir, ...config };
}

/** `realTarget`, or `abs` as written where that finds it unusable. */
function realTargetOr(abs: string, key: string): string {
  try {
    return realTarget(abs, key);
  } catch (err) {
    if (err instanceof Invalid) return abs;
    throw err;
  }
}

/**
 * Longest backup root, in UTF-8 bytes of its real path, whose state SQLite can open. SQLite's
 * unix VFS takes file names of up to 512 bytes (its mxPathname), and it opens a database only
 * when the name of its rollback journal, the database's name + "-journal", fits those (the
 * -wal file's suffix is shorter). The state is `<backup_root>/.backup-tool/state.db` (see
 * STATE_DIR in core/layout.ts and `statePaths` in engine/session/session.ts), so the root gets
 * 512 - "/.backup-tool/state.db-journal".length = 512 - 30 = 482 bytes. Measured with
 * node:sqlite's DatabaseSync (SQLite 3.53.2, Deno 2.9.6, Linux): a state.db path of 504
 * bytes opens and works in WAL and in rollback-journal mode, read-only too; one of 505
 * fails with "unable to open database file". SQLite resolves symlinks before that check,
 * so only the real path counts, which is what `realTarget` gives. Off Windows only: its VFS
 * has other limits, not measured here.
 */
export const MAX_BACKUP_ROOT_BYTES = 482;

/** Refuses a backup root too long for SQLite to open the state inside it (see above). */
function checkStateFits(backupRoot: string): void {
  if (Deno.build.os === "windows") return;
  const bytes = new TextEncoder().encode(backupRoot).length;
  if (bytes <= MAX_BACKUP_ROOT_BYTES) return;
  invalid(
    `'backup_root' ${quote(backupRoot)} is too long: its path is ${bytes} bytes, and SQLite` +
      ` can open the backup state inside it only within ${MAX_BACKUP_ROOT_BYTES} bytes (its` +
      ` file names end at 512 bytes, and '/.backup-tool/state.db-journal' takes 30):` +
      ` choose a folder with a shorter path, or move this backup to one (a symlink does not` +
      ` help, SQLite follows it to the long path)`,
  );
}

type Settings = Omit<Config, "file" | "sources" | "backupRoot" | "logDir">;

function readSettings(top: Section, base: string, opts: LoadOptions): Settings {
  const retention = top.section("retention", [
    "max_versions_per_file",
    ...KEPT_PERIOD_KEYS,
    "keep_deleted_days",
  ]);
  const watch = top.section("watch", ["debounce_ms", "rescan_interval"]);
  const safety = top.section("safety", ["max_delete_percent"]);
  const rescanSeconds = readRescanInterval(watch);
  return {
    hashAlgorithm: readAlgorithm(top),
    maxVersionsPerFile: retention.integer(
      "max_versions_per_file",
      { min: 1 },
      DEFAULTS["retention.max_versions_per_file"],
    ),
    keptPeriods: readKeptPeriods(retention, DEFAULTS),
    keepDeletedDays: retention.integer(
      "keep_deleted_days",
      { min: 0 },
      DEFAULTS["retention.keep_deleted_days"],
    ),
    ...readPatterns(top, base, opts.excludeFromMayBeUnreadable, opts.read),
    excludeCaches: top.boolean("exclude_caches", DEFAULTS.exclude_caches),
    excludeIfPresent: readExcludeIfPresent(top),
    oneFileSystem: top.boolean("one_file_system", DEFAULTS.one_file_system),
    excludeLargerThan: readExcludeLargerThan(top),
    watch: {
      debounceMs: watch.integer(
        "debounce_ms",
        { min: 0, max: MAX_DELAY_MS },
        DEFAULTS["watch.debounce_ms"],
      ),
      rescanIntervalMs: Math.round(rescanSeconds * 1000),
    },
    maxDeletePercent: safety.number(
      "max_delete_percent",
      { min: 0, max: 100 },
      DEFAULTS["safety.max_delete_percent"],
    ),
    logRetention: top.integer("log_retention", { min: 1 }, DEFAULTS.log_retention),
    logUnchanged: top.boolean("log_unchanged", DEFAULTS.log_unchanged),
    rehash: top.boolean("rehash", DEFAULTS.rehash),
    shareBlocks: top.boolean("share_blocks", DEFAULTS.share_blocks),
  };
}

/** The shortest time between a watch's periodic rescans, in seconds (0 turns them off). */
const MIN_RESCAN_SECONDS = 1;

/**
 * `watch.rescan_interval` in seconds: 0 (none) or from MIN_RESCAN_SECONDS on. Less would have
 * a watch do nothing but rescan, one full pass right after the other (0.001: 600 a second).
 */
function readRescanInterval(watch: Section): number {
  const max = Math.floor(MAX_DELAY_MS / 1000);
  const seconds = watch.number(
    "rescan_interval",
    { min: 0, max },
    DEFAULTS["watch.rescan_interval"],
  );
  if (seconds === 0 || seconds >= MIN_RESCAN_SECONDS) return seconds;
  invalid(
    `'watch.rescan_interval' must be 0 (no periodic rescans) or a number of seconds from` +
      ` ${MIN_RESCAN_SECONDS} to ${max}, got ${show(seconds)}: a shorter interval would keep` +
      " the watch rescanning everything without a pause",
  );
}

/** `hash_algorithm`, accepted in any letter case, returned as named in HASH_ALGORITHMS. */
function readAlgorithm(top: Section): string {
  const given = top.string("hash_algorithm", DEFAULTS.hash_algorithm);
  const lower = given.toLowerCase();
  const name = Object.hasOwn(HASH_ALIASES, lower) ? HASH_ALIASES[lower] : lower;
  if (HASH_ALGORITHMS.includes(name)) return name;
  invalid(
    `unknown 'hash_algorithm' ${quote(given)}${didYouMean(given, HASH_ALGORITHMS)}:` +
      ` use one of ${HASH_ALGORITHMS.join(", ")}`,
  );
}

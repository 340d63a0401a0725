/**
 * The backup root's layout, as pure functions over `/`-separated storage paths.
 *
 *   <root>/<rel>                      latest copy (single-source root layout)
 *   <root>/_sources/<name>/<rel>      latest copy of a source added to a root in use
 *   <root>/versions/<mirror>/vN.bak   content number N of a path, once replaced
 *   <root>/_duplicates/<mirror>       a path whose content equals another path's
 *   <root>/_deleted/<mirror>          the last content of a path deleted from its source
 *   <root>/.backup-tool/              state database, lock, temporary files
 *
 * `<mirror>` is the path's latest location. A source entry whose top-level name is one of
 * the reserved names (any letter case, followed by any number of `~`) is stored with one
 * more `~`: `versions` → `versions~`, `versions~` → `versions~~`. The mapping is injective,
 * so a source can never mix with the backup's own folders.
 *
 * When a preferred storage path is taken, `allocatePath` picks a free `<name>.~K` (K = 2,
 * 3, …; the first free one unless names below it were freed) at the component that
 * collides, so nothing is overwritten.
 */

import { join } from "node:path";
import type { Source } from "../config/config.ts";

export const STATE_DIR = ".backup-tool";
/** Inside STATE_DIR: copies staged before they are flushed and linked into place. */
export const TMP_DIR = "tmp";
/** Inside STATE_DIR: the state (SQLite), with its journals beside it. */
export const STATE_DB = "state.db";
/** Inside STATE_DIR: the lock file (lock.ts). */
export const LOCK_FILE = "lock";
/** Inside STATE_DIR: room kept for the state on a full disk (reserve.ts). */
export const RESERVE_FILE = "reserve";
/** Inside STATE_DIR: damaged copies `verify --repair` moved aside (repair.ts). */
export const DAMAGED_DIR = "damaged";
/**
 * What the tool keeps inside STATE_DIR, each with the kind of entry it must be: checked
 * before a writer touches them (state_folder.ts), narrowed where others may write them
 * (own_modes.ts).
 */
export const STATE_ENTRIES: Readonly<Record<string, "folder" | "file">> = {
  [TMP_DIR]: "folder",
  [DAMAGED_DIR]: "folder",
  [LOCK_FILE]: "file",
  [RESERVE_FILE]: "file",
  [STATE_DB]: "file",
  [`${STATE_DB}-journal`]: "file",
  [`${STATE_DB}-wal`]: "file",
  [`${STATE_DB}-shm`]: "file",
};
/** `restore` writes each file as `<prefix><pid>-<n>.tmp` beside its destination first. */
export const RESTORE_TMP_PREFIX = ".backup-tool-restore-";
const RESTORE_TMP = /^\.backup-tool-restore-\d+-\d+\.tmp$/;

/**
 * The key under which a disk that ignores letter case may take two paths for one. It folds
 * more than any one disk does (APFS and exFAT ignore Unicode normalization too, exFAT takes
 * σ and ς for one letter, NTFS does neither): a name folded in vain only gets a `.~K` name
 * where its own would have done, while one folded too little failed to be placed.
 */
export function foldName(path: string): string {
  return path.toUpperCase().toLowerCase().normalize("NFC");
}

/** Whether a file name is one of restore's temporary files (one left by a killed restore). */
export function isRestoreTemp(name: string): boolean {
  return name.startsWith(RESTORE_TMP_PREFIX) && RESTORE_TMP.test(name);
}
export const VERSIONS_DIR = "versions";
export const DUPLICATES_DIR = "_duplicates";
export const DELETED_DIR = "_deleted";
export const SOURCES_DIR = "_sources";

const RESERVED = /^(versions|_duplicates|_deleted|_sources|\.backup-tool)~*$/i;

/** Escapes a top-level name that would collide with the backup's own folders. */
export function escapeTopName(name: string): string {
  return RESERVED.test(name) ? `${name}~` : name;
}

/** Reverses `escapeTopName`. */
export function unescapeTopName(name: string): string {
  return RESERVED.test(name) && name.endsWith("~") ? name.slice(0, -1) : name;
}

/** The folder holding a `/`-separated path: "" for a name at the top. */
export function parentOf(path: string): string {
  const cut = path.lastIndexOf("/");
  return cut < 0 ? "" : path.slice(0, cut);
}

/** Splits a logical path `<source>/<rel>` into its source name and relative path. */
export function splitLogical(path: string): { source: string; rel: string } {
  const cut = path.indexOf("/");
  return { source: path.slice(0, cut), rel: path.slice(cut + 1) };
}

/** The file on disk behind a logical path, when its source is configured. */
export function sourceFileOf(sources: readonly Source[], path: string): string | undefined {
  const { source, rel } = splitLogical(path);
  const s = sources.find((x) => x.name === source);
  return s === undefined ? undefined : join(s.path, ...rel.split("/"));
}

/**
 * The latest location of a logical path, given each source's storage prefix
 * ("" for the root layout, `_sources/<name>` otherwise).
 */
export function mirrorPath(path: string, prefixes: ReadonlyMap<string, string>): string {
  const { source, rel } = splitLogical(path);
  const prefix = prefixes.get(source);
  if (prefix === undefined) throw new Error(`No storage prefix for source '${source}'`);
  if (prefix !== "") return `${prefix}/${rel}`;
  const cut = rel.indexOf("/");
  return cut < 0 ? escapeTopName(rel) : `${escapeTopName(rel.slice(0, cut))}${rel.slice(cut)}`;
}

export function versionPath(mirror: string, seq: number): string {
  return `${VERSIONS_DIR}/${mirror}/v${seq}.bak`;
}

export function duplicatePath(mirror: string): string {
  return `${DUPLICATES_DIR}/${mirror}`;
}

export function deletedPath(mirror: string): string {
  return `${DELETED_DIR}/${mirror}`;
}

/**
 * Each source's storage prefix: a source keeps the one it was given when first seen; a new
 * source gets the root layout ("") only when it is the first and only source of the root,
 * otherwise `_sources/<name>`. Returns the known prefixes plus those of the new sources.
 */
export function assignPrefixes(
  known: ReadonlyMap<string, string>,
  names: string[],
): Map<string, string> {
  const prefixes = new Map(known);
  const rootLayout = known.size === 0 && names.length === 1;
  for (const name of names) {
    if (!prefixes.has(name)) prefixes.set(name, rootLayout ? "" : `${SOURCES_DIR}/${name}`);
  }
  return prefixes;
}

/** What the planner may ask about storage paths already holding (or about to hold) copies. */
export interface Occupancy {
  /** A copy is stored at exactly this path. */
  isFile(path: string): boolean;
  /** Some copy is stored below this path (so it is a folder). */
  isDir(path: string): boolean;
}

/**
 * The preferred path if it is free, otherwise a free variant (see `freeSuffix`): a
 * component that is a stored file where a folder is needed, or a final name already in
 * use, gets `.~K`.
 */
export function allocatePath(preferred: string, occ: Occupancy): string {
  const parts = preferred.split("/");
  let prefix = "";
  for (let i = 0; i < parts.length; i++) {
    const last = i === parts.length - 1;
    const taken = (p: string) => occ.isFile(p) || (last && occ.isDir(p));
    const named = (k: number) => prefix + withSuffix(parts[i], `.~${k}`);
    // K starts at 2: the unsuffixed name is the first of its kind.
    const candidate = taken(prefix + parts[i])
      ? named(freeSuffix((k) => taken(named(k))))
      : prefix + parts[i];
    prefix = last ? candidate : `${candidate}/`;
  }
  return prefix;
}

/**
 * A K from 2 up whose name is free, in about 2 log K looks instead of K: K doubles while
 * taken, then a binary search between the last taken and the first free K. Where every
 * name below is taken (what the tool itself makes: `.~2`, `.~3`, … in turn), that is the
 * first free one, as a look at each would find; where names were freed in between (a copy
 * removed by hand), some free one. A path deleted 2,000 times before took a look of the
 * state for each of its `_deleted/` names (2,000 files: 2.9 s a run instead of 0.3 s).
 */
function freeSuffix(taken: (k: number) => boolean): number {
  let lo = 1; // the unsuffixed name, taken
  let hi = 2;
  while (taken(hi)) [lo, hi] = [hi, 2 * hi - 1]; // 2, 3, 5, 9, 17, …
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (taken(mid)) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Most filesystems limit one name to 255 bytes. */
const NAME_MAX_BYTES = 255;
const utf8 = new TextEncoder();

/** `name + suffix`, dropping whole characters from the name's end until it fits. */
export function withSuffix(name: string, suffix: string): string {
  const room = NAME_MAX_BYTES - utf8.encode(suffix).length;
  let chars = [...name];
  while (chars.length > 0 && utf8.encode(chars.join("")).length > room) chars = chars.slice(0, -1);
  return chars.join("") + suffix;
}

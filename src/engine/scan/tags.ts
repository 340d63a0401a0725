/**
 * Folders tagged to be left out (`exclude_caches`, `exclude_if_present`), as restic, borg
 * and tar leave them out: a folder holding a `CACHEDIR.TAG` whose content begins with the
 * signature of the Cache Directory Tagging Specification (https://bford.info/cachedir/),
 * or an entry of one of the names given (`.nobackup`), is walked for its tag entries only;
 * everything else in it is left out as an exclude pattern matching the folder's contents
 * would leave it out (the tag stays, so a restored tree stays tagged). The walk asks of a
 * folder's listed keys (no stat, no read for a folder without such a name): only a
 * `CACHEDIR.TAG` listed is looked at, a regular file or a symlink to one (as restic and
 * borg follow it; never a FIFO or device: `isCacheTag`), and its first 43 bytes read. One
 * that cannot be read, or reads otherwise, tags nothing: it is backed up as any file (a
 * symlink as a symlink), and one that cannot be read is reported then, as any is. A
 * walk that starts below a source's root (a watch's pass) looks at the folders on the way
 * there with an lstat per name (`taggedAbove`). Read-only: an interruption leaves nothing.
 */
import { basename } from "node:path";
import { childPath, foldersOnTheWay } from "../rel_path.ts";
import { openSource } from "../fs/source_file.ts";
import { lstatOrNone } from "../fs/fsops.ts";

export const CACHEDIR_TAG = "CACHEDIR.TAG";
/** What a cache folder's tag begins with (the specification's 43 bytes). */
export const CACHEDIR_SIGNATURE = "Signature: 8a477f597d28d172789f06886806bc55";

/** What tags a folder: the config's two keys. */
export interface TagRules {
  excludeCaches?: boolean;
  excludeIfPresent?: readonly string[];
}

/** Whether any folder can be tagged under these rules (none: the walk asks nothing). */
export function tagsConfigured(rules: TagRules): boolean {
  return rules.excludeCaches === true || (rules.excludeIfPresent?.length ?? 0) > 0;
}

/** Whether a name is one that may tag the folder holding it (a tag, if it is one). */
export function isTagName(rules: TagRules, name: string): boolean {
  return (rules.excludeCaches === true && name === CACHEDIR_TAG) ||
    (rules.excludeIfPresent?.includes(name) ?? false);
}

/**
 * The keys of a folder's listing that tag it (files as `name`, folders as `name/`), or
 * undefined where none does: the folder at `abs` is then left out but for these.
 */
export function tagKeys(
  rules: TagRules,
  abs: string,
  keys: readonly string[],
): string[] | undefined {
  let tags: string[] | undefined;
  for (const name of rules.excludeIfPresent ?? []) {
    for (const key of [name, `${name}/`]) {
      if (keys.includes(key)) (tags ??= []).push(key);
    }
  }
  if (
    rules.excludeCaches && keys.includes(CACHEDIR_TAG) && isCacheTag(childPath(abs, CACHEDIR_TAG))
  ) {
    if (!tags?.includes(CACHEDIR_TAG)) (tags ??= []).push(CACHEDIR_TAG);
  }
  return tags;
}

/**
 * Whether the entry at `abs` is a regular file whose content begins with the signature,
 * or a symlink to one, followed as restic and borg follow it (tar does not, without -h):
 * its target is stat'ed first, so a FIFO, device or socket is never opened; one dangling
 * or looping, to a folder: no. The file is opened at its resolved path without following
 * a symlink there or waiting on a FIFO (openSource), and its first 43 bytes read.
 */
export function isCacheTag(abs: string): boolean {
  const want = CACHEDIR_SIGNATURE.length;
  try {
    let path = abs;
    const entry = Deno.lstatSync(abs);
    if (entry.isSymlink) {
      if (!Deno.statSync(abs).isFile) return false;
      path = Deno.realPathSync(abs);
    } else if (!entry.isFile) return false;
    using file = openSource(path);
    if (file.stat().kind !== "file") return false; // swapped since its stat
    const buf = new Uint8Array(want);
    let got = 0;
    while (got < want) {
      const n = file.read(buf.subarray(got));
      if (n === 0) break;
      got += n;
    }
    return got === want && new TextDecoder().decode(buf) === CACHEDIR_SIGNATURE;
  } catch {
    return false; // backed up as any file, and reported then if it cannot be read
  }
}

/**
 * Whether the folder at `dir` holds a tag, looked at by name (for a walk starting below).
 * A name found is then looked for in the folder's listing, as the walk finds it: on a disk
 * that ignores letter case, the lstat of `.nobackup` finds a `.NOBACKUP`, which the walk
 * (comparing listed names) does not take for a tag.
 */
function taggedByLookup(rules: TagRules, dir: string): boolean {
  for (const name of rules.excludeIfPresent ?? []) {
    if (lstatOrNone(childPath(dir, name)) !== undefined && listed(dir, name)) return true;
  }
  return rules.excludeCaches === true && isCacheTag(childPath(dir, CACHEDIR_TAG)) &&
    listed(dir, CACHEDIR_TAG);
}

/** Whether the folder at `dir` lists an entry named exactly `name`. */
function listed(dir: string, name: string): boolean {
  try {
    for (const entry of Deno.readDirSync(dir)) if (entry.name === name) return true;
  } catch {
    // Cannot be listed: the walk that enters it says so.
  }
  return false;
}

/**
 * For a walk that starts at `abs` below the source root `root`: the outermost folder on
 * the way (from `root` itself to `abs`'s folder) that is tagged, unless `abs` is that
 * folder's own tag entry; undefined where none is. `cache` keeps each folder's answer for
 * the walk (a watch's scoped paths share their folders).
 */
export function taggedAbove(
  rules: TagRules,
  root: string,
  abs: string,
  cache: Map<string, boolean>,
): string | undefined {
  const dirs = foldersOnTheWay(root, abs);
  for (const [i, dir] of dirs.entries()) {
    let tagged = cache.get(dir);
    if (tagged === undefined) cache.set(dir, tagged = taggedByLookup(rules, dir));
    if (!tagged) continue;
    // The tag itself, in the folder it tags, is kept (and walked, where it is a folder).
    if (i === dirs.length - 1 && taggedBy(rules, abs)) {
      return undefined;
    }
    return dir;
  }
  return undefined;
}

/** Whether the entry at `abs` (there: the walk's start) is itself one that tags its folder. */
function taggedBy(rules: TagRules, abs: string): boolean {
  const name = basename(abs);
  if (rules.excludeIfPresent?.includes(name)) return true;
  return rules.excludeCaches === true && name === CACHEDIR_TAG && isCacheTag(abs);
}

/**
 * Folders whose contents the config leaves out, besides its patterns: a folder tagged
 * (tags.ts), and, with `one_file_system` (rsync -x, restic's, borg's and tar's
 * --one-file-system), a folder on another device than its source's root folder: a mount
 * point (a USB disk, an NFS, SMB or sshfs share; a btrfs subvolume too, which has its own
 * device number). Such a folder is kept as a folder (its metadata recorded, as rsync -x
 * makes the empty mount point), and nothing below it is walked. The walk compares each
 * child folder's device, which its lstat gives anyway, with the root's, stat'ed once per
 * source walk (scan_walk.ts); a walk that starts below a source's root (a watch's pass),
 * purge and the watch's scope look at the folders on the way with an lstat each, once per
 * pass (`leftOutAbove`). Only folders count: a file bind-mounted from elsewhere is backed
 * up. Read-only: an interruption leaves nothing.
 */
import { foldersOnTheWay } from "../rel_path.ts";
import { taggedAbove, type TagRules, tagsConfigured } from "./tags.ts";

/** What leaves a folder's contents out: the tags, and `one_file_system`. */
export interface LeftOutRules extends TagRules {
  oneFileSystem?: boolean;
}

/** Whether any folder can be left out under these rules (none: nothing is asked). */
export function leftOutConfigured(rules: LeftOutRules): boolean {
  return rules.oneFileSystem === true || tagsConfigured(rules);
}

/** What `leftOutAbove` looked at, kept for a pass (a watch's scoped paths share folders). */
export interface LeftOutCache {
  tags: Map<string, boolean>;
  /** Each folder's device by lstat (a source root's by stat); undefined: cannot be told. */
  devs: Map<string, number | undefined>;
}

export function newLeftOutCache(): LeftOutCache {
  return { tags: new Map(), devs: new Map() };
}

/**
 * Whether a folder on device `dev` lies on another one than its source's root (`rootDev`,
 * set by the walk with `one_file_system`); a device not told (0: Deno gives none) is not.
 */
export function onOtherDevice(rootDev: number | undefined, dev: number): boolean {
  return rootDev !== undefined && dev !== 0 && dev !== rootDev;
}

/** The device of the folder at `abs` (following a symlink where `follow`), if it can be told. */
function deviceOf(abs: string, follow: boolean): number | undefined {
  try {
    return (follow ? Deno.statSync(abs) : Deno.lstatSync(abs)).dev || undefined;
  } catch {
    return undefined; // gone, or cannot be looked at: the walk sees what is there
  }
}

/**
 * For a path `abs` below the source root `root`: the outermost folder on the way (below
 * `root`, down to `abs`'s folder) on another device than `root` (`rootDev`, or stat'ed);
 * undefined where none is or it cannot be told.
 */
export function otherDeviceAbove(
  root: string,
  abs: string,
  devs: Map<string, number | undefined>,
  rootDev?: number,
): string | undefined {
  const dirs = foldersOnTheWay(root, abs).slice(1); // below the root
  if (dirs.length === 0) return undefined;
  if (rootDev === undefined) {
    if (!devs.has(root)) devs.set(root, deviceOf(root, true));
    rootDev = devs.get(root);
    if (rootDev === undefined) return undefined;
  }
  for (const dir of dirs) {
    if (!devs.has(dir)) devs.set(dir, deviceOf(dir, false));
    const dev = devs.get(dir);
    if (dev !== undefined && onOtherDevice(rootDev, dev)) return dir;
  }
  return undefined;
}

/**
 * The outermost folder on the way from `root` to `abs`'s folder whose contents the rules
 * leave out (tagged, unless `abs` is its tag: tags.ts; on another device); undefined where
 * none is. `rootDev`: the root's device where the caller has it.
 */
export function leftOutAbove(
  rules: LeftOutRules,
  root: string,
  abs: string,
  cache: LeftOutCache,
  rootDev?: number,
): string | undefined {
  const other = rules.oneFileSystem === true
    ? otherDeviceAbove(root, abs, cache.devs, rootDev)
    : undefined;
  const tagged = tagsConfigured(rules) ? taggedAbove(rules, root, abs, cache.tags) : undefined;
  if (other === undefined || tagged === undefined) return other ?? tagged;
  return other.length <= tagged.length ? other : tagged; // both hold `abs`: the shorter is outer
}

/**
 * From event paths to a pass scope, pure but for the tests it is given: an event path is
 * kept when it lies inside a source, outside the backup root (so a backup root inside a
 * source never backs itself up), is not one of the tool's own run logs, and is not
 * excluded by the config's patterns, or, excluded, is a tracked file or folder that is
 * gone (archived as `run` archives it). The kept paths are grouped per source, and a path
 * below another kept path is dropped, since the pass walks a scoped folder whole and must
 * not see an entry twice. Whether a path is a folder, a file or gone is otherwise left to
 * the pass, which stats each scoped path when it runs; an excluded path the filter kept,
 * not knowing which it is, is looked at then, and left out where the pass would find
 * nothing to do (`withoutExcluded`).
 */
import { sep as nativeSep } from "node:path";
import type { Config, Source } from "../config/config.ts";
import { createMatcher } from "../core/exclude.ts";
import { isRunLogName } from "../log/log_files.ts";
import { isTagName, type TagRules, tagsConfigured } from "../engine/scan/tags.ts";
import {
  leftOutAbove,
  leftOutConfigured,
  type LeftOutRules,
  newLeftOutCache,
} from "../engine/scan/left_out.ts";
import { largeNow, overLimit } from "../engine/scan/large.ts";

/** Whether `path` is `dir` or lies below it. */
export function isWithin(path: string, dir: string, sep = nativeSep): boolean {
  if (path === dir) return true;
  return path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/** The source holding `path` (the innermost, should sources ever nest). */
export function sourceOf(path: string, sources: Source[], sep = nativeSep): Source | undefined {
  let best: Source | undefined;
  for (const s of sources) {
    if (isWithin(path, s.path, sep) && (!best || s.path.length > best.path.length)) best = s;
  }
  return best;
}

export interface PathFilter {
  (path: string): boolean;
}

/**
 * The test an event path must pass to be applied: see the module comment. `isRunLog` says
 * whether a file in log_dir named as a run log is one (the session's own, or one whose
 * first line says so): another job's file of such a name, or a user's, is backed up.
 */
export function eventFilter(
  config: Pick<Config, "sources" | "backupRoot" | "logDir" | "exclude">,
  isRunLog: (path: string) => boolean,
  /** Whether an excluded path (absolute, and logical) is a tracked one now gone. */
  goneTracked: (path: string, logical: string) => boolean = () => false,
  sep = nativeSep,
): PathFilter {
  const matcher = createMatcher(config.exclude);
  return (path) => {
    const source = sourceOf(path, config.sources, sep);
    if (!source || isWithin(path, config.backupRoot, sep)) return false;
    const cut = path.lastIndexOf(sep);
    const inLogDir = path.slice(0, cut) === config.logDir;
    if (inLogDir && isRunLogName(path.slice(cut + 1)) && isRunLog(path)) return false;
    if (path === source.path) return true;
    const rel = namesBelow(source, path, sep).join("/");
    // Whether it is a folder is not known here (it may be gone): kept if either is.
    if (!matcher.ignores(rel) || !matcher.ignores(`${rel}/`)) return true;
    return goneTracked(path, `${source.name}/${rel}`);
  };
}

/** What is at a path now: undefined where that cannot be told. */
export type KindNow = "folder" | "file" | "none" | undefined;

/**
 * What is at a path now as `withoutExcluded` is told it: its kind, or its lstat, whose kind
 * and size both serve (one lstat, not two, for a file over `exclude_larger_than`).
 */
export type Now = KindNow | Pick<Deno.FileInfo, "isFile" | "isDirectory" | "size">;

/** How the state tracks a file at a logical path: undefined where it tracks none. */
export type TrackedStatus = "current" | "excluded" | undefined;

/**
 * `paths` without those a pass would find nothing to do at: an excluded folder or file
 * (excluded as what is there now: a folder `node_modules/` excludes, a file `*` excludes
 * where a `!` pattern takes every folder back), or nothing where either kind would be
 * excluded, with no file the state tracks on the way to it (a tracked file replaced by a
 * folder) or below it, and none there but a file it already records as excluded, still
 * there as a file (which the pass keeps as it is); a path in a folder whose contents are
 * left out (tagged, or on another device with one_file_system: engine/scan/left_out.ts, looked
 * at on the disk, each folder once) is one excluded too, and so is a file over
 * `exclude_larger_than` (engine/scan/large.ts) the state records as excluded already. The event
 * filter keeps such a path where the other kind would not be excluded, not knowing which it
 * names: each `npm ci` (`node_modules/` removed and made again), or each write to an
 * excluded file with an "only these files" set, ran a pass that did nothing, and said so on
 * stdout (as each build writing into a tagged `target/` would). Asked when
 * the job's pass starts, no other pass going on: a change made after that has its own
 * event. `trackedStatus` and `isTrackedBelow`: the state's lookups, by logical path (the
 * second true where it fails: the path is kept); the second is told whether nothing is
 * there now (`gone`): a folder recorded as standing, gone, is kept too, its span to end.
 */
export function withoutExcluded(
  paths: string[],
  config: Pick<Config, "sources" | "exclude"> & LeftOutRules & {
    excludeLargerThan?: number | null;
  },
  kindNow: (path: string) => Now,
  trackedStatus: (logical: string) => TrackedStatus,
  isTrackedBelow: (logical: string, gone: boolean) => boolean,
  /** Untracked files over `exclude_larger_than` this session has said (SKIP LARGE). */
  saidLarge: ReadonlySet<string> = new Set(),
  sep = nativeSep,
): string[] {
  const leaves = leftOutConfigured(config);
  const limit = config.excludeLargerThan ?? null;
  if (config.exclude.length === 0 && !leaves && limit === null) return paths;
  const matcher = createMatcher(config.exclude);
  const cache = newLeftOutCache();
  return paths.filter((path) => {
    const source = sourceOf(path, config.sources, sep);
    if (!source || path === source.path) return true;
    const names = namesBelow(source, path, sep);
    const rel = names.join("/");
    const now = kindNow(path);
    const kind = typeof now === "object" ? (now.isDirectory ? "folder" : "file") : now;
    const excluded = kind === "folder"
      ? matcher.ignores(`${rel}/`)
      : kind === "file"
      ? matcher.ignores(rel)
      : kind === "none" && (matcher.ignores(rel) || matcher.ignores(`${rel}/`));
    // In a folder left out now (tagged, but the tag itself; on another device with
    // one_file_system): left out as what a pattern excludes.
    const leftOut = !excluded && leaves && kind !== undefined &&
      leftOutAbove(config, source.path, path, cache) !== undefined;
    if (!excluded && !leftOut) {
      // A file over exclude_larger_than the state records as excluded (said when a pass
      // marked it), or not tracked and said by a pass of this session: a save of it runs no
      // pass (a running VM's disk image ran one, and said it, at every debounce). A full
      // rescan says it again.
      if (limit === null || kind !== "file") return true;
      // Its size from the lstat that gave its kind, where the caller gave that.
      const large = typeof now === "object"
        ? overLimit(limit, now.isFile ? "file" : "other", now.size)
        : largeNow(limit, path);
      if (!large) return true;
      const logical = `${source.name}/${rel}`;
      const status = trackedStatus(logical);
      return status !== "excluded" && !(status === undefined && saidLarge.has(logical));
    }
    for (let i = 1; i < names.length; i++) {
      if (trackedStatus(`${source.name}/${names.slice(0, i).join("/")}`)) return true;
    }
    const status = trackedStatus(`${source.name}/${rel}`);
    // One recorded as excluded, still a file there: kept as it is (tracked but not followed).
    if (status !== undefined && !(status === "excluded" && kind === "file")) return true;
    return isTrackedBelow(`${source.name}/${rel}`, kind === "none");
  });
}

/**
 * `paths` with each one named as a tag (`CACHEDIR.TAG` where `exclude_caches` is set, a
 * name of `exclude_if_present`: engine/scan/tags.ts) replaced by the folder holding it: a tag
 * made or removed changes what is left out of the whole folder, which the pass scoped to
 * the folder walks again (scoped to the tag alone, the folder's files were followed until
 * the next full rescan, or left out until then once it was removed).
 */
export function withTagFolders(
  paths: string[],
  config: Pick<Config, "sources"> & TagRules,
  sep = nativeSep,
): string[] {
  if (!tagsConfigured(config)) return paths;
  return paths.map((path) => {
    const cut = path.lastIndexOf(sep);
    if (cut <= 0 || !isTagName(config, path.slice(cut + 1))) return path;
    const dir = path.slice(0, cut);
    const source = sourceOf(dir, config.sources, sep);
    return source === undefined ? path : dir;
  });
}

/**
 * Groups paths per source name, keeping only the outermost of nested paths. A path below
 * one the state tracks as a file (`isTrackedFile`, by logical path) stands for that one: a
 * file `x` replaced by a folder `x` whose `x/y` went quiet first would otherwise have
 * `x/y` placed while the old `x` still held its name (at `x.~2/y`, for good); the pass
 * scoped to `x` archives the old file first, as `run` does.
 */
export function toScope(
  paths: Iterable<string>,
  sources: Source[],
  isTrackedFile: (logical: string) => boolean = () => false,
  sep = nativeSep,
): Map<string, string[]> {
  const all = new Set([...paths].map((p) => belowTrackedFile(p, sources, isTrackedFile, sep)));
  const scope = new Map<string, string[]>();
  for (const path of [...all].sort()) {
    if (hasAncestorIn(path, all, sep)) continue;
    const source = sourceOf(path, sources, sep);
    if (!source) continue;
    const list = scope.get(source.name) ?? [];
    list.push(path);
    scope.set(source.name, list);
  }
  return scope;
}

function hasAncestorIn(path: string, set: Set<string>, sep: string): boolean {
  for (let i = path.lastIndexOf(sep); i > 0; i = path.lastIndexOf(sep, i - 1)) {
    if (set.has(path.slice(0, i))) return true;
  }
  return false;
}

/** The names on the way from a source's root to `path`, a path inside it. */
function namesBelow(source: Source, path: string, sep: string): string[] {
  return path.slice(source.path.length).split(sep).filter((p) => p !== "");
}

/** `path`, or the outermost folder above it the state tracks as a file (see `toScope`). */
function belowTrackedFile(
  path: string,
  sources: Source[],
  isTrackedFile: (logical: string) => boolean,
  sep: typeof nativeSep,
): string {
  const source = sourceOf(path, sources, sep);
  if (!source || path === source.path) return path;
  const parts = namesBelow(source, path, sep);
  for (let i = 1; i < parts.length; i++) {
    if (isTrackedFile(`${source.name}/${parts.slice(0, i).join("/")}`)) {
      const rest = parts.slice(0, i).join(sep);
      return source.path.endsWith(sep) ? source.path + rest : source.path + sep + rest;
    }
  }
  return path;
}

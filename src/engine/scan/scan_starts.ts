/**
 * Where a source's walk starts: its root, or, for a watch's pass, the scoped folders and
 * files that exist, in walk order. A scoped path is checked before it is walked: reached
 * through real folders only (not a symlink swapped in on the way), listed by its folder as
 * spelled (a disk that ignores case), not excluded, not in a folder whose contents are left
 * out (tagged, but for its tag; on another device: left_out.ts; the outermost such folder
 * is reported, `onLeftOut`), not the backup root by path or by identity, not the tool's
 * own file. The source's root is stat'ed once a walk: gone, it is reported, its files
 * kept; there, its device is where `one_file_system` keeps the walk (`Walk.rootDev`).
 * Read-only: an interruption leaves nothing behind.
 */
import { basename, dirname, relative, sep } from "node:path";
import { isInside } from "../../config/paths.ts";
import { exists } from "../fs/fsops.ts";
import { pausePoint } from "../fault.ts";
import { isRealFolderBelow, realPathOrNone } from "../fs/identity.ts";
import { compareCodePoints } from "../../core/merge.ts";
import { fromFileInfo, type Identity, type StatResult } from "../fs/folders.ts";
import { logical } from "./scan_entry.ts";
import { childPath, relPath } from "../rel_path.ts";
import { isOwnFile, skippedById, type Walk } from "./scan_walk.ts";
import { isGone } from "../errors.ts";
import { leftOutAbove, newLeftOutCache } from "./left_out.ts";

type Start = [abs: string, rel: string, folder: StatResult | undefined];

/**
 * Where to start in a source: its root, or the scoped paths that exist, in walk order
 * (`folder`: the identity of a scoped folder). A scoped path is looked at through real
 * folders only, before and after its lstat: a folder on the way swapped for a symlink
 * would otherwise lead the walk out of the source.
 */
export function startsOf(w: Walk): Start[] {
  const { source, opts } = w;
  const scoped = opts.scope?.get(source.name);
  if (opts.scope && (scoped ?? []).length === 0) return [];
  try {
    const root = Deno.statSync(source.path);
    // The device below which one_file_system keeps the walk (left_out.ts).
    if (opts.oneFileSystem && root.dev) w.rootDev = root.dev;
  } catch (e) {
    // Nothing in it is gone: the source itself is (moved away, unmounted). A full pass says
    // so too (a watch's rescan: before, it logged the root as a folder that vanished
    // meanwhile, `SKIP VANISHED`, and said nothing on stderr).
    if (isGone(e)) {
      sourceMissing(w, source.path);
      return [];
    }
  }
  if (!scoped) return [[source.path, "", undefined]];
  const starts: Start[] = [];
  const listings = new Map<string, Set<string>>();
  const rootReal = realPathOrNone(source.path);
  const leftOutCache = newLeftOutCache();
  const leftOutRules = { ...w.tags, oneFileSystem: w.rootDev !== undefined };
  for (const abs of scoped) {
    if (opts.skipDirs.some((d) => abs === d || isInside(abs, d))) continue;
    if (isOwnFile(w, dirname(abs), basename(abs))) continue;
    const rel = relPath(source.path, abs);
    const real = () =>
      abs === source.path || isRealFolderBelow(source.path, rootReal, dirname(abs));
    const before = real();
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(abs);
    } catch {
      continue; // gone: the vanished-paths step sees that
    }
    if (!listedAsSpelled(source.path, abs, listings)) continue; // gone by that spelling
    pausePoint("scoped");
    if (!before || !real()) {
      const path = logical(source, rel);
      w.unreadable.push(path);
      const why =
        "a folder on the way was renamed, removed or replaced by a symlink while being walked";
      // Gone by now (a folder on the way renamed or removed): not a failure, as a file gone
      // before its read is not (until 2026-12-04 an ERROR: a soak under folder churn).
      let vanished = false;
      try {
        vanished = !exists(abs);
      } catch { /* there, but cannot be looked at: said as it is */ }
      opts.onProblem?.({ path, message: `Cannot read '${abs}': ${why}`, vanished });
      continue;
    }
    if (info.isDirectory && rel !== "" && w.matcher.ignores(`${rel}/`)) continue;
    if ((w.tags || w.rootDev !== undefined) && rel !== "") {
      const out = leftOutAbove(leftOutRules, source.path, abs, leftOutCache, w.rootDev);
      if (out !== undefined) {
        opts.onLeftOut?.(logical(source, relPath(source.path, out)));
        continue;
      }
    }
    if (w.skipIds.size > 0 && withinSkippedById(w, abs)) continue;
    starts.push([abs, rel, info.isDirectory ? fromFileInfo(info) : undefined]);
  }
  const key = ([, rel, folder]: Start) => (folder && rel !== "" ? `${rel}/` : rel);
  return starts.sort((a, b) => compareCodePoints(key(a), key(b)));
}

/**
 * Whether each name on the way from a source's root to `abs` is listed by its folder as
 * spelled. On a disk that ignores case (macOS, Windows, exFAT), lstat still finds `a.txt`
 * once it is renamed `A.txt`, which a watch's event names. A folder is listed only where
 * the name in other letter case answers lstat too (a folder that ignores case, or holds
 * both spellings): a listing of 100,000 names takes about 350 ms, an lstat microseconds.
 * Each folder is listed once per walk. A name without letters, renamed only in Unicode
 * normal form on a disk that ignores it, still answers by its old spelling.
 */
function listedAsSpelled(root: string, abs: string, listings: Map<string, Set<string>>) {
  let dir = root;
  for (const name of relative(root, abs).split(sep)) {
    if (name === "") continue; // the root itself
    const other = name.toUpperCase() === name ? name.toLowerCase() : name.toUpperCase();
    if (other !== name && exists(childPath(dir, other))) {
      let names = listings.get(dir);
      if (names === undefined) {
        names = new Set();
        try {
          for (const e of Deno.readDirSync(dir)) names.add(e.name);
        } catch {
          return false;
        }
        listings.set(dir, names);
      }
      if (!names.has(name)) return false;
    }
    dir = childPath(dir, name);
  }
  return true;
}

/** Whether a scoped path lies in (or is) a folder never entered, by identity. */
function withinSkippedById(w: Walk, abs: string): boolean {
  for (let dir = abs; isInside(dir, w.source.path); dir = dirname(dir)) {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(dir);
    } catch {
      return false; // gone: nothing below it is walked anyway
    }
    const rel = relPath(w.source.path, dir);
    if (info.ino !== null && info.dev !== null && skippedById(w, dir, rel, info as Identity)) {
      return true;
    }
  }
  return false;
}

/**
 * A source folder missing at a watch's pass, scoped to it or full (`run` refuses to start
 * without it): moved away, or its disk unmounted. Its files are kept as they are, never
 * taken for deleted (as everything in it was, or held back by the deletion guard with
 * advice to --force), and the watch follows it again once it is back (`unlistedFolder`);
 * one gone for good is changed in the config, which the running watch reloads (reload.ts).
 */
function sourceMissing(w: Walk, abs: string): void {
  w.unreadable.push(w.source.name);
  w.opts.onProblem?.({
    path: w.source.name,
    message: `Cannot read source '${abs}': it is missing (moved away, or its disk ` +
      "unmounted): its files are kept as they are, and followed again once it is back; if " +
      "it was removed or renamed for good, change the config: the watch applies the edit as " +
      "it runs",
    unlistedFolder: abs,
  });
}

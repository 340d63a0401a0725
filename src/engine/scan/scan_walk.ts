/**
 * The walk of the folders below a start point, depth first on an explicit stack of open
 * folders: each folder is listed (getdents64 on Linux: folders.ts), its children sorted in
 * code point order with folders keyed as `name/`, and each child lstat'ed into a
 * `ScanEntry` (statx on Linux); symlinks are never followed. Entries that sort before
 * `opts.after` are passed by, the walk ends at the first one past `opts.until`. Skipped:
 * excluded paths (gitignore-style patterns, exclude.ts); the contents of a folder tagged to
 * be left out but its tags (tags.ts: a name looked up in the listing) or, with
 * `one_file_system`, of a folder on another device than the source's root (left_out.ts:
 * its lstat's device; the folder itself is kept, `onFolder`), both reported (`onLeftOut`);
 * a file over `exclude_larger_than` (large.ts, by the lstat it has anyway: `onLarge`); the
 * backup root (by path and by identity) and the tool's own files. FIFOs, sockets and
 * devices are reported, never opened. A folder that cannot be listed is reported and remembered
 * (`unreadable`), so the paths below it are not mistaken for deleted. Read-only: an
 * interruption leaves nothing behind.
 */
import { childPath } from "../rel_path.ts";
import type { Matcher } from "../../core/exclude.ts";
import type { Source } from "../../config/config.ts";
import { errorText, isGone } from "../errors.ts";
import { pausePoint } from "../fault.ts";
import { isRunLogFile } from "../../log/log_files.ts";
import { isRestoreTemp } from "../../core/layout.ts";
import { compareCodePoints } from "../../core/merge.ts";
import type { Folders, Identity, OpenFolder } from "../fs/folders.ts";
import type { ScanEntry } from "../../core/types.ts";
import { folderMeta, logical, NOT_UTF8, sortKeys, toScanEntry, undecodable } from "./scan_entry.ts";
import type { ScanOptions, Unreadable } from "./scan.ts";
import { tagKeys, type TagRules } from "./tags.ts";
import { onOtherDevice } from "./left_out.ts";
import { overLimit } from "./large.ts";

/** One source's walk: what it skips, whom it tells, what it found unlistable. */
export interface Walk {
  source: Source;
  matcher: Matcher;
  skip: Set<string>;
  skipIds: Set<string>;
  opts: ScanOptions;
  unreadable: Unreadable;
  folders: Folders;
  /** Shared by the sources' walks: set once the walk has passed `opts.until`. */
  end: { reached: boolean };
  /** What tags a folder to be left out; undefined where nothing can (tags.ts). */
  tags?: TagRules;
  /**
   * With `one_file_system`, the device of the source's root (scan_starts.ts): a folder on
   * another one is reported and left out (left_out.ts).
   */
  rootDev?: number;
}

/**
 * Whether the entry at `rel` in the walk's source (or, for a folder, everything below it,
 * which sorts in `[path/, path0)`) comes no later than `opts.after`: the walk passes it by.
 */
export function before(w: Walk, rel: string, isDir: boolean): boolean {
  const after = w.opts.after;
  if (after === undefined) return false;
  const path = logical(w.source, rel);
  return compareCodePoints(isDir ? `${path}0` : path, after) <= 0;
}

/**
 * Whether the walk that ended at `opts.after` entered the folder at `rel` too (it holds
 * entries on both sides: `path/` sorts no later than `after`), and so reported it.
 */
export function enteredBefore(w: Walk, rel: string): boolean {
  const after = w.opts.after;
  return after !== undefined && compareCodePoints(`${logical(w.source, rel)}/`, after) <= 0;
}

/** Whether a problem with the folder at `rel` was reported by the walk before (see above). */
function reportedBefore(w: Walk, rel: string): boolean {
  const before = w.opts.unlistedBefore;
  return enteredBefore(w, rel) && (before === undefined || before.has(logical(w.source, rel)));
}

/**
 * Whether the entry at `rel` (for a folder, everything below it, from `path/` on) sorts
 * after `opts.until`: there the walk ends, as everything after it does too.
 */
export function past(w: Walk, rel: string, isDir: boolean): boolean {
  const until = w.opts.until;
  if (until === undefined) return false;
  const path = logical(w.source, rel);
  return compareCodePoints(isDir ? `${path}/` : path, until) > 0;
}

/** A folder being walked: its children in order, the next one to take, its open folder. */
interface Level {
  abs: string;
  rel: string;
  children: { name: string; isDir: boolean }[];
  next: number;
  folder: OpenFolder;
}

/**
 * The entries below one folder, depth first. An explicit stack of the folders being
 * walked, not a generator per folder: each step of nested `yield*` generators runs through
 * every level, and some 2,000 levels (names of one character fit 2,047 of them in Linux's
 * PATH_MAX) overflowed the stack, failing every run of such a source (shape hunt).
 */
export function* walkDir(
  w: Walk,
  abs: string,
  rel: string,
  expect?: Identity,
): Generator<ScanEntry> {
  const levels: Level[] = [];
  // A watch's scoped folder that is itself a mount point: reported, left out, as below.
  if (rel !== "" && expect !== undefined && onOtherDevice(w.rootDev, expect.dev)) {
    w.opts.onLeftOut?.(logical(w.source, rel));
    return;
  }
  try {
    const top = enterDir(w, abs, rel, expect);
    if (top !== undefined) levels.push(top);
    while (levels.length > 0) {
      const level = levels[levels.length - 1];
      if (level.next >= level.children.length) {
        levels.pop();
        level.folder.close();
        continue;
      }
      const { name, isDir } = level.children[level.next++];
      const childRel = level.rel === "" ? name : `${level.rel}/${name}`;
      if (before(w, childRel, isDir)) continue;
      if (past(w, childRel, isDir)) {
        w.end.reached = true;
        return;
      }
      const childAbs = childPath(level.abs, name);
      if (isDir) {
        if (w.skip.has(childAbs) || w.matcher.ignores(`${childRel}/`)) continue;
        // Which folder the listing saw, so that one swapped for a symlink since is refused.
        const seen = level.folder.stat(name, childAbs);
        const reported = enteredBefore(w, childRel);
        if (seen instanceof Error || seen.kind !== "dir") {
          const path = logical(w.source, childRel);
          w.unreadable.push(path);
          if (reportedBefore(w, childRel)) continue;
          const badName = seen instanceof Error && undecodable(seen, childRel);
          const why = badName
            ? NOT_UTF8
            : seen instanceof Error
            ? errorText(seen)
            : `it is now a ${seen.kind}`;
          // Gone, or replaced by a file or symlink: the next pass sees what is there.
          const vanished = !badName &&
            (!(seen instanceof Error) || seen instanceof Deno.errors.NotFound);
          w.opts.onProblem?.({
            path,
            message: `Cannot list folder '${childAbs}': ${why}`,
            vanished,
            unlistedFolder: childAbs,
          });
          continue;
        }
        if (skippedById(w, childAbs, childRel, seen, reported)) continue;
        if (!reported && w.opts.onFolder) {
          w.opts.onFolder(logical(w.source, childRel), folderMeta(seen, childAbs));
        }
        if (onOtherDevice(w.rootDev, seen.dev)) {
          w.opts.onLeftOut?.(logical(w.source, childRel));
          continue;
        }
        const inner = enterDir(w, childAbs, childRel, seen);
        if (inner !== undefined) levels.push(inner);
      } else if (!w.matcher.ignores(childRel) && !isOwnFile(w, level.abs, name)) {
        const entry = toScanEntry(w, childAbs, childRel, level.folder.stat(name, childAbs));
        if (entry !== undefined && !leftLarge(w, entry)) yield entry;
      }
    }
  } finally {
    // Innermost first, as the walk leaves them.
    for (let i = levels.length - 1; i >= 0; i--) levels[i].folder.close();
  }
}

/** Whether a file is over `exclude_larger_than` (large.ts): reported, and not yielded. */
export function leftLarge(w: Walk, entry: ScanEntry): boolean {
  if (!overLimit(w.opts.excludeLargerThan, entry.kind, entry.size)) return false;
  w.opts.onLarge?.(entry.path, entry.size);
  return true;
}

/**
 * Lists a folder and opens it to lstat its children (with FFI, one descriptor, held while
 * the walk is inside it); undefined for one swapped between its listing and now.
 */
function enterDir(w: Walk, abs: string, rel: string, expect?: Identity): Level | undefined {
  pausePoint("folder");
  const children = listSorted(w, abs, rel, expect);
  const folder = w.folders.open(abs, expect);
  if (folder.replaced) {
    // Swapped between its listing and now: nothing below it counts as deleted either.
    const path = logical(w.source, rel);
    w.unreadable.push(path);
    if (reportedBefore(w, rel)) return undefined;
    w.opts.onProblem?.({
      path,
      message: `Cannot list folder '${abs}': ${folder.replaced.message}`,
    });
    return undefined;
  }
  return { abs, rel, children, next: 0, folder };
}

export function idKey(id: Identity): string {
  return `${id.dev}:${id.ino}`;
}

/**
 * Whether a folder is one never entered, by identity; said once per walk if so (unless the
 * walk before this one said it: `reported`).
 */
export function skippedById(
  w: Walk,
  abs: string,
  rel: string,
  id: Identity,
  reported = false,
): boolean {
  if (!w.skipIds.has(idKey(id))) return false;
  if (!reported) w.opts.onSkipped?.(abs, logical(w.source, rel));
  return true;
}

/**
 * The tool's own files in a source, never backed up: its run logs, when log_dir lies in a
 * source (the current one changes while it is read), and a temporary file a killed
 * `restore` left beside its destination (a partial file, not the user's).
 */
export function isOwnFile(w: Walk, dir: string, name: string): boolean {
  return (dir === w.opts.logDir && isRunLogFile(childPath(dir, name))) || isRestoreTemp(name);
}

/**
 * A folder's children in code point order, folders keyed as `name/` (so the walk yields
 * full paths in order). Keys are sorted by the engine's default string sort, without a
 * comparator: sorting objects with one cost about a tenth of the walk (profiled).
 */
function listSorted(
  w: Walk,
  abs: string,
  rel: string,
  expect?: Identity,
): { name: string; isDir: boolean }[] {
  let keys: string[];
  try {
    keys = w.folders.listKeys(abs, expect);
  } catch (e) {
    const path = logical(w.source, rel);
    w.unreadable.push(path);
    if (reportedBefore(w, rel)) return [];
    const badName = undecodable(e, rel);
    w.opts.onProblem?.({
      path,
      message: `Cannot list folder '${abs}': ${badName ? NOT_UTF8 : errorText(e)}`,
      vanished: !badName && isGone(e),
      unlistedFolder: abs,
    });
    return [];
  }
  let sorted = sortKeys(w, abs, rel, keys);
  // Tagged to be left out: only its tags are walked (tags.ts).
  const tags = w.tags && tagKeys(w.tags, abs, sorted);
  if (tags !== undefined) {
    w.opts.onLeftOut?.(logical(w.source, rel));
    sorted = sorted.filter((key) => tags.includes(key));
  }
  return sorted.map((key) =>
    key.endsWith("/") ? { name: key.slice(0, -1), isDir: true } : { name: key, isDir: false }
  );
}

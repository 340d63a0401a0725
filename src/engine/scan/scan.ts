/**
 * The scanner: a streaming walk of each source (or of parts of it, for a watch batch) that
 * yields entries in code point order of their logical paths — the order SQLite keeps the
 * state in — so the pass can merge both without holding either in memory. Siblings are
 * sorted with folders keyed as `name/`, which makes a depth-first walk produce exactly the
 * sorted order of full paths (`a.txt` before `a/b`).
 *
 * This file holds what callers see — the options, the problems reported, `scanEntries`
 * going through the sources in order — and what is said of a source as a whole (its start
 * folder, a source that clashes). Where a source's walk starts (its root, or a watch's
 * scoped paths) is scan_starts.ts; the walk of the folders below is scan_walk.ts. A walk
 * can start after a given path (`after`), skipping whole folders that sort before it: the
 * pass's second walk when the first one found more changes than it keeps in memory.
 * Read-only: an interruption leaves nothing behind.
 */
import { createMatcher } from "../../core/exclude.ts";
import type { Source } from "../../config/config.ts";
import { compareCodePoints } from "../../core/merge.ts";
import {
  denoStat,
  fromFileInfo,
  type Identity,
  openFolders,
  type StatResult,
} from "../fs/folders.ts";
import type { FolderMeta, ScanEntry } from "../../core/types.ts";
import { folderMeta, logical, toScanEntry } from "./scan_entry.ts";
import { startsOf } from "./scan_starts.ts";
import { tagsConfigured } from "./tags.ts";
import { before, enteredBefore, idKey, leftLarge, past, type Walk, walkDir } from "./scan_walk.ts";

export interface ScanProblem {
  path: string;
  message: string;
  /** It was gone when looked at (removed or renamed while the walk ran): not a failure. */
  vanished?: boolean;
  /** The folder that could not be listed, when that is the problem (a watch plans around it). */
  unlistedFolder?: string;
}

export interface ScanOptions {
  exclude: string[];
  /** Leave out folders tagged as caches (`exclude_caches`: tags.ts). */
  excludeCaches?: boolean;
  /** Leave out folders holding an entry of one of these names (`exclude_if_present`). */
  excludeIfPresent?: string[];
  /** Leave out folders on another device than their source's root (`one_file_system`). */
  oneFileSystem?: boolean;
  /**
   * A folder whose contents the walk leaves out (its logical path): tagged, everything below
   * it but its tags; on another device (left_out.ts), everything below it; as if excluded.
   * Said again by each walk that enters it.
   */
  onLeftOut?: (path: string) => void;
  /** Regular files over this many bytes are left out (`exclude_larger_than`: large.ts). */
  excludeLargerThan?: number;
  /** A file left out for its size: its logical path and size. Said by each walk past it. */
  onLarge?: (path: string, size: number) => void;
  /** Absolute folders never entered (the backup root). */
  skipDirs: string[];
  /**
   * Per source name, why it is not walked: it is the backup root, in it, or another source
   * by another path (see source_clash.ts; worked out once a pass, by the caller).
   */
  clashes?: Map<string, string>;
  /**
   * The same folders by identity: reached by another path (a bind mount of the backup root
   * inside a source), they are not entered either, and `onSkipped` names the path.
   */
  skipIds?: Identity[];
  onSkipped?: (abs: string, path: string) => void;
  /**
   * The log folder: the tool's own run logs in it are never backed up (the current one
   * changes while it is read); any other file in it is, should it lie inside a source.
   */
  logDir?: string;
  /** Per source name, the folders or files to scan (absolute); all of it when absent. */
  scope?: Map<string, string[]>;
  /**
   * Only entries whose logical path sorts after this one. The folders on the way to it were
   * entered by the walk that went before (up to it), which reported them: they are not
   * reported again.
   */
  after?: string;
  /**
   * Where given, a folder on the way to `after` that cannot be listed now counts as
   * reported before only if it is one of these (the folders the walks before could not
   * list): one they listed may have become unreadable since.
   */
  unlistedBefore?: ReadonlySet<string>;
  /**
   * Only entries whose logical path sorts at or before this one: the walk ends at the first
   * entry or folder past it (another walk does the rest, starting `after` it).
   */
  until?: string;
  /** A FIFO, socket or device was skipped (stat mode). */
  onSpecial?: (p: ScanProblem) => void;
  /** An entry or folder could not be read. */
  onProblem?: (p: ScanProblem) => void;
  /** A folder below a source's root was entered: its logical path and lstat. */
  onFolder?: (path: string, meta: FolderMeta) => void;
}

/** Logical folder paths that could not be listed: nothing below them counts as deleted. */
export type Unreadable = string[];

/** Every regular file and symlink, lstat'ed, in order. */
export function* scanEntries(
  sources: Source[],
  opts: ScanOptions,
  unreadable: Unreadable,
): Generator<ScanEntry> {
  const matcher = createMatcher(opts.exclude);
  const skip = new Set(opts.skipDirs);
  const skipIds = new Set(opts.skipIds?.map(idKey));
  const ordered = [...sources].sort((a, b) => compareCodePoints(`${a.name}/`, `${b.name}/`));
  const clashes = opts.clashes ?? new Map<string, string>();
  const folders = openFolders();
  const end = { reached: false };
  const tags = tagsConfigured(opts) ? opts : undefined;
  try {
    for (const source of ordered) {
      const w: Walk = { source, matcher, skip, skipIds, opts, unreadable, folders, end, tags };
      if (before(w, "", true)) continue;
      const clash = clashes.get(source.name);
      if (clash !== undefined) {
        if (past(w, "", true)) return;
        sourceClashing(w, clash);
        continue;
      }
      for (const [abs, rel, folder] of startsOf(w)) {
        if (past(w, rel, !!folder || rel === "")) end.reached = true;
        if (end.reached) return;
        if (folder || rel === "") reportFolder(w, abs, rel, folder);
        if (folder || rel === "") yield* walkDir(w, abs, rel, folder);
        else if (!matcher.ignores(rel) && !before(w, rel, false)) {
          const entry = toScanEntry(w, abs, rel, denoStat(abs));
          if (entry !== undefined && !leftLarge(w, entry)) yield entry;
        }
      }
    }
  } finally {
    folders.close();
  }
}

/**
 * Reports a folder a walk starts at (a source's root, or a watch's scoped folder, which
 * may be new) to `onFolder`, as walkDir does the folders below it.
 */
function reportFolder(w: Walk, abs: string, rel: string, seen?: StatResult): void {
  if (!w.opts.onFolder || before(w, rel, true) || enteredBefore(w, rel)) return;
  let info = seen;
  if (info === undefined) {
    try {
      info = fromFileInfo(Deno.lstatSync(abs));
    } catch {
      return; // gone, or not readable: the walk reports it
    }
  }
  if (info.kind === "dir") w.opts.onFolder(logical(w.source, rel), folderMeta(info, abs));
}

/**
 * A source that is the backup root, in it, or another source by another path (see
 * source_clash.ts): not walked, its files kept as they are (as for a missing source).
 */
function sourceClashing(w: Walk, clash: string): void {
  w.unreadable.push(w.source.name);
  if (enteredBefore(w, "")) return; // the walk before this one said so
  w.opts.onProblem?.({ path: w.source.name, message: `${clash}; its files are kept as they are` });
}

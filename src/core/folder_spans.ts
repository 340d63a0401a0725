/**
 * Which folders a pass may find gone, pure. The state keeps, for each source folder, when
 * it stood (schema 10: state/folder_spans.ts), so that a restore makes the folders of a
 * moment, empty ones too. A folder recorded as standing that the pass's walks did not see
 * is gone only where they really looked: inside the pass's scope (a watch's scoped pass
 * walks its scoped paths whole, and nothing else), and not at or below a folder they could
 * not list (unreadable, swapped, a missing or clashing source), a folder whose contents they
 * left out (tagged, on another device under `one_file_system`: left_out.ts), a folder an
 * exclude pattern names (patterns change: the folder is still there), or a disk's mount
 * point where nothing is mounted (the pass keeps those as recorded). An excluded or
 * left-out folder no longer in its source at all is gone, as an excluded file gone from its
 * source is archived (engine/vanished.ts): the caller says which are (`folderThere`). A
 * source's own folder is never found gone here: a missing one is said missing, its files
 * kept.
 *
 * Decisions only: the pass builds the rule once its walks are done, and the state applies
 * it in the transaction that records the folders seen.
 */
import { createMatcher } from "./exclude.ts";
import type { FolderMeta } from "./types.ts";

/** The folders a pass saw, to record, and (`gone`) where it may find others gone. */
export interface FolderWalk {
  seen: ReadonlyMap<string, FolderMeta>;
  gone?: GoneFolders;
}

/** What a pass's walks covered: which recorded folders they would have seen, were they there. */
export interface GoneFolders {
  /** The logical paths the pass walked (a full pass: its sources' names). */
  readonly scope: readonly string[];
  /** Whether a folder recorded as standing, which the walks did not see, is gone. */
  isGone(path: string): boolean;
}

export interface CoverRules {
  scope: readonly string[];
  /** Folders the walks could not list (logical paths): nothing at or below them is gone. */
  unreadable: Iterable<string>;
  /** Folders whose contents the walks left out (tagged, another device). */
  leftOut: ReadonlySet<string>;
  /** The config's exclude patterns. */
  exclude: readonly string[];
  /**
   * Whether a folder excluded or left out is still a folder in its source (asked only of
   * those): one that is not is gone. Absent: all are kept.
   */
  folderThere?: (path: string) => boolean;
}

export function coveredFolders(rules: CoverRules): GoneFolders {
  const scoped = new Set(rules.scope);
  const blocked = new Set(rules.unreadable);
  const matcher = createMatcher(rules.exclude);
  const isGone = (path: string): boolean => {
    const slash = path.indexOf("/");
    if (slash === -1) return false; // a source's own folder
    let inScope = false;
    let leftOut = false;
    for (let end = path.length; end > 0; end = path.lastIndexOf("/", end - 1)) {
      const ancestor = path.slice(0, end);
      if (blocked.has(ancestor)) return false;
      leftOut ||= rules.leftOut.has(ancestor);
      if (scoped.has(ancestor)) inScope = true;
    }
    if (!inScope) return false;
    // A folder below an excluded one is decided by it (the matcher asks its parents first).
    if (!leftOut && !matcher.ignores(`${path.slice(slash + 1)}/`)) return true;
    return rules.folderThere !== undefined && !rules.folderThere(path);
  };
  return { scope: rules.scope, isGone };
}

/** The same rule, but never for a path at or below one of `kept` (logical paths). */
export function keeping(rule: GoneFolders, kept: ReadonlySet<string>): GoneFolders {
  if (kept.size === 0) return rule;
  const isGone = (path: string): boolean => {
    for (let end = path.length; end > 0; end = path.lastIndexOf("/", end - 1)) {
      if (kept.has(path.slice(0, end))) return false;
    }
    return rule.isGone(path);
  };
  return { scope: rule.scope, isGone };
}

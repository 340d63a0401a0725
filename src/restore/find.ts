/**
 * What `find` lists: every path the state ever recorded (backed up now, deleted from its
 * source, excluded, purged) that a pattern names, in path order, with how many contents it
 * had, when the first and the last were backed up and what became of it. The patterns are
 * exclude patterns (core/exclude.ts), matched against the logical path as the logs write
 * it (`source/docs/a.txt`): one without a `/` names the last part, one with a `/` the path
 * from its source's name. The paths are read a page at a time from the state, opened
 * read-only without the run lock by the caller, and handed on as they are read: nothing is
 * held but a page. Reads only, so an interruption leaves nothing.
 */
import { createPathTest } from "../core/exclude.ts";
import type { RecordedPathRow } from "../state/copy_queries.ts";
import type { StateStore } from "../state/store.ts";

/** What became of a recorded path, as of the state's last commit. */
export type FoundState = "backed-up" | "excluded" | "deleted" | "purged";

/** One recorded path a pattern names (`find --json`'s element: docs/json.md). */
export interface FoundPath {
  path: string;
  /** The contents recorded for it, each a version `history PATH` lists. */
  versions: number;
  /** Of those, how many have a copy in the backup root (the others pruned, lost or purged). */
  stored: number;
  /** Of those, how many `purge` deleted (or recorded gone: a copy pruned or lost before it). */
  purged: number;
  /** When its first content was backed up (ISO). */
  firstBackedUp: string;
  /** When its latest content was backed up (ISO): a moment `restore --at` finds it at. */
  lastBackedUp: string;
  state: FoundState;
  /** When a run found it gone from its source (ISO), for one deleted. */
  deletedAt?: string;
  /**
   * When an exclude pattern took it out (ISO), for one excluded: not for one excluded by a
   * version before this time was recorded.
   */
  excludedAt?: string;
  /** When `purge` deleted its copies (ISO), for one purged. */
  purgedAt?: string;
}

/**
 * Paths a page reads: a few hundred KiB of rows at most, and each page a statement of its
 * own, short (a size chosen, not tuned: a page costs nothing beside reading its copies).
 */
const PAGE_PATHS = 1000;

/**
 * Whether a recorded path is named by `patterns` (normalized to NFC, as a keyboard types
 * them): a path written decomposed (as macOS names files) is tried composed too, so that a
 * name looks to `find` as it does on screen.
 */
export function recordedPathTest(patterns: readonly string[]): (path: string) => boolean {
  const test = createPathTest(patterns.map((p) => p.normalize("NFC")));
  // deno-lint-ignore no-control-regex
  const ascii = /^[\x00-\x7f]*$/;
  return (path) => test(path) || (!ascii.test(path) && test(path.normalize("NFC")));
}

/** Every recorded path `named` tells of, in path order, read a page at a time. */
export function* foundPaths(
  store: StateStore,
  named: (path: string) => boolean,
): Generator<FoundPath> {
  for (let after = "";;) {
    const paths = store.recordedPaths(after, PAGE_PATHS);
    const chosen = paths.filter(named);
    // Many named: the page's range summed up in one statement (see copy_queries.ts).
    if (chosen.length > PAGE_PATHS / 4) {
      const wanted = new Set(chosen);
      for (const row of store.recordedSums(paths[0], paths[paths.length - 1])) {
        if (wanted.has(row[0])) yield foundPath(row);
      }
    } else {
      for (const path of chosen) {
        const [row] = store.recordedSums(path);
        if (row !== undefined) yield foundPath(row);
      }
    }
    if (paths.length < PAGE_PATHS) return;
    after = paths[paths.length - 1];
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

function foundPath(
  [path, versions, stored, purged, firstFrom, lastFrom, lastTo, lastPruned, status, excludedAt]:
    RecordedPathRow,
): FoundPath {
  const found = {
    path,
    versions,
    stored,
    purged,
    firstBackedUp: iso(firstFrom),
    lastBackedUp: iso(lastFrom),
  };
  // A tracked path is followed (or excluded since); one no longer tracked was deleted from
  // its source, or purged: every content of it then recorded purged.
  if (status === "current") return { ...found, state: "backed-up" };
  if (status === "excluded") {
    return {
      ...found,
      state: "excluded",
      ...excludedAt === null ? {} : { excludedAt: iso(excludedAt) },
    };
  }
  if (purged === versions) {
    return {
      ...found,
      state: "purged",
      ...lastPruned === null ? {} : { purgedAt: iso(lastPruned) },
    };
  }
  return { ...found, state: "deleted", ...lastTo === null ? {} : { deletedAt: iso(lastTo) } };
}

/**
 * What `diff` compares: the tree the backup records as of `--since` and as of `--until`
 * (or the latest), for the same PATHs, path by path: added, removed (deleted, or taken out
 * by an exclude pattern), modified (another content: another digest, or a symlink's other
 * target) or its kind changed (file <-> symlink). Both trees are selected as restore selects
 * them (asof.ts `selectContents`) from the same pages of the state (`copyPages`: every row
 * of a path in one page, in path order, each PATH's in turn as restore reads them), so the
 * two sides of a path are always in the same page and nothing is held but a page and the
 * excluded paths. Two listings (`ls --at`) read one after the other would not line up: a
 * content whose own copy is gone comes after the others, and one no copy holds is left out,
 * so a file pruned since would read as added. A diff compares what was recorded, restorable
 * or not. The state is opened read-only, without the run lock; nothing is written, so an
 * interruption leaves nothing. A `since` later than the clock is compared where the backup
 * recorded a time after it (runs made with the clock ahead): `checkSince` refuses it only
 * past both.
 *
 * An excluded file counts as gone from the moment an exclude pattern took it out, as the
 * state records it (schema 7 on), and as backed up before it (`ls` lists it at any moment,
 * excluded since). Where that moment was not recorded (excluded by an older version), it is
 * the latest run or watch (a purge or verify's repair is recorded among the runs but takes
 * no file out). An exclusion that ended (the file followed again, deleted or purged while
 * excluded: state/ended_exclusions.ts, schema 8 on) counts as gone over its span alike: a
 * diff across its start says the file removed (excluded), one across its end says it
 * added, one within it or across the whole of it says nothing of it. The spans at or below
 * the PATHs are read once, with the current exclusions (they are few).
 *
 * With `--include` or `--exclude`, only the paths the patterns keep are compared, and each
 * path of either tree is noted for the patterns that match none (path_filter.ts): an
 * include that matches none is a problem, an exclude that matches none a note.
 */
import type { Config } from "../config/config.ts";
import { UsageError } from "../engine/errors.ts";
import { compareCodePoints } from "../core/merge.ts";
import { oneLine } from "../log/one_line.ts";
import type { StateStore, StoredCopy } from "../state/store.ts";
import { outermost, selectContents, type Selector } from "./asof.ts";
import { asRecorded } from "./logged_path.ts";
import { openState, resolverFor } from "./open.ts";
import { whereAsked } from "./filtered.ts";
import { type PathFilter, PatternHits } from "./path_filter.ts";
import { spellingHint } from "./not_found.ts";
import { pagesOf } from "./select.ts";
import { atWarning } from "../core/clock_ahead.ts";
import { commandHint } from "../config/selection.ts";

/** What `diff` compares, as parsed from the command line. */
export interface DiffRequest {
  /** The PATHs as given (as restore reads them); none: everything. */
  paths: string[];
  since: number;
  /** Undefined: the latest state. */
  until?: number;
  /** `--include` and `--exclude`: only the paths they keep (path_filter.ts). */
  filter?: PathFilter;
  /**
   * Called first with the latest time the backup recorded: refuses (throws) a `since` later
   * than it and than the clock. A run made with the clock ahead records times past the
   * clock's now, which `history` lists, so the clock alone cannot call `since` in the future.
   */
  checkSince?: (latestRecorded: number) => void;
  /**
   * Told a moment after the last time recorded in order where the backup holds times ahead
   * of the clock, as `restore --at` and `ls --at` tell theirs (clock_ahead.ts `atWarning`).
   */
  warn?: (line: string) => void;
}

/** Each moment compared that times recorded ahead of the clock may make miss files, said. */
function warnAhead(store: StateStore, request: DiffRequest): void {
  const clock = Date.now();
  const times = { latest: store.latestRunTime(), inOrder: store.latestRunTime(clock), clock };
  const moments = [["--since", request.since], ["--until", request.until]] as const;
  for (const [option, at] of moments) {
    const ahead = at === undefined ? undefined : atWarning(at, times, commandHint, option);
    if (ahead !== undefined) request.warn?.(ahead);
  }
}

/** One side of a change: the content a path had at that moment. */
export interface DiffSide {
  version: number;
  kind: "file" | "symlink";
  size: number;
  linkTarget?: string;
}

/** A path that differs between the two moments. */
export interface Change {
  /** The logical path, the source's name in front, as the logs write it. */
  path: string;
  change: "added" | "removed" | "modified" | "type-changed";
  /** Its content as of `since`; absent for one added. */
  before?: DiffSide;
  /** Its content as of `until`; absent for one removed. */
  after?: DiffSide;
  /** Removed because an exclude pattern took it out (its last content is still kept). */
  excluded?: true;
}

/**
 * The changes between the two moments, handed to `show` as they are read (the state is
 * open while it reads them), in path order, each PATH's in turn; with `--include` or
 * `--exclude`, only those of the paths they keep, and, once the changes are read, what to
 * say of the patterns (`said`: an include that matched no path of either tree, or patterns
 * that together keep none, among `problems`; an exclude that matched none among `notes`;
 * a line each). Throws a UsageError for a PATH never recorded, before any change.
 */
export function diffRequest(
  config: Config,
  request: DiffRequest,
  show: (changes: Iterable<Change>, said: () => { problems: string[]; notes: string[] }) => void,
): void {
  const store = openState(config);
  try {
    request.checkSince?.(store.latestRunTime());
    warnAhead(store, request);
    const resolver = resolverFor(config, store);
    resolver.restores = false;
    const targets = request.paths.map((given) => {
      const t = asRecorded(resolver, given);
      if (t !== "" && !store.isRecorded(t) && !store.isRecordedBelow(t)) {
        throw new UsageError(
          `Cannot compare '${oneLine(given)}': it is not in the backup${
            spellingHint(store, t)
          }: give a path the backup holds (see 'ls')`,
        );
      }
      return t;
    });
    const whole = targets.length === 0 || targets.includes("");
    // The latest session that backed up bounds an exclusion whose moment is not recorded:
    // a purge or a repair by verify takes no file out.
    const latest = () => store.latestRunTime(undefined, ["run", "watch"]);
    const excluded = excludedPaths(store, whole ? [""] : targets, latest);
    const sideAt = (at: number | undefined): Side => ({
      sel: at === undefined ? { kind: "latest" } as const : { kind: "at", time: at } as const,
      at: at ?? Infinity,
    });
    const pages = whole ? store.copyPages() : pagesOf(store, targets);
    const { filter, since, until } = request;
    const hits = filter === undefined ? undefined : new PatternHits(filter);
    const iso = (at: number) => new Date(at).toISOString();
    const where = `${whereAsked(request.paths, undefined)} as of ${iso(since)} or ${
      until === undefined ? "the latest backup" : iso(until)
    }`;
    show(
      changesIn(pages, sideAt(since), sideAt(until), excluded, hits),
      () => hits?.said(where) ?? { problems: [], notes: [] },
    );
  } finally {
    store.close();
  }
}

interface Side {
  sel: Selector;
  /** The moment (Infinity: the latest), to which an excluded path is gone from its own. */
  at: number;
}

/**
 * Each path excluded at some moment: the spans [from, to) in which it counts as gone, and
 * whether a purge ended the span (the file left out still, its content gone since `from`).
 */
type Excluded = ReadonlyMap<string, readonly (readonly [number, number, boolean?])[]>;

/** Whether `path` counts as gone at the moment `at` (Infinity: the latest). */
function outAt(excluded: Excluded, path: string, at: number): boolean {
  const spans = excluded.get(path);
  // The current exclusion's end is Infinity: the latest (Infinity too) is inside it.
  return spans !== undefined &&
    spans.some(([from, to]) => from <= at && (at < to || to === Infinity));
}

function* changesIn(
  pages: Iterable<StoredCopy[]>,
  since: Side,
  until: Side,
  excluded: Excluded,
  /** With patterns: each path of either tree noted, and only those they keep compared. */
  hits?: PatternHits,
): Generator<Change> {
  // Removed by its exclusion only where `until` is inside it: one deleted before it was made
  // again and excluded since is removed as deleted then. One purged while excluded, taken
  // out after `since`, was removed by its exclusion too, wherever `until` is after it: the
  // purge ended its content where the exclusion began, and deleted nothing in its source.
  const purgedIn = (path: string) =>
    excluded.get(path)?.some(([from, , purged]) =>
      purged === true && since.at < from && from <= until.at
    ) === true;
  const outBy = { has: (path: string) => outAt(excluded, path, until.at) || purgedIn(path) };
  for (const page of pages) {
    const before = contentsAt(page, since, excluded);
    const after = contentsAt(page, until, excluded);
    const paths = [...new Set([...before.keys(), ...after.keys()])].sort(compareCodePoints);
    for (const path of paths) {
      if (hits !== undefined && !hits.note(path)) continue;
      const change = changeOf(path, before.get(path), after.get(path), outBy);
      if (change !== undefined) yield change;
    }
  }
}

/** Each path's content the side selects in one page (an excluded path's none, where gone). */
function contentsAt(page: StoredCopy[], side: Side, excluded: Excluded): Map<string, StoredCopy> {
  const { stored, gone } = selectContents(page, side.sel);
  const out = new Map<string, StoredCopy>();
  for (const c of [...stored, ...gone]) {
    if (!outAt(excluded, c.path, side.at)) out.set(c.path, c);
  }
  return out;
}

/** What became of one path; undefined where it holds the same content. */
export function changeOf(
  path: string,
  before: StoredCopy | undefined,
  after: StoredCopy | undefined,
  excluded: { has(path: string): boolean } = new Set(),
): Change | undefined {
  if (before === undefined && after === undefined) return undefined;
  if (before === undefined) return { path, change: "added", after: sideOf(after!) };
  if (after === undefined) {
    return {
      path,
      change: "removed",
      before: sideOf(before),
      ...excluded.has(path) ? { excluded: true as const } : {},
    };
  }
  if (before.seq === after.seq) return undefined;
  const sides = { before: sideOf(before), after: sideOf(after) };
  if (before.kind !== after.kind) return { path, change: "type-changed", ...sides };
  return sameContent(before, after) ? undefined : { path, change: "modified", ...sides };
}

/**
 * Two contents of one path hold the same: the same digest (a new content of the same bytes,
 * its modification time or mode changed, is no change here), and for a symlink the same
 * target (a purged one's is cleared: its digest then). Digests under two hash algorithms
 * cannot be compared without reading the copies: such a pair counts as modified.
 */
function sameContent(a: StoredCopy, b: StoredCopy): boolean {
  if (a.kind === "symlink" && a.linkTarget !== null && b.linkTarget !== null) {
    return a.linkTarget === b.linkTarget;
  }
  return a.algo === b.algo && a.hash === b.hash;
}

function sideOf(c: StoredCopy): DiffSide {
  return {
    version: c.seq,
    kind: c.kind,
    size: c.size,
    ...c.linkTarget === null ? {} : { linkTarget: c.linkTarget },
  };
}

/**
 * The paths excluded at or below the outer targets (a PATH inside another is that one's),
 * each with its spans: those that ended, and the current one from the moment it was taken
 * out (or, not recorded, the latest run's: `latest`) on.
 */
function excludedPaths(
  store: StateStore,
  targets: readonly string[],
  latest: () => number,
): Excluded {
  const outer = outermost(targets);
  const spans = new Map<string, [number, number, boolean?][]>();
  const add = (path: string, span: [number, number, boolean?]) => {
    const list = spans.get(path);
    if (list === undefined) spans.set(path, [span]);
    else list.push(span);
  };
  for (const e of outer.flatMap((t) => store.endedExclusions(t))) {
    add(e.path, [e.from, e.to, e.by === "purged"]);
  }
  const rows = outer.flatMap((t) => store.excludedAt(t));
  const unknown = rows.some((r) => r.excludedAt === null) ? latest() : 0;
  for (const r of rows) add(r.path, [r.excludedAt ?? unknown, Infinity]);
  return spans;
}

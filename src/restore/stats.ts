/**
 * What `stats` reads: how much the backup's stored copies take, and where, as the state
 * records them (never a walk of the backup root: a copy removed by hand counts until
 * `verify --forget-missing` records it lost). Each PATH is read as `ls` reads it
 * (logged_path.ts, the resolver over the state), and one never recorded is named with
 * `ls`'s reason. The state is opened read-only without the run lock (open.ts, whose
 * statements are run again on a new connection while a run switches the state's journal),
 * its figures read on one snapshot, so that a run committing meanwhile changes none
 * halfway (state/read_snapshot.ts), a page of paths at a time (stats_queries.ts), each path
 * added to the tally (stats_tally.ts) and dropped: nothing is held but the tally and the
 * top paths; the distinct contents are summed by SQLite in one more statement. Reads
 * only: nothing in the backup root is written, so an interruption leaves nothing.
 */
import type { Config } from "../config/config.ts";
import type { PathSums } from "../state/stats_queries.ts";
import type { StateStore } from "../state/store.ts";
import { asRecorded } from "./logged_path.ts";
import { openState, resolverFor, runningNow } from "./open.ts";
import type { PathResolver } from "./paths.ts";
import { outermost } from "./asof.ts";
import { leftSourceHint, spellingHint } from "./not_found.ts";
import type { Problem } from "./select.ts";
import { addPath, emptyTally, type Tally, type TopPath, TopPaths } from "./stats_tally.ts";
import { unfinishedWarning, unfinishedWork } from "./unfinished.ts";

/** Paths a page sums up: as find's pages, chosen, not tuned. */
const PAGE_PATHS = 1000;

export interface StatsRequest {
  /** The PATHs as given (as restore reads them); none: everything. */
  paths: string[];
  /** How many paths to name whose old copies take the most bytes. */
  top: number;
}

export interface Stats {
  tally: Tally;
  distinct: { contents: number; bytes: number };
  /** The copies of files among the stored (symlinks not), which hold the distinct contents. */
  fileCopies: number;
  top: TopPath[];
  /** The PATHs that match nothing recorded (kind "not-found"), as ls names them. */
  problems: Problem[];
  /** Whether anything was read: false where every PATH given matched nothing. */
  read: boolean;
}

/**
 * The figures for `request`, a `warn` line first where a run holds the backup root (or
 * left work unrecorded). Throws a UsageError or PreflightError (exit code 2) before reading.
 */
export function statsRequest(
  config: Config,
  request: StatsRequest,
  warn: (line: string) => void,
  /** How the state is opened (a test's store commits a change while it is read). */
  open: (config: Config) => StateStore = openState,
): Stats {
  const store = open(config);
  try {
    const resolver = resolverFor(config, store);
    resolver.restores = false;
    const targets = request.paths.map((given) => asRecorded(resolver, given));
    const warning = unfinishedWarning(
      unfinishedWork(store.pendingIntents()),
      "shows",
      runningNow(config),
    );
    if (warning) warn(warning);
    // One snapshot: a run committing meanwhile (no lock is taken) changes no figure halfway.
    return store.snapshot(() => {
      const { found, problems } = recorded(store, resolver, request.paths, targets);
      const whole = targets.length === 0 || targets.includes("");
      if (!whole && found.length === 0) {
        const none = {
          tally: emptyTally(),
          distinct: { contents: 0, bytes: 0 },
          fileCopies: 0,
          top: [],
        };
        return { ...none, problems, read: false };
      }
      return {
        ...figures(store, whole ? [] : outermost(found), request.top),
        problems,
        read: true,
      };
    });
  } finally {
    store.close();
  }
}

/** The targets ever recorded at or below, and a problem for each other PATH (once). */
function recorded(
  store: StateStore,
  resolver: PathResolver,
  given: readonly string[],
  targets: readonly string[],
): { found: string[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const found = targets.filter((t, i) => {
    if (t === "" || store.isRecorded(t) || store.isRecordedBelow(t)) return true;
    if (targets.indexOf(t) === i) problems.push(notFound(store, resolver, given[i], t));
    return false;
  });
  return { found, problems };
}

/** What the copies at or below `within` (none: everything) add up to. */
function figures(store: StateStore, within: readonly string[], n: number) {
  const tally = emptyTally();
  const top = new TopPaths(n);
  for (const row of sumsOf(store, within.length === 0 ? [""] : within)) {
    top.offer(addPath(tally, row));
  }
  const { copies: fileCopies, ...distinct } = store.distinctContents(within);
  return { tally, distinct, fileCopies, top: top.list() };
}

/** Each recorded path at or below `targets` ("": everything), summed up, a page at a time. */
function* sumsOf(store: StateStore, targets: readonly string[]): Generator<PathSums> {
  for (const t of targets) {
    if (t !== "") {
      const own = store.storedSumsOf(t);
      if (own !== undefined) yield own;
    }
    const before = t === "" ? undefined : `${t}0`;
    for (let after = t === "" ? "" : `${t}/`;;) {
      const page = store.storedSumsPage(after, PAGE_PATHS, before);
      yield* page;
      if (page.length < PAGE_PATHS) break;
      after = page[page.length - 1][0];
    }
  }
}

/**
 * A PATH never recorded, named as `ls` names it (not_found.ts): the path it was read as, with
 * the source the config no longer names that holds it, or its other spellings, or whose
 * copy it names where it is a place in the backup root.
 */
function notFound(
  store: StateStore,
  resolver: PathResolver,
  given: string,
  target: string,
): Problem {
  const other = resolver.otherReading(given) ?? resolver.leftReading(target);
  const left = leftSourceHint(store, other);
  const stored = left ? "" : resolver.storedCopyHintFor(given, target);
  const reason = stored
    ? `'${given}' is not a source's path${stored}`
    : `'${target}' is not in the backup${left || spellingHint(store, target, other)}`;
  return { path: given, kind: "not-found", reason };
}

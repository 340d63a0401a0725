/**
 * Which contents a restore writes: per path the content the selector names, among the
 * PATHs given (all of them: everything), and the PATHs or contents it cannot restore, with
 * why (of a PATH that matched nothing: not_found.ts). The state is read as it goes, a page of paths at a time (see
 * `StateStore.copyPages`), so a restore of a million files holds a page,
 * not the state; of the latest tree of everything, only the current contents (no earlier
 * one is made an object). Contents whose own copy is gone are found in other stored copies of the
 * same bytes in one more read of the state, once the rest is restored: by digest, and for
 * those none holds under their own hash algorithm, in one more read that hashes the copies
 * of their kind and size recorded under another one (other_algos.ts). With `--include` or
 * `--exclude`, only the files the patterns keep (path_filter.ts) are chosen, a PATH found
 * all the same where they keep none of its files; each file asked for is noted for the
 * patterns as it is read, and once all are, an include that matched none is a problem, an
 * exclude that matched none a note. Reads only.
 */
import { findElsewhere, isWithin, selectContents, type Selector } from "./asof.ts";
import { leftSourceHint, notFound } from "./not_found.ts";
import { holdersUnderOtherAlgos } from "./other_algos.ts";
import { whereAsked } from "./filtered.ts";
import { type PathFilter, PatternHits } from "./path_filter.ts";
import type { StateStore, StoredCopy } from "../state/store.ts";
import { standingFolders } from "./standing_folders.ts";

/** A PATH or content that could not be restored, and why. */
export interface Problem {
  /** The logical path (or the PATH as given, when it matched nothing). */
  path: string;
  version?: number;
  to?: string;
  kind: "not-found" | "pruned" | "lost" | "conflict" | "error" | "not-tried";
  reason: string;
  /**
   * Of a problem no file's (a PATH not found names one, counted among those not restored):
   * what matched nothing, for the summary to say beside its counts (not in --json): an
   * `--include`, the patterns together, or the whole backup (as of the moment).
   */
  unmatched?: "include" | "patterns" | "backup";
}

/** A problem as --json writes it: without what the summary alone reads (`unmatched`). */
export function jsonProblem({ unmatched: _, ...p }: Problem): Problem {
  return p;
}

export interface Selection {
  /** The contents to restore, each with a stored copy, read as they are asked for. */
  contents: Iterable<StoredCopy>;
  /** What cannot be restored: complete once `contents` has been read to its end. */
  problems: Problem[];
  /** An `--exclude` that matched nothing, a line each: known as `problems` are. */
  notes: string[];
}

/**
 * The contents at or below `targets` (logical paths; none or "" is everything), as the
 * PATHs were `given`; `at` is the `--at` time, for messages. `root` is the backup root,
 * where copies recorded under another hash algorithm are read. `others`: each PATH's other
 * reading, where it has one (`PathResolver.otherReading`, or `leftReading`), for the hint
 * at its spellings or at the source the config no longer names that holds it.
 */
export function selectForRestore(
  store: StateStore,
  root: string,
  sel: Selector,
  targets: readonly string[],
  given: readonly string[],
  at?: number,
  others: readonly (string | undefined)[] = [],
  /**
   * Whose copy a PATH names, where it names a place in the backup root that holds another
   * path's copy (`storedCopyHint`), given the PATH and its logical path.
   */
  storedHint?: (given: string, target: string) => string,
  /** For `ls`: remedies name `history PATH` where restore's name `--version`. */
  lists = false,
  /** `--include` and `--exclude`: the files kept (a PATH is found whatever it keeps). */
  filter?: PathFilter,
): Selection {
  const problems: Problem[] = [];
  const notes: string[] = [];
  // A PATH given twice is one (and named once, should it match nothing).
  const once = targets.map((t, i) => [t, given[i], others[i]] as const)
    .filter(([t], i) => targets.indexOf(t) === i);
  const contents = chosen(
    { store, root, lists, filter },
    sel,
    once.map(([t]) => t),
    once.map(([, g]) => g),
    at,
    { problems, notes },
    once.map(([, , o]) => o),
    storedHint,
  );
  return { contents, problems, notes };
}

/**
 * Where a restore reads: the state, and the backup root; `lists`: for `ls`, whose remedies
 * name no option it does not take (--version); `filter`: the files the patterns keep.
 */
interface Backup {
  store: StateStore;
  root: string;
  lists?: boolean;
  filter?: PathFilter;
}

function* chosen(
  { store, root, lists, filter }: Backup,
  sel: Selector,
  targets: readonly string[],
  given: readonly string[],
  at: number | undefined,
  { problems, notes }: Pick<Selection, "problems" | "notes">,
  others: readonly (string | undefined)[],
  storedHint?: (given: string, target: string) => string,
): Generator<StoredCopy> {
  const whole = targets.length === 0 || targets.includes("");
  const found = targets.map(() => false);
  let any = false;
  let recorded = false;
  const hits = filter === undefined ? undefined : new PatternHits(filter);
  const seen = (c: StoredCopy) => {
    if (!isWithin(c.path, targets)) return false;
    any = true;
    targets.forEach((t, i) => found[i] ||= isWithin(c.path, [t]));
    return hits === undefined || hits.note(c.path);
  };
  const gone: StoredCopy[] = [];
  // The latest tree of everything: only the current contents are read (a long history's
  // earlier ones stay in SQLite), unless an include's hint wants the others too.
  const current = whole && sel.kind === "latest" && !hits?.wantsOthers;
  for (const page of whole ? store.copyPages(undefined, current) : pagesOf(store, targets)) {
    recorded ||= page.length > 0;
    const { stored, gone: goneHere } = selectContents(page, sel);
    for (const c of stored) if (seen(c)) yield c;
    for (const c of goneHere) if (seen(c)) gone.push(c);
    // The page's other records (deleted since, backed up later), for an include's hint.
    if (hits?.wantsOthers) {
      for (const c of page) if (isWithin(c.path, targets)) hits.noteOther(c.path);
    }
  }
  // Nothing current: whether anything was ever recorded, for the message (a first page).
  if (current && !recorded) recorded = store.copyPages().next().done === false;
  // The folders that stood then are made too (standing_folders.ts): a pattern that matches
  // only such a folder (an empty one) matched something asked for.
  if (hits) { for (const path of standingFolders(store, sel, targets)) hits.note(`${path}/`); }
  // Said with the rest, once every file asked for was noted.
  const said = hits?.said(whereAsked(given, at));
  if (gone.length > 0) yield* fromElsewhere({ store, root }, gone, problems);
  const isRecorded = (t: string) =>
    t === "" ? recorded : store.isRecorded(t) || store.isRecordedBelow(t);
  // A folder that stood then with no file below it (empty, or holding only folders) is
  // found: the restore makes it (standing_folders.ts).
  const stoodThen = (t: string) =>
    t !== "" && sel.kind !== "version" &&
    store.folderStood(t, sel.kind === "at" ? sel.time : undefined);
  targets.forEach((t, i) => {
    if (found[i] || stoodThen(t)) return;
    // The same path under a source the config no longer names is the likelier meaning; a
    // path ever recorded is that one, whatever copy its spelling names in the backup root.
    const recordedHere = isRecorded(t);
    const stored = leftSourceHint(store, others[i]) || recordedHere
      ? ""
      : storedHint?.(given[i], t);
    const reason = stored
      ? `'${given[i]}' is not a source's path${stored}`
      : notFound(store, t, sel, at, recordedHere, others[i], lists);
    problems.push({ path: given[i], kind: "not-found", reason });
  });
  // A tree of folders only (every file deleted, the folders kept) is a tree the restore
  // makes, not an empty backup.
  if (targets.length === 0 && !any && standingFolders(store, sel, [], filter).next().done) {
    const reason = notFound(store, "", sel, at, recorded);
    problems.push({ path: "", kind: "not-found", reason, unmatched: "backup" });
  }
  const includes = hits?.unmatchedIncludes.length ?? 0;
  (said?.problems ?? []).forEach((reason, i) => {
    const unmatched = i < includes ? "include" : "patterns";
    problems.push({ path: "", kind: "not-found", reason, unmatched });
  });
  notes.push(...said?.notes ?? []);
}

/**
 * Contents whose own copy is gone, each with another stored copy holding its bytes: one
 * recorded with the same digest, else one under another algorithm that hashes to it. The
 * others are added to `problems`, with why.
 */
function* fromElsewhere(
  { store, root }: Backup,
  gone: StoredCopy[],
  problems: Problem[],
): Generator<StoredCopy> {
  const { copies, unavailable } = findElsewhere(gone, store.eachStoredCopy());
  yield* copies;
  if (unavailable.length === 0) return;
  const wanted = unavailable.map((u) => u.copy);
  const other = holdersUnderOtherAlgos(root, wanted, store.eachStoredCopy(), true);
  for (const u of unavailable) {
    const [at] = other(u.copy);
    if (at !== undefined) yield { ...u.copy, storedAt: at }; // checked again as it is written
    else {
      const kind = u.copy.location === "lost" ? "lost" : "pruned";
      problems.push({ path: u.copy.path, version: u.copy.seq, kind, reason: u.reason });
    }
  }
}

/**
 * The records at and below each PATH, a page at a time: a PATH's own (one path), then its
 * folder's. A PATH inside another one given is left to that one, so none is read twice.
 */
export function* pagesOf(store: StateStore, targets: readonly string[]): Generator<StoredCopy[]> {
  const outer = targets.filter((t, i) =>
    !targets.some((o, j) => (o === t ? j < i : isWithin(t, [o])))
  );
  for (const t of outer) {
    yield store.copiesOf(t);
    yield* store.copyPages(t);
  }
}

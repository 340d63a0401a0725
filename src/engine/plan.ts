/**
 * The planner: a pure decision engine from (scanned entries, their digests, the state) to
 * actions. It never touches the disk itself; it asks a `PlanView` (backed by the state
 * store and a probe of the backup root's disk, or by literals in tests) and remembers its
 * own decisions in an overlay, so a run planned in several batches decides exactly what a
 * single pass would. Entries must be fed in sorted
 * path order, deletions first, which makes plans, logs and the layout deterministic.
 * Once every entry is planned (and committed), `planPromotions` gives each content left
 * without an original (its original deleted or changed) one: its first duplicate.
 */
import { compareCodePoints } from "./merge.ts";
import {
  allocatePath,
  deletedPath,
  duplicatePath,
  foldName,
  mirrorPath,
  type Occupancy,
  versionPath,
} from "./layout.ts";
import type {
  Action,
  CopyLocation,
  Fingerprint,
  HashedEntry,
  Refresh,
  ScanEntry,
  TrackedFile,
} from "./types.ts";

/** A digest under its algorithm. */
export interface Digest {
  hash: string;
  algo: string;
}

/** The current copy of a tracked file that holds some content. */
export interface HeldCopy {
  path: string;
  storedAt: string;
  location: CopyLocation;
}

/** What the planner may ask of the state. */
export interface PlanView extends Occupancy {
  /** Tracked files (not symlinks) whose current content has this digest, in sorted order. */
  holdersOf(hash: string, algo: string): string[];
  /**
   * The current copies of the tracked files (not symlinks) holding this digest, in path
   * order: originals (location "latest") and duplicates. Absent: no promotions (tests).
   */
  copiesHolding?(hash: string, algo: string): HeldCopy[];
  /** The highest content number ever given to this path (0 if none): numbers are never reused. */
  lastSeq(path: string): number;
  /** Whether any content was ever recorded for a path below this logical folder. */
  recordedUnder(folder: string): boolean;
  /** How many copies are stored below this storage folder. */
  storedCountBelow(folder: string): number;
  /**
   * What the backup root's disk holds at a storage path (asked only where the state knows
   * nothing): a file or folder someone else put there, or, on a disk that ignores case, a
   * stored copy under another case. Absent: the disk is not looked at (plans in tests).
   */
  foreignKind?(path: string): "file" | "dir" | undefined;
  /** Whether two storage paths name one entry on disk (a disk that ignores case). */
  sameEntry?(a: string, b: string): boolean;
  /**
   * Whether the disk holds anything below a storage folder but the files `own` says are
   * the tool's (its stored copies this run moves away): what stays there once they are
   * gone. Absent: the disk is not looked at (plans in tests).
   */
  holdsOtherThan?(folder: string, own: (path: string) => boolean): boolean;
  /**
   * Whether a path the state knows nothing of is, for certain, another name of the stored
   * copy at `copy` (one inode; false where that cannot be told): what a move interrupted
   * by a failure leaves, with the copy at both names.
   */
  otherNameOf?(path: string, copy: string): boolean;
  /**
   * What the disk holds where a stored copy of this kind is recorded: the copy ("present");
   * nothing ("missing": removed by hand); or something not the tool's own ("blocked": a
   * folder, or, for a file, anything but a file, at the path; anything but a folder on the
   * way there). Absent: the disk is not looked at (plans in tests).
   */
  copyAt?(storedAt: string, kind: "file" | "symlink"): "present" | "missing" | "blocked";
  /**
   * The backup root's disk ignores case (macOS and Windows by default, exFAT): two paths
   * placed in one run that differ only in case would be one file there.
   */
  ignoresCase?: boolean;
}

export interface PlanOptions {
  algo: string;
  /** Storage prefix of each source ("" for the root layout). */
  prefixes: ReadonlyMap<string, string>;
  /** Hash every file even when its fingerprint is unchanged (`--rehash`). */
  rehash?: boolean;
}

/** A scanned entry, with its digest when it was read (fingerprint changed or untrusted). */
export interface PlanInput {
  entry: ScanEntry;
  /** The state's record of the entry's path, when it is tracked (needed once it was read). */
  tracked?: TrackedFile;
  hashed?: HashedEntry;
  /**
   * After an algorithm change: the recorded content's digest under the configured algorithm
   * (from its stored copy, or from the source where that copy is missing or damaged and the
   * source still holds the recorded content); undefined when the file changed.
   */
  storedHash?: string;
  /** The stored copy no longer holds the recorded content (found after an algorithm change). */
  storedDamaged?: boolean;
}

/** Whether an entry must be read: new, fingerprint changed, untrusted, or another algorithm. */
export function needsHash(
  entry: ScanEntry,
  t: Fingerprint | undefined,
  opts: PlanOptions,
): boolean {
  if (!t || opts.rehash || !t.trusted || t.algo !== opts.algo) return true;
  return !sameFingerprint(entry, t) || t.kind !== entry.kind || t.status !== "current";
}

/**
 * Whether a refresh leaves the stored copy as it is: the same content under the same
 * algorithm, at its place, and the same mode, mtime and owner as recorded with it (so
 * that bringing the copy's metadata up to date would change nothing). A symlink's copy is
 * always looked at (a missing link is made again).
 */
function keepsCopyAsIs(r: Refresh, t: TrackedFile): boolean {
  const e = r.entry;
  return e.kind === "file" && !r.rehashed && !r.relocatedTo && !r.damaged &&
    e.mode === t.mode && e.mtimeMs === t.mtimeMs && (e.uid ?? null) === (t.copyUid ?? null) &&
    (e.gid ?? null) === (t.copyGid ?? null);
}

function sameFingerprint(e: ScanEntry, t: Fingerprint): boolean {
  return e.size === t.size && e.mtimeMs === t.mtimeMs && e.ctimeMs === t.ctimeMs &&
    e.ino === t.ino && e.dev === t.dev && e.mode === t.mode;
}

/** Bounds the planner's memo of the view's answers (about 100 bytes per entry). */
const MEMO_LIMIT = 65536;
/**
 * Folders remembered as holding this run's copies (about 100 bytes each: 26 MB at the
 * limit). Real trees have tens of files a folder (the benchmark's million files, 100), so
 * a few million files fit; past the limit the planner asks the view about every folder,
 * as it did before it remembered them.
 */
const RUN_FOLDERS_LIMIT = 262144;
/**
 * Contents released in one pass that the planner remembers for its promotions (about 150
 * bytes each); past it, the pass looks for every content left without an original instead.
 */
const RELEASED_LIMIT = 65536;

export interface Planner {
  planDelete(t: TrackedFile): Action;
  planExclude(t: TrackedFile): Action | undefined;
  planEntry(input: PlanInput): Action;
  /**
   * Plans, once every entry is planned, the promotions of the contents this pass released
   * (their original deleted or changed) and of `orphans` (contents the state holds as
   * duplicates only): the first duplicate in path order of each content that no file holds
   * at its own path moves there. Call it once the batches are committed, so that it moves
   * only copies the state records (see Pass.run).
   */
  planPromotions(orphans: Digest[]): Action[];
  /** Whether the pass released more contents than it remembers (then sweep for orphans). */
  releasedTooMany(): boolean;
  /**
   * Forgets the decisions remembered so far. Call it only when the view already answers
   * with all of them (their batch is committed): it keeps a long run's memory flat.
   */
  forget(): void;
}

export function createPlanner(view: PlanView, opts: PlanOptions): Planner {
  const placed = new Set<string>();
  const placedDirs = new Set<string>();
  // On a disk that ignores case, the placed paths case-folded too (with how many placed
  // paths fold to each): a source on a disk that keeps case may hold `README` and `readme`.
  const placedFolded = new Map<string, number>();
  const placedDirsFolded = new Set<string>();
  const vacated = new Set<string>();
  /** Per storage folder, how many of the vacated paths lie below it. */
  const vacatedBelow = new Map<string, number>();
  /** Content of paths decided in this run (null: the path no longer holds any to point at). */
  const heldNow = new Map<string, string | null>();
  const newHolders = new Map<string, string[]>();
  /** Where this run placed each new content's copy, and whether as original or duplicate. */
  const newCopies = new Map<string, HeldCopy>();
  /** Contents a deleted or changed file stopped holding (kept across `forget`). */
  const released = new Map<string, Digest>();
  let releasedOverflow = false;
  const seqs = new Map<string, number>();

  // The view answers for the state as the run found it (the disk probe's answers are
  // memoized apart, until the next commit), and the overlay (placed, vacated)
  // takes precedence, so its answers can be memoized: folders repeat across many files.
  const known = {
    isFile: new Map<string, boolean>(),
    isDir: new Map<string, boolean>(),
    recordedUnder: new Map<string, boolean>(),
  };
  const ask = (kind: keyof typeof known, p: string) => {
    let answer = known[kind].get(p);
    if (answer === undefined) {
      if (known[kind].size >= MEMO_LIMIT) known[kind].clear();
      known[kind].set(p, answer = view[kind](p));
    }
    return answer;
  };
  // A folder with nothing stored below it answers for every path in it at once: one range
  // query per folder instead of one or two point queries per file (a first backup asked
  // 60,000 of them for 20,000 files). Such an answer stays good for the whole run with
  // the folders this run placed copies in (`runFolders`), so commits do not spoil it.
  // A folder is looked for only where its parent may be: none of a new subtree's folders
  // (`versions/<path>/` of each changed file) costs a query and an lstat (1,000 changed
  // files out of 100,000: 2,000 lookups of missing paths, 90 ms).
  const found = new Map<string, boolean>();
  const foundDir = (dir: string): boolean => {
    let answer = found.get(dir);
    if (answer === undefined) {
      answer = mayHold(dir) && (ask("isDir", dir) || diskKind(dir) === "dir");
      if (found.size >= MEMO_LIMIT) found.clear();
      found.set(dir, answer);
    }
    return answer;
  };
  // The disk, where the state knows nothing (see PlanView.foreignKind). What it shows at a
  // path that folds, case aside, to a path this run vacates moves away with that copy
  // before the batch places anything: on a disk that ignores case, renaming `Report.txt`
  // to `report.txt` must not leave the new copy at `report.txt.~2`.
  const disk = new Map<string, "file" | "dir" | undefined>();
  /** Vacated paths per case-folded path. */
  const vacatedFolded = new Map<string, Set<string>>();
  const fold = foldName;
  const ignoresCase = view.ignoresCase ?? false;
  const diskKind = (p: string) => {
    if (!view.foreignKind) return undefined;
    if (!disk.has(p)) {
      if (disk.size >= MEMO_LIMIT) disk.clear();
      disk.set(p, view.foreignKind(p));
    }
    return disk.get(p);
  };
  // What the disk shows at `p` is a vacated copy under another case (the same entry, on a
  // disk that ignores case) or, where the view cannot tell, taken to be one.
  const foreignAt = (p: string) => {
    for (const v of vacatedFolded.get(fold(p)) ?? []) {
      if (v !== p && (view.sameEntry?.(p, v) ?? true)) return undefined;
    }
    return diskKind(p);
  };
  // On a disk that ignores case, by case-folded names: a `Docs` placed holds `docs` too.
  const runFolders = new RunFolders(ignoresCase ? fold : undefined);
  // Whether a copy may be stored at `p`, or below it. One stored there now was either
  // there, in the same folder, at every moment of the run, so any answer about that folder
  // found it, or placed by this run, which `runFolders` bounds.
  const mayHold = (p: string): boolean => {
    const cut = p.lastIndexOf("/");
    if (cut < 0) return true;
    const dir = p.slice(0, cut);
    return runFolders.mayHold(dir, p.slice(cut + 1)) || foundDir(dir);
  };
  // A folder whose every stored copy was vacated in this run (its files deleted) is free,
  // as it will be once the batch is applied: deletions and what replaces them share one.
  // Something put there by hand keeps the folder all the same.
  const emptied = (p: string) => {
    const gone = vacatedBelow.get(p) ?? 0;
    return gone > 0 && view.storedCountBelow(p) <= gone &&
      !(view.holdsOtherThan?.(p, (copy) => vacated.has(copy)) ?? false);
  };
  const placedFile = (p: string) => placed.has(p) || (ignoresCase && placedFolded.has(fold(p)));
  const placedDir = (p: string) =>
    placedDirs.has(p) || (ignoresCase && placedDirsFolded.has(fold(p)));
  const occ: Occupancy = {
    // A folder this run placed copies in is no file: had one been there, the copies would
    // have been given another name.
    isFile: (p) =>
      placedFile(p) ||
      (!vacated.has(p) && !placedDir(p) && mayHold(p) &&
        (ask("isFile", p) || foreignAt(p) === "file")),
    isDir: (p) =>
      placedDir(p) ||
      (mayHold(p) && (ask("isDir", p) ? !emptied(p) : foreignAt(p) === "dir")),
  };
  // Where a copy moves (archived, deleted): a name the disk shows for that very copy is
  // its own, so the move finishes there (link finds it, unlink completes) instead of
  // leaving that name as a stray beside a `.~2`.
  const ownName = (p: string, copy: string) =>
    !placed.has(p) && !ask("isFile", p) && (view.otherNameOf?.(p, copy) ?? false);
  // Only a name at the depth of `to`, the move's own destination, can be one: a folder on
  // the way is never the copy, even when something there is another name of its file (a
  // hard link of it put there by hand, which then has to be gone around like any file).
  const ownNames = (copy: string, to: string): Occupancy => {
    const depth = to.split("/").length;
    return {
      isFile: (p) => occ.isFile(p) && !(p.split("/").length === depth && ownName(p, copy)),
      isDir: occ.isDir,
    };
  };
  const countPlaced = (p: string, by: 1 | -1) => {
    if (!ignoresCase) return;
    const key = fold(p);
    const n = (placedFolded.get(key) ?? 0) + by;
    if (n > 0) placedFolded.set(key, n);
    else placedFolded.delete(key);
  };
  const countFolded = (p: string, by: 1 | -1) => {
    const key = fold(p);
    const paths = vacatedFolded.get(key) ?? new Set<string>();
    if (by > 0) paths.add(p);
    else paths.delete(p);
    if (paths.size > 0) vacatedFolded.set(key, paths);
    else vacatedFolded.delete(key);
  };
  const countVacated = (p: string, by: number) =>
    forEachFolder(p, (dir) => vacatedBelow.set(dir, (vacatedBelow.get(dir) ?? 0) + by));
  const place = (p: string) => {
    if (!placed.has(p)) countPlaced(p, 1);
    placed.add(p);
    runFolders.add(p);
    if (vacated.delete(p)) {
      countVacated(p, -1);
      countFolded(p, -1);
    }
    forEachFolder(p, (dir) => {
      placedDirs.add(dir);
      if (ignoresCase) placedDirsFolded.add(fold(dir));
    });
  };
  // Only paths the view holds are vacated: the stored copies of tracked files.
  const vacate = (p: string) => {
    if (!vacated.has(p)) {
      countVacated(p, 1);
      countFolded(p, 1);
    }
    vacated.add(p);
    if (placed.delete(p)) countPlaced(p, -1);
  };
  const hashKey = (hash: string) => `${opts.algo}:${hash}`;
  // The state's holders of a content, in path order, as the view gave them: they change
  // only when a batch is committed (forget). Asked again for every new copy of a content
  // held N times, they made a run's duplicates cost N² (6,000 equal files: 15.7 s).
  const stateHolders = new Map<string, string[]>();
  const holdersInState = (hash: string, key: string): string[] => {
    let list = stateHolders.get(key);
    if (list === undefined) {
      list = view.holdersOf(hash, opts.algo).sort(compareCodePoints);
      if (list.length === 0) return list; // the common case, and cheap to ask: not kept
      if (stateHolders.size >= MEMO_LIMIT) stateHolders.clear();
      stateHolders.set(key, list);
    }
    return list;
  };
  // The first holder in path order, whether the state or this run recorded it: so where
  // the batches of a run are committed changes no plan. Both lists are in path order, so
  // the first of each that still holds the content is nearly always their first.
  const holderOf = (hash: string, self: string): string | undefined => {
    const key = hashKey(hash);
    const holds = (p: string) => p !== self && (!heldNow.has(p) || heldNow.get(p) === key);
    const fromState = holdersInState(hash, key).find(holds);
    const fromRun = newHolders.get(key)?.find(holds);
    if (fromState === undefined || fromRun === undefined) return fromState ?? fromRun;
    return compareCodePoints(fromRun, fromState) < 0 ? fromRun : fromState;
  };
  /** A tracked file stops holding its content: a duplicate of it may need promoting. */
  const release = (t: TrackedFile) => {
    heldNow.set(t.path, null);
    if (t.kind !== "file" || t.size === 0) return;
    if (released.size >= RELEASED_LIMIT) releasedOverflow = true;
    else released.set(`${t.algo}:${t.hash}`, { hash: t.hash, algo: t.algo });
  };
  /** Records a path's new content; only a file's bytes can be another path's original. */
  const hold = (hash: string, path: string, isOriginal: boolean, copy: HeldCopy) => {
    heldNow.set(path, isOriginal ? hashKey(hash) : null);
    if (!isOriginal) return;
    newCopies.set(path, copy);
    const list = newHolders.get(hashKey(hash)) ?? [];
    insertInOrder(list, path);
    newHolders.set(hashKey(hash), list);
  };
  const lastSeq = (path: string) => {
    const cut = path.lastIndexOf("/");
    return cut < 0 || ask("recordedUnder", path.slice(0, cut)) ? view.lastSeq(path) : 0;
  };
  const nextSeq = (path: string, t?: TrackedFile) => {
    const seq = Math.max(seqs.get(path) ?? lastSeq(path), t?.seq ?? 0) + 1;
    seqs.set(path, seq);
    return seq;
  };
  const mirror = (path: string) => mirrorPath(path, opts.prefixes);

  function planDelete(t: TrackedFile): Action {
    const path = t.path;
    // As for an archive (planEntry): something put in the copy's place is left alone.
    const blocked = view.copyAt?.(t.storedAt, t.kind) === "blocked";
    if (!blocked) vacate(t.storedAt);
    release(t);
    const deleted = deletedPath(mirror(path));
    const to = allocatePath(deleted, ownNames(t.storedAt, deleted));
    place(to);
    const action = { type: "delete", path, copyId: t.copyId, from: t.storedAt, to } as const;
    return blocked ? { ...action, blocked: true } : action;
  }

  function planExclude(t: TrackedFile): Action | undefined {
    if (t.status === "excluded") return undefined;
    return { type: "exclude", path: t.path, storedAt: t.storedAt };
  }

  function planEntry({ entry, tracked: t, hashed, storedHash, storedDamaged }: PlanInput): Action {
    const path = entry.path;
    if (!hashed) return { type: "skip", path };
    const oldHash = t && (t.algo === opts.algo ? t.hash : storedHash);
    if (t && t.kind === entry.kind && oldHash === hashed.hash) {
      const rehashed = t.algo === opts.algo ? undefined : { hash: hashed.hash, algo: opts.algo };
      const digest = { hash: hashed.hash, algo: opts.algo };
      const refresh: Refresh = { entry, storedAt: t.storedAt, rehashed, digest };
      if (storedDamaged) refresh.damaged = true;
      // Something put in the copy's place by hand is left alone: the copy goes elsewhere.
      const copy = view.copyAt?.(t.storedAt, t.kind);
      if (copy === "blocked") {
        refresh.relocatedTo = allocatePath(t.storedAt, occ);
        place(refresh.relocatedTo);
      }
      // Re-hashed under a new algorithm, it holds its content under that one from now on,
      // and so does a file excluded until now: for the files planned after it and the
      // promotions, whether or not its batch is committed by then (a plan commits none).
      if ((rehashed || t.status !== "current") && entry.kind === "file" && entry.size > 0) {
        const location = t.location === "duplicate" ? "duplicate" : "latest";
        const storedAt = refresh.relocatedTo ?? t.storedAt;
        hold(hashed.hash, path, true, { path, storedAt, location });
      }
      // A copy found missing is made again by the executor (the refresh is journaled).
      if (copy !== "missing" && keepsCopyAsIs(refresh, t)) refresh.recordOnly = true;
      return { type: "skip", path, refresh };
    }
    const content = { hash: hashed.hash, algo: opts.algo, entry, tmp: hashed.tmp };
    let archive;
    if (t) {
      // Something put in the copy's place by hand (a FIFO, a folder, a symlink where a
      // file's copy belongs) is left alone, and keeps its name: the new copy goes elsewhere.
      const blocked = view.copyAt?.(t.storedAt, t.kind) === "blocked";
      if (!blocked) vacate(t.storedAt);
      release(t);
      const version = versionPath(mirror(path), t.seq);
      const to = allocatePath(version, ownNames(t.storedAt, version));
      place(to);
      archive = { copyId: t.copyId, from: t.storedAt, to, seq: t.seq };
      if (blocked) archive = { ...archive, blocked: true as const };
      if (storedDamaged) archive = { ...archive, damaged: true as const };
    }
    const seq = nextSeq(path, t);
    // Empty files and symlinks are never duplicates, nor originals: they carry no content
    // worth pointing at (a symlink's digest is that of its target's text).
    const hasContent = entry.kind === "file" && entry.size > 0;
    const original = hasContent ? holderOf(hashed.hash, path) : undefined;
    const preferred = original ? duplicatePath(mirror(path)) : mirror(path);
    const target = allocatePath(preferred, occ);
    place(target);
    const location = original ? "duplicate" : "latest";
    hold(hashed.hash, path, hasContent, { path, storedAt: target, location });
    if (original) return { type: "duplicate", path, content, seq, target, original, archive };
    if (archive) return { type: "modified", path, content, seq, target, archive };
    return { type: "backup", path, content, seq, target };
  }

  /** The copies holding a content now: the state's, but for paths this run decided anew. */
  function holdingNow({ hash, algo }: Digest): HeldCopy[] {
    const key = `${algo}:${hash}`;
    const fromState = (view.copiesHolding?.(hash, algo) ?? []).filter((c) => !heldNow.has(c.path));
    const fromRun = (newHolders.get(key) ?? []).filter((p) => heldNow.get(p) === key)
      .map((p) => newCopies.get(p)!);
    return [...fromState, ...fromRun];
  }

  function planPromotions(orphans: Digest[]): Action[] {
    const digests = new Map(released);
    for (const d of orphans) digests.set(`${d.algo}:${d.hash}`, d);
    released.clear();
    releasedOverflow = false;
    const chosen: [HeldCopy, Digest][] = [];
    for (const digest of digests.values()) {
      const copies = holdingNow(digest);
      if (copies.some((c) => c.location === "latest")) continue;
      const first = copies.filter((c) => c.location === "duplicate").sort(byPath)[0];
      if (first) chosen.push([first, digest]);
    }
    // In path order, as every other action: the names they take do not depend on the digests.
    return chosen.sort(([a], [b]) => byPath(a, b)).map(([copy, digest]) => promote(copy, digest));
  }

  /** Moves a duplicate's copy to its own path (a free name), as the content's original. */
  function promote(copy: HeldCopy, digest: Digest): Action {
    vacate(copy.storedAt);
    const own = mirror(copy.path);
    const to = allocatePath(own, ownNames(copy.storedAt, own));
    place(to);
    if (newCopies.has(copy.path)) {
      newCopies.set(copy.path, { ...copy, storedAt: to, location: "latest" });
    }
    return { type: "promote", path: copy.path, hash: digest.hash, from: copy.storedAt, to };
  }

  /**
   * Drops the overlay once the state holds every decision so far (after a commit). The
   * view's remembered answers stay, except those the commit changed: the paths placed or
   * vacated and their folders. Kept, they let a folder's emptiness answer for its files
   * across batches. `recordedUnder` answers stay too: the content numbers a commit
   * recorded belong to paths already planned, and a pass plans each path once (the walk
   * gives each once, in order; deletions are of paths it did not see).
   */
  function forget(): void {
    for (const p of [...placed, ...vacated]) {
      known.isFile.delete(p);
      forEachFolder(p, (dir) => known.isDir.delete(dir));
    }
    for (const set of [placed, placedDirs, placedDirsFolded, vacated]) set.clear();
    for (
      const map of [
        heldNow,
        newHolders,
        stateHolders,
        newCopies,
        seqs,
        vacatedBelow,
        vacatedFolded,
        placedFolded,
        disk,
      ]
    ) {
      map.clear();
    }
  }

  return {
    planDelete,
    planExclude,
    planEntry,
    planPromotions,
    releasedTooMany: () => releasedOverflow,
    forget,
  };
}

/** Inserts `path` into `list`, kept in code point order (paths mostly come in that order). */
function insertInOrder(list: string[], path: string): void {
  if (list.length === 0 || compareCodePoints(list[list.length - 1], path) < 0) {
    list.push(path);
    return;
  }
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareCodePoints(list[mid], path) < 0) lo = mid + 1;
    else hi = mid;
  }
  if (list[lo] !== path) list.splice(lo, 0, path);
}

/**
 * For each storage folder, the greatest name at or below which the run placed a copy in
 * it, kept for the whole run. A name beyond it was not placed, nor anything below it:
 * with the walk in order, that is nearly every name the planner asks about. Past
 * RUN_FOLDERS_LIMIT folders it answers "may" for every folder: the planner then asks the
 * view, as it did before it remembered them.
 */
class RunFolders {
  readonly #greatest = new Map<string, string>();
  #full = false;

  /** `key`: how names compare (case-folded on a disk that ignores case). */
  constructor(readonly key: (name: string) => string = (name) => name) {}

  add(placed: string): void {
    if (this.#full) return;
    const path = this.key(placed);
    let from = 0;
    for (let cut = path.indexOf("/"); cut >= 0; cut = path.indexOf("/", from)) {
      const dir = path.slice(0, cut);
      from = cut + 1;
      const end = path.indexOf("/", from);
      const name = end < 0 ? path.slice(from) : path.slice(from, end);
      const greatest = this.#greatest.get(dir);
      if (greatest === undefined || name > greatest) this.#greatest.set(dir, name);
    }
    if (this.#greatest.size > RUN_FOLDERS_LIMIT) {
      this.#full = true;
      this.#greatest.clear();
    }
  }

  /** Whether the run may have placed a copy at `dir/name` or below it. */
  mayHold(dir: string, name: string): boolean {
    if (this.#full) return true;
    const greatest = this.#greatest.get(this.key(dir));
    return greatest !== undefined && this.key(name) <= greatest;
  }
}

/** Path order as everywhere else: by code point, as the walk and SQLite order paths. */
function byPath(a: { path: string }, b: { path: string }): number {
  return compareCodePoints(a.path, b.path);
}

/** Calls `fn` with each folder above a `/`-separated path, outermost first. */
function forEachFolder(path: string, fn: (folder: string) => void): void {
  for (let i = path.indexOf("/"); i >= 0; i = path.indexOf("/", i + 1)) fn(path.slice(0, i));
}

/**
 * The planner: a pure decision engine from (scanned entries, their digests, the state) to
 * actions. It never touches the disk itself; it asks a `PlanView` (backed by the state
 * store and a probe of the backup root's disk, or by literals in tests) and remembers its
 * own decisions in an overlay (which storage paths this run takes and frees: plan_names.ts;
 * which path holds each content: plan_holders.ts), so a run planned in several batches
 * decides exactly what a single pass would. Entries must be fed in sorted path order,
 * deletions first, which makes plans, logs and the layout deterministic. Once every entry
 * is planned (and committed), `planPromotions` gives each content left without an original
 * (its original deleted or changed) one: its first duplicate.
 */
import { compareCodePoints } from "./merge.ts";
import {
  allocatePath,
  deletedPath,
  duplicatePath,
  mirrorPath,
  parentOf,
  versionPath,
} from "./layout.ts";
import { ContentHolders } from "./plan_holders.ts";
import { StorageNames } from "./plan_names.ts";
import type { CopyState, Digest, HeldCopy, PlanView } from "./plan_view.ts";
import type {
  Action,
  Archive,
  Fingerprint,
  HashedEntry,
  RecordedContent,
  Refresh,
  ScanEntry,
  TrackedFile,
} from "./types.ts";

export type { Digest, HeldCopy, PlanView } from "./plan_view.ts";

export interface PlanOptions {
  algo: string;
  /** Storage prefix of each source ("" for the root layout). */
  prefixes: ReadonlyMap<string, string>;
  /** Hash every file even when its fingerprint is unchanged (`--rehash`). */
  rehash?: boolean;
  /** These files (absolute paths) likewise (see PassOptions). */
  reread?: ReadonlySet<string>;
  /**
   * Whether read files' extended attributes are known (xattrs.ts): they are then compared
   * with their copy's, as the mode is. Absent, a file's are left as recorded.
   */
  xattrs?: boolean;
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
  /**
   * What was found at the tracked file's copy's place (`storedAt`) as the file was read:
   * the planner then does not look again (`PlanView.copyAt`).
   */
  copyFound?: { storedAt: string; state: CopyState };
}

/** Whether an entry must be read: new, fingerprint changed, untrusted, or another algorithm. */
export function needsHash(
  entry: ScanEntry,
  t: Fingerprint | undefined,
  opts: PlanOptions,
): boolean {
  if (!t || opts.rehash || !t.trusted || t.algo !== opts.algo) return true;
  if (opts.reread?.has(entry.abs)) return true;
  return !sameFingerprint(entry, t) || t.kind !== entry.kind || t.status !== "current";
}

/**
 * Whether a refresh leaves the stored copy as it is: the same content under the same
 * algorithm, at its place, and the same mode, mtime, owner and (where they are read:
 * `xattrs`) extended attributes as recorded with it (so that bringing the copy's metadata
 * up to date would change nothing). A symlink's copy is always looked at (a missing link
 * is made again).
 */
function keepsCopyAsIs(r: Refresh, t: TrackedFile, xattrs: boolean): boolean {
  const e = r.entry;
  return e.kind === "file" && !r.rehashed && !r.relocatedTo && !r.damaged &&
    e.mode === t.mode && e.mtimeMs === t.mtimeMs && (e.uid ?? null) === (t.copyUid ?? null) &&
    (e.gid ?? null) === (t.copyGid ?? null) &&
    (!xattrs || (e.xattrs ?? null) === (t.copyXattrs ?? null));
}

/**
 * Whether a file found unchanged was read only because it is another file (device, inode)
 * than the record's, of the same content, mode and time: not one `--rehash`, a new
 * algorithm, an untrusted record (a change just before the last run) or a watch's event
 * had read anyway.
 */
function readAsAnotherFile(
  e: ScanEntry,
  t: TrackedFile,
  rehashed: boolean,
  opts: PlanOptions,
): boolean {
  if (e.kind !== "file" || rehashed || opts.rehash || opts.reread?.has(e.abs)) return false;
  return t.trusted && t.status === "current" && (e.ino !== t.ino || e.dev !== t.dev) &&
    e.mode === t.mode && e.mtimeMs === t.mtimeMs;
}

function sameFingerprint(e: ScanEntry, t: Fingerprint): boolean {
  return e.size === t.size && e.mtimeMs === t.mtimeMs && e.ctimeMs === t.ctimeMs &&
    e.ino === t.ino && e.dev === t.dev && e.mode === t.mode;
}

export interface Planner {
  planDelete(t: TrackedFile): Action;
  planExclude(t: TrackedFile): Action | undefined;
  planEntry(input: PlanInput): Action;
  /**
   * The storage path of `path`'s copy of this content (a duplicate's original's, to share
   * blocks with: share_extents.ts), as planned or recorded; undefined where not known.
   */
  copyOf(hash: string, path: string): string | undefined;
  /**
   * Storage paths of stored copies of this content as the state records them (current
   * ones, versions, deleted files'): for a new or changed file's copy to share blocks with.
   */
  storedCopiesOf(hash: string): string[];
  /**
   * Plans, once every entry is planned, the promotions of the contents this pass released
   * (their original deleted or changed) and of `orphans` (contents the state holds as
   * duplicates only): the first duplicate in path order of each content that no file holds
   * at its own path moves there. Call it once the batches are committed, so that it moves
   * only copies the state records (see Pass.run). `deferred`: before the walks (a killed
   * run's leftovers), a content whose duplicate's copy is not in its place is left to the
   * promotions at the end, and that duplicate handed to `deferred`, for the walk to read
   * and copy again (its fingerprint alone would have it skipped). Which copies move is
   * decided at once; each promotion is planned as it is taken, so that the batches applied
   * and committed meanwhile let the planner forget the ones before it, as the walk's entries
   * do (200,000 promotions planned at once held 100 MiB).
   */
  planPromotions(orphans: Digest[], deferred?: (copy: HeldCopy) => void): Iterable<Action>;
  /** Whether the pass released more contents than it remembers (then sweep for orphans). */
  releasedTooMany(): boolean;
  /**
   * Forgets the decisions remembered so far. Call it only when the view already answers
   * with all of them (their batch is committed): it keeps a long run's memory flat.
   */
  forget(): void;
}

export function createPlanner(view: PlanView, opts: PlanOptions): Planner {
  const names = new StorageNames(view);
  const holders = new ContentHolders(view, opts.algo);
  const { occ } = names;
  const place = (p: string) => names.place(p);
  const vacate = (p: string) => names.vacate(p);
  const seqs = new Map<string, number>();
  const lastSeq = (path: string) => {
    const parent = parentOf(path);
    return parent === "" || names.recordedUnder(parent) ? view.lastSeq(path) : 0;
  };
  const nextSeq = (path: string, t?: TrackedFile) => {
    const seq = Math.max(seqs.get(path) ?? lastSeq(path), t?.seq ?? 0) + 1;
    seqs.set(path, seq);
    return seq;
  };
  const mirror = (path: string) => mirrorPath(path, opts.prefixes);
  // Where this run promoted a tracked file's copy: a plan commits nothing, so the state
  // still gives its old place to the planning of that file's change or deletion.
  const promotedTo = new Map<string, string>();
  const current = (t: TrackedFile): TrackedFile => {
    const storedAt = promotedTo.get(t.path);
    return storedAt === undefined ? t : { ...t, storedAt, location: "latest" };
  };

  function planDelete(tracked: TrackedFile): Action {
    const t = current(tracked);
    const path = t.path;
    // As for an archive (planEntry): something put in the copy's place is left alone.
    const blocked = view.copyAt?.(t.storedAt, t.kind) === "blocked";
    if (!blocked) vacate(t.storedAt);
    holders.release(t);
    const deleted = deletedPath(mirror(path));
    const to = allocatePath(deleted, names.ownNames(t.storedAt, deleted));
    place(to);
    const action: Action = { type: "delete", path, copyId: t.copyId, from: t.storedAt, to };
    if (t.kind === "file") action.recorded = recordedContent(t);
    if (t.status === "excluded") action.endsExclusion = true;
    return blocked ? { ...action, blocked: true } : action;
  }

  function planExclude(tracked: TrackedFile): Action | undefined {
    const t = current(tracked);
    if (t.status === "excluded") return undefined;
    holders.exclude(t);
    return { type: "exclude", path: t.path, storedAt: t.storedAt };
  }

  function planEntry(input: PlanInput): Action {
    const { entry, tracked, hashed, storedHash, storedDamaged, copyFound } = input;
    const path = entry.path;
    const t = tracked && current(tracked);
    if (!hashed) return { type: "skip", path };
    const copyAt = (t: TrackedFile) =>
      copyFound?.storedAt === t.storedAt ? copyFound.state : view.copyAt?.(t.storedAt, t.kind);
    const oldHash = t && (t.algo === opts.algo ? t.hash : storedHash);
    if (t && t.kind === entry.kind && oldHash === hashed.hash) {
      return planUnchanged(entry, t, hashed.hash, copyAt(t), storedDamaged);
    }
    const content = { hash: hashed.hash, algo: opts.algo, entry, tmp: hashed.tmp };
    const archive = t && planArchive(path, t, copyAt(t) === "blocked", storedDamaged);
    const seq = nextSeq(path, t);
    // Empty files and symlinks are never duplicates, nor originals: they carry no content
    // worth pointing at (a symlink's digest is that of its target's text).
    const hasContent = entry.kind === "file" && entry.size > 0;
    const original = hasContent ? holders.holderOf(hashed.hash, path) : undefined;
    const preferred = original ? duplicatePath(mirror(path)) : mirror(path);
    const target = allocatePath(preferred, occ);
    place(target);
    const location = original ? "duplicate" : "latest";
    holders.hold(hashed.hash, path, hasContent, { path, storedAt: target, location });
    const ends = t?.status === "excluded" ? { endsExclusion: true as const } : {};
    if (original) {
      return { type: "duplicate", path, content, seq, target, original, archive, ...ends };
    }
    if (archive) return { type: "modified", path, content, seq, target, archive, ...ends };
    return { type: "backup", path, content, seq, target };
  }

  /** A file whose content is its copy's: a skip, with what its copy and record need. */
  function planUnchanged(
    entry: ScanEntry,
    t: TrackedFile,
    hash: string,
    copy: CopyState | undefined,
    storedDamaged?: boolean,
  ): Action {
    const path = entry.path;
    const rehashed = t.algo === opts.algo ? undefined : { hash, algo: opts.algo };
    const digest = { hash, algo: opts.algo };
    const refresh: Refresh = { entry, storedAt: t.storedAt, rehashed, digest };
    if (storedDamaged) refresh.damaged = true;
    if (t.status === "excluded") refresh.endsExclusion = true;
    if (readAsAnotherFile(entry, t, rehashed !== undefined, opts)) refresh.reread = true;
    // Something put in the copy's place by hand is left alone: the copy goes elsewhere.
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
      holders.hold(hash, path, true, { path, storedAt, location });
    }
    // A copy found missing is made again by the executor (the refresh is journaled).
    if (copy !== "missing" && keepsCopyAsIs(refresh, t, opts.xattrs ?? false)) {
      refresh.recordOnly = true;
      const otherFile = entry.ino !== t.ino || entry.dev !== t.dev;
      if (otherFile || (entry.nlink ?? 1) > 1) refresh.checkLinks = true;
    } else if (entry.kind === "file" && !rehashed) {
      // A copy the executor brings up to date is told from one holding other bytes.
      refresh.recorded = recordedContent(t);
    }
    return { type: "skip", path, refresh };
  }

  /**
   * Where a changed file's old copy goes: `versions/<path>/vN.bak` (a free name). Something
   * put in the copy's place by hand (`blocked`: a FIFO, a folder, a symlink where a file's
   * copy belongs) is left alone, and keeps its name: the new copy goes elsewhere.
   */
  function planArchive(
    path: string,
    t: TrackedFile,
    blocked: boolean,
    storedDamaged?: boolean,
  ): Archive {
    if (!blocked) vacate(t.storedAt);
    holders.release(t);
    const version = versionPath(mirror(path), t.seq);
    const to = allocatePath(version, names.ownNames(t.storedAt, version));
    place(to);
    let archive: Archive = { copyId: t.copyId, from: t.storedAt, to, seq: t.seq };
    if (blocked) archive = { ...archive, blocked: true as const };
    if (storedDamaged) archive = { ...archive, damaged: true as const };
    return archive;
  }

  function planPromotions(
    orphans: Digest[],
    deferred?: (copy: HeldCopy) => void,
  ): Iterable<Action> {
    const digests = holders.takeReleased();
    for (const d of orphans) digests.set(`${d.algo}:${d.hash}`, d);
    const chosen: [HeldCopy, Digest][] = [];
    for (const digest of digests.values()) {
      const copies = holders.holdingNow(digest);
      if (copies.some((c) => c.location === "latest")) continue;
      const first = copies.filter((c) => c.location === "duplicate").sort(byPath)[0];
      if (!first) continue;
      // Decided before any change to the planner's memory, so that a plan predicts alike.
      if (deferred && (view.copyAt?.(first.storedAt, "file") ?? "present") !== "present") {
        deferred(first);
        continue;
      }
      chosen.push([first, digest]);
    }
    // In path order, as every other action: the names they take do not depend on the digests.
    chosen.sort(([a], [b]) => byPath(a, b));
    return promoteEach(chosen);
  }

  function* promoteEach(chosen: [HeldCopy, Digest][]): Generator<Action> {
    for (const [copy, digest] of chosen) yield promote(copy, digest);
  }

  /** Moves a duplicate's copy to its own path (a free name), as the content's original. */
  function promote(copy: HeldCopy, digest: Digest): Action {
    vacate(copy.storedAt);
    const own = mirror(copy.path);
    const to = allocatePath(own, names.ownNames(copy.storedAt, own));
    place(to);
    holders.promoted(copy.path, to);
    promotedTo.set(copy.path, to);
    const action: Action = {
      type: "promote",
      path: copy.path,
      hash: digest.hash,
      from: copy.storedAt,
      to,
    };
    const { size, mtimeMs } = copy;
    if (size !== undefined && mtimeMs !== undefined) {
      action.recorded = { size, mtimeMs, hash: digest.hash, algo: digest.algo };
    }
    return action;
  }

  /** Drops what was decided so far, once the state holds it all (after a commit). */
  function forget(): void {
    names.forget();
    holders.forget();
    seqs.clear();
    promotedTo.clear();
  }

  return {
    planDelete,
    planExclude,
    planEntry,
    planPromotions,
    releasedTooMany: () => holders.releasedTooMany(),
    copyOf: (hash, path) => holders.copyOf(hash, path),
    storedCopiesOf: (hash) => view.storedCopiesOf?.(hash, opts.algo) ?? [],
    forget,
  };
}

/** A file's content as recorded, to tell a copy holding other bytes (copy_check.ts). */
export function recordedContent(t: RecordedContent): RecordedContent {
  return { size: t.size, mtimeMs: t.mtimeMs, hash: t.hash, algo: t.algo };
}

/** Path order as everywhere else: by code point, as the walk and SQLite order paths. */
function byPath(a: { path: string }, b: { path: string }): number {
  return compareCodePoints(a.path, b.path);
}

/**
 * Which path holds each content, for the planner: the original a new copy of that content
 * is a duplicate of (the first holder in path order, whether the state or this run
 * recorded it, so where a run's batches are committed changes no plan), and the contents
 * a deleted or changed file stopped holding, whose duplicates may need promoting. The
 * state's answers come from the `PlanView`; this run's decisions are kept in an overlay
 * until `forget` (after a commit). Memory only.
 */
import { compareCodePoints } from "./merge.ts";
import type { Digest, HeldCopy, PlanView } from "./plan_view.ts";
import type { TrackedFile } from "./types.ts";

/** Bounds the memo of the state's holders of a content (one list per content). */
const MEMO_LIMIT = 65536;
/**
 * Contents released in one pass that the planner remembers for its promotions (about 150
 * bytes each); past it, the pass looks for every content left without an original instead.
 */
const RELEASED_LIMIT = 65536;

export class ContentHolders {
  readonly #view: PlanView;
  readonly #algo: string;
  /** Content of paths decided in this run (null: the path no longer holds any to point at). */
  readonly #heldNow = new Map<string, string | null>();
  /**
   * The paths this run made originals of each content, in path order: a lone path as
   * itself, as nearly every content has one (a list of one, grown by a push, took 190 bytes:
   * a plan of 200,000 new files held 31 MiB of them, commits nothing and so forgets none).
   */
  readonly #newHolders = new Map<string, string | string[]>();
  /**
   * Where this run placed each new content's copy (`#newDuplicates`: the paths whose copy
   * is a duplicate's; the others are originals): a HeldCopy is made when asked, not kept
   * (48 bytes a file).
   */
  readonly #newCopies = new Map<string, string>();
  readonly #newDuplicates = new Set<string>();
  /**
   * The state's holders of a content, in path order, as the view gave them: they change
   * only when a batch is committed (forget). Asked again for every new copy of a content
   * held N times, they made a run's duplicates cost N² (6,000 equal files: 15.7 s).
   */
  readonly #stateHolders = new Map<string, string[]>();
  /**
   * Copies the state records as duplicates that this run promoted, at their new place: a
   * plan commits nothing, so the view still gives them as duplicates.
   */
  readonly #promotedNow = new Map<string, HeldCopy>();
  /** Contents a deleted or changed file stopped holding (kept across `forget`). */
  #released = new Map<string, Digest>();
  #releasedOverflow = false;

  constructor(view: PlanView, algo: string) {
    this.#view = view;
    this.#algo = algo;
  }

  /**
   * The first holder of a content in path order but `self`: both lists are in path order,
   * so the first of each that still holds the content is nearly always their first.
   */
  holderOf(hash: string, self: string): string | undefined {
    const key = this.#key(hash);
    const holds = (p: string) =>
      p !== self && (!this.#heldNow.has(p) || this.#heldNow.get(p) === key);
    const fromState = this.#inState(hash, key).find(holds);
    const fromRun = this.#runHolders(key).find(holds);
    if (fromState === undefined || fromRun === undefined) return fromState ?? fromRun;
    return compareCodePoints(fromRun, fromState) < 0 ? fromRun : fromState;
  }

  /**
   * Where `path`'s copy of a content is: placed by this run (or to be, in the batch being
   * filled), or as the state records it; undefined where that is not known. For a
   * duplicate's staged copy to share its blocks with (share_extents.ts): asked for large
   * duplicates only, the state's answer kept for the content's next duplicate.
   */
  copyOf(hash: string, path: string): string | undefined {
    const key = this.#key(hash);
    if (this.#heldNow.has(path)) {
      return this.#heldNow.get(path) === key ? this.#newCopies.get(path) : undefined;
    }
    const promoted = this.#promotedNow.get(path);
    if (promoted) return promoted.storedAt;
    const known = this.#stateCopy;
    if (known?.key === key && known.path === path) return known.storedAt;
    const copy = this.#view.copiesHolding?.(hash, this.#algo).find((c) => c.path === path);
    if (copy) this.#stateCopy = { key, path, storedAt: copy.storedAt };
    return copy?.storedAt;
  }

  /** The state's copy `copyOf` found last. */
  #stateCopy?: { key: string; path: string; storedAt: string };

  /** A tracked file stops holding its content: a duplicate of it may need promoting. */
  release(t: TrackedFile): void {
    this.#heldNow.set(t.path, null);
    if (t.kind !== "file" || t.size === 0) return;
    if (this.#released.size >= RELEASED_LIMIT) this.#releasedOverflow = true;
    else this.#released.set(`${t.algo}:${t.hash}`, { hash: t.hash, algo: t.algo });
  }

  /**
   * A tracked duplicate becomes excluded: its copy stays, but is no candidate to promote
   * (as the state holds it, once the exclusion is committed: `plan` commits nothing).
   */
  exclude(t: TrackedFile): void {
    if (t.location === "duplicate") this.#heldNow.set(t.path, null);
  }

  /** Records a path's new content; only a file's bytes can be another path's original. */
  hold(hash: string, path: string, isOriginal: boolean, copy: HeldCopy): void {
    const key = this.#key(hash);
    this.#heldNow.set(path, isOriginal ? key : null);
    if (!isOriginal) return;
    this.#newCopies.set(path, copy.storedAt);
    if (copy.location === "duplicate") this.#newDuplicates.add(path);
    else this.#newDuplicates.delete(path);
    const held = this.#newHolders.get(key);
    if (held === undefined || held === path) this.#newHolders.set(key, path);
    else if (typeof held === "string") this.#newHolders.set(key, inOrder(held, path));
    else insertInOrder(held, path);
  }

  /** The copies holding a content now: the state's, but for paths this run decided anew. */
  holdingNow({ hash, algo }: Digest): HeldCopy[] {
    const key = `${algo}:${hash}`;
    const fromState = (this.#view.copiesHolding?.(hash, algo) ?? [])
      .filter((c) => !this.#heldNow.has(c.path))
      .map((c) => this.#promotedNow.get(c.path) ?? c);
    const fromRun = this.#runHolders(key)
      .filter((p) => this.#heldNow.get(p) === key)
      .map((p): HeldCopy => ({
        path: p,
        storedAt: this.#newCopies.get(p)!,
        location: this.#newDuplicates.has(p) ? "duplicate" : "latest",
      }));
    return [...fromState, ...fromRun];
  }

  /** A copy was promoted to `storedAt`, its path's own (one this run placed, or the state's). */
  promoted(path: string, storedAt: string): void {
    if (this.#newCopies.has(path)) {
      this.#newCopies.set(path, storedAt);
      this.#newDuplicates.delete(path);
    } else this.#promotedNow.set(path, { path, storedAt, location: "latest" });
  }

  /** The contents released so far (for the promotions), from now on none. */
  takeReleased(): Map<string, Digest> {
    const released = this.#released;
    this.#released = new Map();
    this.#releasedOverflow = false;
    return released;
  }

  /** Whether more contents were released than are remembered (then sweep for orphans). */
  releasedTooMany(): boolean {
    return this.#releasedOverflow;
  }

  /** Drops the overlay once the state holds every decision so far (after a commit). */
  forget(): void {
    this.#heldNow.clear();
    this.#newHolders.clear();
    this.#stateHolders.clear();
    this.#newCopies.clear();
    this.#newDuplicates.clear();
    this.#promotedNow.clear();
    this.#stateCopy = undefined;
  }

  /** The paths this run made originals of a content, in path order. */
  #runHolders(key: string): readonly string[] {
    const held = this.#newHolders.get(key);
    return held === undefined ? [] : typeof held === "string" ? [held] : held;
  }

  #key(hash: string): string {
    return `${this.#algo}:${hash}`;
  }

  #inState(hash: string, key: string): string[] {
    let list = this.#stateHolders.get(key);
    if (list === undefined) {
      list = this.#view.holdersOf(hash, this.#algo).sort(compareCodePoints);
      if (list.length === 0) return list; // the common case, and cheap to ask: not kept
      if (this.#stateHolders.size >= MEMO_LIMIT) this.#stateHolders.clear();
      this.#stateHolders.set(key, list);
    }
    return list;
  }
}

/** Two paths in code point order. */
function inOrder(a: string, b: string): string[] {
  return compareCodePoints(a, b) < 0 ? [a, b] : [b, a];
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

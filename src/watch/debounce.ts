/**
 * Debounce, pure: remembers, per path, when events first and last named it since it was
 * last applied. A path is due once it has been quiet for `quietMs`, or once it has waited
 * `maxWaitMs` since its first event, so a file written to without pause is still backed up
 * now and then. A pending path that has pending paths below it (a folder being filled) is
 * due only when they are too, or at its own `maxWaitMs`: scanning the folder earlier would
 * copy a file below it half written.
 *
 * It holds no timers: the caller asks `nextDueAt` and sets one. Memory only: an
 * interruption loses the pending paths, which the full pass at the next start catches.
 */

interface Pending {
  /** Time of the first event since the path was last applied. */
  first: number;
  /** Time of the latest event. */
  last: number;
}

export class Debouncer {
  readonly #pending = new Map<string, Pending>();

  /**
   * @param quietMs how long a path must go without events before it is applied
   * @param maxWaitMs longest a path is postponed by new events (at least `quietMs`)
   * @param sep the path separator, to tell which pending paths lie below which
   */
  constructor(
    public quietMs: number,
    public maxWaitMs: number,
    readonly sep: string = "/",
  ) {
    this.retime(quietMs, maxWaitMs);
  }

  /** New times (a watch's config reloaded), for the paths pending too. */
  retime(quietMs: number, maxWaitMs: number): void {
    this.quietMs = quietMs;
    this.maxWaitMs = Math.max(maxWaitMs, quietMs);
  }

  get size(): number {
    return this.#pending.size;
  }

  add(path: string, now: number): void {
    const p = this.#pending.get(path);
    if (p) p.last = now;
    else this.#pending.set(path, { first: now, last: now });
  }

  clear(): void {
    this.#pending.clear();
  }

  /** When the next path becomes due, or undefined when nothing is pending. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const at of this.#dueTimes().values()) if (next === undefined || at < next) next = at;
    return next;
  }

  /** Removes and returns the paths due at `now`, sorted. */
  takeDue(now: number): string[] {
    const due: string[] = [];
    for (const [path, at] of this.#dueTimes()) {
      if (at <= now) {
        due.push(path);
        this.#pending.delete(path);
      }
    }
    return due.sort();
  }

  /** Each pending path's due time, a folder's raised to the latest below it (capped). */
  #dueTimes(): Map<string, number> {
    const own = new Map<string, number>();
    for (const [path, p] of this.#pending) {
      own.set(path, Math.min(p.last + this.quietMs, p.first + this.maxWaitMs));
    }
    const due = new Map(own);
    for (const [path, at] of own) {
      for (const ancestor of this.#ancestors(path)) {
        const a = due.get(ancestor);
        if (a === undefined || a >= at) continue;
        const cap = this.#pending.get(ancestor)!.first + this.maxWaitMs;
        due.set(ancestor, Math.min(at, cap));
      }
    }
    return due;
  }

  *#ancestors(path: string): Generator<string> {
    for (let i = path.lastIndexOf(this.sep); i > 0; i = path.lastIndexOf(this.sep, i - 1)) {
      yield path.slice(0, i);
    }
  }
}

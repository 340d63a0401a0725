/**
 * Looks again whether a source that is missing or unreadable, while the others are
 * followed, can be listed now: after the pauses of a reopening (reopening.ts), doubling up
 * to a minute. Once one can, `onListable` has the watchers opened anew (and a rescan asked
 * for). No event would say so: nothing above a source is followed, and the roots' check
 * (roots.ts) sees a folder come back only where one of its looks fell while it was gone,
 * not after a brief move. One listing per source per look; memory and one timer, which
 * `close()` clears: an interruption leaves nothing behind.
 */
import { reopenPause } from "./reopening.ts";

export class MissingRoots {
  readonly #onListable: () => void;
  readonly #active: () => boolean;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Looks made in a row, for the pause before the next. */
  #looks = 0;

  /** `active()` false (the follower closed or stuck): a look due does nothing. */
  constructor(onListable: () => void, active: () => boolean) {
    this.#onListable = onListable;
    this.#active = active;
  }

  /** Looks for `roots` from now on, instead of those before; none: no more looks. */
  lookFor(roots: string[]): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (roots.length === 0) {
      this.#looks = 0;
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#active()) return;
      if (roots.some(canList)) this.#onListable();
      else this.lookFor(roots);
    }, reopenPause(this.#looks++));
  }

  close(): void {
    clearTimeout(this.#timer);
  }
}

/** Whether `dir` is a folder that can be listed now. */
export function canList(dir: string): boolean {
  try {
    Deno.readDirSync(dir)[Symbol.iterator]().next();
    return true;
  } catch {
    return false;
  }
}

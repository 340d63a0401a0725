/**
 * The files a watch's passes found changing while they read them (a log appended to, a
 * file being copied in), which are not a failure of the session as long as a later pass
 * stores them: each is given to the scheduler again, to be read once it has been quiet
 * for debounce_ms (at most ten debounce periods later, written to without pause). A file
 * found changing by CHANGING_ATTEMPTS passes in a row is a failure, said as `run` says it,
 * at that pass and at each later one that finds it changing still (`defers`), and left to
 * its events and the next full pass, as any file; one left pending when the session
 * stops, never said to be one, is a failure of the session then, unless the state records
 * it read since (a pass stopped after it stored the file: see `atStop`). A pass that goes
 * through a file and does not find it changing (stored, unchanged, gone, or failed for
 * another reason, said as such) ends its wait. Pure but for the callbacks it is given;
 * memory only: a session killed loses the list, and the next session's first pass reads
 * every file anyway.
 */
import type { PassResult } from "../engine/pass_types.ts";
import type { TrackedFile } from "../core/types.ts";

/**
 * Passes in a row that may find a file changing before that is a failure: with the default
 * debounce_ms (1 s), a file written to without pause is read about every 10 s, so about a
 * minute.
 */
export const CHANGING_ATTEMPTS = 6;

/**
 * A file left unstored when the session stopped, still waiting to be read once quiet: a
 * failure of the session, said in an `ERROR:` line.
 */
export interface Unstored {
  /** Its logical path (`<source>/<path>`). */
  path: string;
  /** The failure, as said: the file's path and why it was not stored. */
  message: string;
}

/** A file waiting to be read again. */
interface Waiting {
  /** Passes in a row that found it changing. */
  times: number;
  /** What the state recorded of it after the last of them (`#recordOf`). */
  record: string | undefined;
}

export class ChangingFiles {
  /** Logical path → how long it has waited. */
  readonly #pending = new Map<string, Waiting>();

  constructor(
    /** Gives logical paths to the scheduler again (to be read once quiet). */
    readonly retry: (paths: string[]) => void,
    /** The file behind a logical path, for the message at the stop. */
    readonly fileOf: (path: string) => string,
    /** How the state tracks a logical path now (it may throw: then nothing is known). */
    readonly tracked: (path: string) => TrackedFile | undefined = () => undefined,
    readonly attempts = CHANGING_ATTEMPTS,
  ) {}

  /** Whether the next pass to find `path` changing leaves it for later (`deferChanging`). */
  readonly defers = (path: string): boolean =>
    (this.#pending.get(path)?.times ?? 0) + 1 < this.attempts;

  /**
   * After a pass: counts the files it found changing, gives those not yet failures to
   * `retry`, and ends the wait of those it went through (`covered`: none for a pass stopped
   * before it ended, which may not have) without finding them changing. A failure is not
   * read again unasked: a file written to through a memory mapping (a VM's disk image)
   * makes no event, and would be read, whole, after every debounce_ms for good; its next
   * event, or the next full pass, reads it, as before.
   */
  afterPass(result: PassResult, covered: (path: string) => boolean): void {
    const found = new Set((result.changing ?? []).map((c) => c.path));
    for (const path of this.#pending.keys()) {
      if (!found.has(path) && covered(path)) this.#pending.delete(path);
    }
    const again: string[] = [];
    for (const path of found) {
      const times = (this.#pending.get(path)?.times ?? 0) + 1;
      this.#pending.set(path, { times, record: this.#recordOf(path) });
      if (times < this.attempts) again.push(path);
    }
    if (again.length > 0) this.retry(again);
  }

  /**
   * At the session's stop: the files still waiting to be read, not said to be failures.
   * One whose record in the state differs from the one after its last pass found it
   * changing was read since, as one state, by a pass stopped before it ended (which ends
   * no wait: it may not have reached them), or is gone: not waiting.
   */
  atStop(): Unstored[] {
    const left = [...this.#pending].filter(([path, w]) =>
      w.times < this.attempts && !this.#readSince(path, w)
    );
    this.#pending.clear();
    return left.map(([path]) => ({
      path,
      message: `Cannot back up '${this.fileOf(path)}': it kept changing while being read, ` +
        "and the watch stopped before a pass could read it: the next run or watch backs it up",
    }));
  }

  /** Whether the state's record of `path` changed since `w` was taken (known both times). */
  #readSince(path: string, w: Waiting): boolean {
    if (w.record === undefined) return false;
    const now = this.#recordOf(path);
    return now !== undefined && now !== w.record;
  }

  /**
   * What the state records of a file's content: its digest and the fingerprint it was read
   * with, or that it is not tracked; undefined where the state cannot tell (busy, an I/O
   * error). Only a pass that read the file as one state (stored, or found unchanged) or
   * found it gone changes it: not a promotion, nor retention, which move copies.
   */
  #recordOf(path: string): string | undefined {
    let t: TrackedFile | undefined;
    try {
      t = this.tracked(path);
    } catch {
      return undefined;
    }
    if (t === undefined) return "untracked";
    return JSON.stringify([t.hash, t.algo, t.size, t.mtimeMs, t.ctimeMs, t.ino, t.dev, t.status]);
  }
}

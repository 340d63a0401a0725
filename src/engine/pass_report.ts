/**
 * What a pass says of its files, a line at a time, to its log and its caller (`onLine`),
 * and what it records of them in its result: each failure (with the backup root's
 * remedies where a step there was refused), each file left out for its size, each file
 * that kept changing while read. Lines go to the log as they come and are written out
 * with their batch (batch.ts): an interruption leaves those of the batches applied, and
 * recovery says again what a batch journaled had done.
 */
import { sep as SEP } from "node:path";
import type { PassContext, PassOptions, PassResult, Unread } from "./pass_types.ts";
import { largeLine } from "./scan/large.ts";
import { withAccessRemedy, withFlagsRemedy, withMountRemedy } from "./errors.ts";
import { refuseStaging } from "./staging_folder.ts";

/** What a `SKIP CHANGING:` line says of its file (see `PassOptions.deferChanging`). */
const CHANGING_NOTE =
  "it kept changing while being read: read again once it has been quiet for watch.debounce_ms";

/** What a pass says of its files: see the module comment. */
export class PassReport {
  constructor(
    readonly ctx: PassContext,
    readonly opts: PassOptions,
    readonly result: PassResult,
  ) {}

  /** One line, to the log (written out with its batch) and to the caller. */
  say(line: string): void {
    this.ctx.log?.line(line);
    this.opts.onLine?.(line);
  }

  /**
   * A file left out for its size (`exclude_larger_than`): a `SKIP LARGE:` line, and kept
   * for the caller to say on stderr (no pattern names it, so it is never left out unsaid).
   */
  large(path: string, size: number): void {
    (this.result.leftLarge ??= []).push({ path, size });
    this.say(largeLine(path, size, this.ctx.config.excludeLargerThan ?? 0));
  }

  /** A problem with one entry: a failure, unless the entry vanished (the next pass sees it). */
  problem(path: string, message: string, vanished = false): void {
    if (vanished) this.say(`SKIP VANISHED: ${path} (${message})`);
    else this.fail(path, message);
  }

  /**
   * A file not read: a failure, unless it vanished (see `problem`) or, in a pass that
   * defers them (a watch's), it kept changing while read: said, and left to the caller.
   */
  unread(path: string, message: string, how: Unread | undefined): void {
    // Every other file would fail alike: the pass stops (a watch's tries again at its rescan).
    refuseStaging(this.ctx.tmpDir, message, this.opts.inWatch === true);
    const defer = this.opts.deferChanging;
    if (how !== "changing" || defer === undefined) {
      return this.problem(path, message, how === "vanished");
    }
    const deferred = defer(path);
    (this.result.changing ??= []).push({ path, deferred });
    if (deferred) this.say(`SKIP CHANGING: ${path} (${CHANGING_NOTE})`);
    else this.fail(path, message);
  }

  /**
   * A file that failed, said once. A step refused in the backup root for a flag (an
   * immutable copy, an append-only folder: EPERM), a mount inside it (EXDEV) or a folder
   * this user may not write (EACCES) says so, with the remedy; a source's refusals are said
   * as they came.
   */
  fail(path: string, refused: string): void {
    const then = this.opts.inWatch ? "and the next full rescan tries again" : "then run again";
    const message = refused.includes(`'${this.ctx.root}${SEP}`)
      ? withAccessRemedy(withMountRemedy(withFlagsRemedy(refused, then), then), then)
      : refused;
    this.result.counts.failed++;
    this.result.errors.push({ path, message });
    this.say(`ERROR: ${path}: ${message}`);
  }
}

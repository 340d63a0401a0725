/**
 * A watch session's passes that fail as a whole (a full backup disk, a database error), and
 * what follows them: the failure said as a warning once until a pass goes through (a full
 * disk named so, with the remedy `run` gives: free space on the disk of the backup root),
 * later ones in the log only; before the next pass, what the failed one left journaled
 * recovered (the room kept for the state made again first by watch.ts, where the disk has
 * it now); and
 * once a pass goes through, one line that backups work again (after an event batch, with
 * the full rescan it promises asked for where the retry ran already). The scheduler
 * retries with a full rescan RETRY_MS after a failure (scheduler.ts).
 *
 * Memory only, besides the log lines and the recovery (recover.ts): a process interrupted
 * leaves what an interrupted pass leaves, which the next session's recovery completes.
 */
import { diskFullText, errorText, isDiskFull } from "../engine/errors.ts";
import type { PassResult } from "../engine/pass_types.ts";
import { recoverInterrupted } from "../engine/recover.ts";
import { diskFullAt } from "../engine/session/reserve.ts";
import type { Session } from "../engine/session/session.ts";
import { explainedDamage } from "../state/damage.ts";
import { LogError } from "../log/runlog.ts";
import type { Job } from "./scheduler.ts";
import type { WatchOptions } from "./watch.ts";
import { outOfFiles } from "./watch_events.ts";

/** After a pass threw (backup disk gone, database error), retry with a full rescan in 30 s. */
export const RETRY_MS = 30_000;

export class FailedPasses {
  readonly #session: Session;
  readonly #opts: Pick<WatchOptions, "onWarning" | "onNote">;
  /** A warning: on stderr and in the log. */
  readonly #warn: (message: string) => void;
  /** Asks for the retry's full rescan now, unless one is due (`Scheduler.requestRetry`). */
  readonly #retry: () => void;
  /** A pass threw: its journaled batches and staged copies must be recovered first. */
  #unrecovered = false;
  /** A pass threw at some point: the session ends with problems, as with a file failed. */
  #any = false;
  /**
   * Passes that failed since the last one went through (see `failed`), said once one does
   * (`wentThrough`); 0 while passes work.
   */
  #failing = 0;

  constructor(
    session: Session,
    opts: Pick<WatchOptions, "onWarning" | "onNote">,
    warn: (message: string) => void,
    retry: () => void,
  ) {
    this.#session = session;
    this.#opts = opts;
    this.#warn = warn;
    this.#retry = retry;
  }

  /** Whether a pass threw at some point of the session. */
  get any(): boolean {
    return this.#any;
  }

  /** A pass failed as a whole: a warning once until one goes through, then the log only. */
  failed(e: unknown): void {
    this.#unrecovered = this.#any = true;
    const detail = passFailure(this.#session, e);
    const retry = `a full rescan follows in ${RETRY_MS / 1000} s`;
    if (this.#failing++ === 0) {
      return this.#warn(
        `Backup pass failed: ${detail}: ${retry}, and again after each pass that fails ` +
          "(said in the log only until a line says backups work again)",
      );
    }
    this.#session.log.said(`WARNING: Backup pass failed again: ${detail}: ${retry}`);
  }

  /**
   * Before a pass, after one that threw: completes the batches it left journaled and
   * empties the staging folder. The room kept for the state is made again before this
   * (`Session.renewReserve`, before every pass) where a pass used it and the disk has room
   * for it now: without that, every later pass stopped at its first commit, space freed or
   * not.
   */
  async recover(): Promise<void> {
    if (!this.#unrecovered) return;
    const s = this.#session;
    const ours = () => s.lockStillHeld();
    for (const w of await recoverInterrupted(s.root, s.tmpDir, s.store, s.log, ours, s.syncFs)) {
      this.#opts.onWarning?.(`${w.path}: ${w.message}`);
    }
    this.#unrecovered = false;
  }

  /**
   * A pass went through: after passes failed, a line says backups work again, and what
   * catches up the changes made meanwhile (in the log, and on stderr as the failure was).
   * One whose files failed for want of room does not count: the disk is still full. Nor
   * does one while the room kept for the state is still used (not made again: the disk
   * has no room for it): a pass then stops at its first commit, so one that went through
   * had nothing to record (a file made and removed at once), which shows nothing. After a
   * scoped pass, the line promises a full rescan within RETRY_MS: the retry the first
   * failure armed, or where that ran already (it went through but for files that failed
   * for want of room, which nothing else reads again), one asked for now.
   */
  wentThrough(job: Job, result: PassResult): void {
    if (this.#failing === 0 || this.#session.store.reserveUsed) return;
    const again = passesWorkAgain(job, result, this.#failing, RETRY_MS);
    if (again === undefined) return;
    this.#failing = 0;
    this.#opts.onNote?.(again);
    this.#session.log.said(`NOTE: ${again}`);
    if (job.kind === "paths") this.#retry();
  }
}

/**
 * A pass's failure `e`: a full disk with its remedy, damage or want of files explained. The
 * log's own disk full is said as the log says it (with its remedy), not as the backup's.
 */
export function passFailure(session: Session, e: unknown): string {
  const text = errorText(explainedDamage(e));
  const backupFull = !(e instanceof LogError) && diskFullAt(text, session.tmpDir);
  const detail = backupFull ? diskFullText(session.root, text) : text;
  return `${detail}${outOfFiles(e)}`;
}

/**
 * The line for `job`, a pass that went through (`result`) after `failed` passes failed,
 * saying backups work again and what catches up the changes made meanwhile: a full pass
 * did; after a scoped one, the retry's full rescan does (due within `retryMs`, armed by the
 * first failure). Undefined where a file failed for want of room: the disk is still full.
 */
export function passesWorkAgain(
  job: Job,
  result: PassResult,
  failed: number,
  retryMs: number,
): string | undefined {
  if (result.errors.some((e) => isDiskFull(e.message))) return undefined;
  const after = `after ${failed} failed pass${failed === 1 ? "" : "es"}`;
  const caughtUp = job.kind === "full"
    ? `a full rescan went through ${after} and caught up the changes made meanwhile`
    : `a pass went through ${after}; a full rescan within ${retryMs / 1000} s catches up ` +
      "the changes made meanwhile";
  const n = result.counts.failed;
  const files = n === 0 ? "" : `; ${n} file${n === 1 ? "" : "s"} failed (named in ERROR lines)`;
  return `Backups work again: ${caughtUp}${files}`;
}

/**
 * The watch session's scheduler: collects event paths in a Debouncer, keeps one timer set
 * for the moment the next path becomes due, and hands due paths (or a full rescan) to
 * `run`, one job at a time: a job never starts while another runs, so passes are
 * serialized. A full rescan, when requested, goes first and replaces the pending paths.
 * It also arms the periodic rescan, and a retry after a job that threw. Once two jobs in a
 * row threw (a full backup disk fails every pass), event paths wait for the retry's full
 * rescan instead of each starting a pass that fails as well.
 *
 * Timers exist only while something is pending, besides the rescan and retry timers, so
 * an idle watch does no work. Memory only: an interruption loses the pending paths, which
 * the full pass at the next start catches.
 */
import { Debouncer } from "./debounce.ts";

type Timer = ReturnType<typeof setTimeout>;

/** Why a full rescan retries after a job that threw. */
export const RETRY_REASON = "retry after an error";

/**
 * The scheduler's clock: monotonic. With the wall clock, a clock stepped back (NTP, a
 * suspended laptop, a wrong clock set right) found nothing due when the timer fired and
 * waited out the whole step, holding every change back meanwhile.
 */
const now = () => performance.now();

export type Job =
  | { kind: "full"; reason: string }
  | { kind: "paths"; paths: string[] };

export interface SchedulerOptions {
  debounceMs: number;
  /** Longest a path is postponed by new events. */
  maxWaitMs: number;
  /** Full rescan this long after the last one ended; 0 = never. */
  rescanIntervalMs: number;
  /** Wait before a full rescan that retries a job that threw. */
  retryMs: number;
  /** Path separator, for the Debouncer. */
  sep?: string;
  /** Applies one job; never called while a previous call is unsettled. */
  run(job: Job): Promise<void>;
  /** A job threw: the scheduler retries with a full rescan after `retryMs`. */
  onError(e: unknown): void;
}

export class Scheduler {
  readonly #opts: SchedulerOptions;
  readonly #debounce: Debouncer;
  #full: string | undefined;
  #timer: Timer | undefined;
  #rescanTimer: Timer | undefined;
  #retryTimer: Timer | undefined;
  #laterTimer: Timer | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  /** Jobs that threw in a row (0 once one succeeds). */
  #failures = 0;

  constructor(opts: SchedulerOptions) {
    this.#opts = { ...opts }; // its times changed by `retime`, not the caller's
    this.#debounce = new Debouncer(opts.debounceMs, opts.maxWaitMs, opts.sep);
  }

  /**
   * New times (a watch's config reloaded): the paths pending are due by them, and the next
   * periodic rescan is armed by them once the next full pass ends.
   */
  retime(times: Pick<SchedulerOptions, "debounceMs" | "maxWaitMs" | "rescanIntervalMs">): void {
    Object.assign(this.#opts, times);
    this.#debounce.retime(times.debounceMs, times.maxWaitMs);
  }

  /** Events named these paths (already filtered). */
  add(paths: string[]): void {
    if (this.#stopped || paths.length === 0) return;
    const at = now();
    for (const p of paths) this.#debounce.add(p, at);
    // New events never bring the next due time forward, so a timer already set stays right.
    if (this.#timer === undefined) this.#schedule();
  }

  /** Asks for a full rescan as the next job; `reason` is kept from the first request. */
  requestFull(reason: string): void {
    if (this.#stopped) return;
    this.#full ??= reason;
    this.#clearTimer();
    this.#schedule();
  }

  /** Asks for a full rescan in `delayMs`, once however often asked meanwhile. */
  requestFullLater(reason: string, delayMs: number): void {
    if (this.#stopped || this.#laterTimer !== undefined) return;
    this.#laterTimer = setTimeout(() => {
      this.#laterTimer = undefined;
      this.requestFull(reason);
    }, delayMs);
  }

  /**
   * Asks for the retry's full rescan now, unless a full rescan is requested or the retry is
   * armed: either catches up what jobs that threw left undone.
   */
  requestRetry(): void {
    if (this.#full !== undefined || this.#retryTimer !== undefined) return;
    this.requestFull(RETRY_REASON);
  }

  /** Whether no job runs, none is requested and no path is pending. */
  get idle(): boolean {
    return !this.#running && this.#full === undefined && this.#debounce.size === 0;
  }

  /** Whether a full rescan is requested or event paths are pending (a job may be running). */
  get waiting(): boolean {
    return this.#full !== undefined || this.#debounce.size > 0;
  }

  /** Accepts nothing more, clears every timer, and waits for the job in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#clearTimer();
    clearTimeout(this.#rescanTimer);
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#laterTimer);
    this.#debounce.clear();
    await this.#running;
  }

  /** Whether event paths wait for the retry: two jobs in a row threw, and it is armed. */
  get #holding(): boolean {
    return this.#failures >= 2 && this.#retryTimer !== undefined && this.#full === undefined;
  }

  #schedule(): void {
    if (this.#stopped || this.#running || this.#timer !== undefined || this.#holding) return;
    const at = this.#full !== undefined ? now() : this.#debounce.nextDueAt();
    if (at === undefined) return;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, at - now()));
  }

  #clearTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #fire(): Promise<void> {
    this.#timer = undefined;
    if (this.#stopped || this.#running || this.#holding) return;
    const job = this.#nextJob();
    if (job) {
      this.#running = this.#execute(job);
      await this.#running;
      this.#running = undefined;
    }
    this.#schedule();
  }

  #nextJob(): Job | undefined {
    if (this.#full !== undefined) {
      const reason = this.#full;
      this.#full = undefined;
      this.#debounce.clear();
      return { kind: "full", reason };
    }
    const paths = this.#debounce.takeDue(now());
    return paths.length > 0 ? { kind: "paths", paths } : undefined;
  }

  async #execute(job: Job): Promise<void> {
    try {
      await this.#opts.run(job);
      this.#failures = 0;
      if (job.kind === "full") this.#armRescan();
    } catch (e) {
      this.#failures++;
      this.#opts.onError(e);
      this.#armRetry();
    }
  }

  #armRescan(): void {
    clearTimeout(this.#rescanTimer);
    this.#rescanTimer = undefined;
    if (this.#opts.rescanIntervalMs <= 0 || this.#stopped) return;
    this.#rescanTimer = setTimeout(() => {
      this.#rescanTimer = undefined;
      this.requestFull("periodic rescan");
    }, this.#opts.rescanIntervalMs);
  }

  #armRetry(): void {
    if (this.#retryTimer !== undefined || this.#stopped) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.requestFull(RETRY_REASON);
    }, this.#opts.retryMs);
  }
}

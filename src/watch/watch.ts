/**
 * A watch session, the second driver of the engine: open a session (pre-flight, lock,
 * recovery), start following file system events, run a full pass (which catches what
 * changed while nothing watched), log `Watch started`, then apply debounced event paths as
 * scoped passes, one at a time, with full rescans on overflow, watcher failure and every
 * `watch.rescan_interval`. No file operation happens here: every change goes through
 * `runPass`, as in `run`. Its config edited meanwhile (the file, or one its exclude_from
 * lists) is read again once the edit settled (config_change.ts), judged (config_reload.ts)
 * and, accepted, applied before the next pass, never in one, which is then a full pass:
 * what was left out, or added, since is as a run with the new config would leave it.
 *
 * This file holds the session and its pass scheduling (the scheduler, the notes after the
 * first pass, a config applied, stopping). The events it follows and the paths they name
 * are watch_events.ts; the parts made from the config, session_config.ts; one job run as a
 * pass is job_pass.ts; a pass that threw, and the recovery and retry after it,
 * pass_failure.ts; the session's end recorded, session_end.ts.
 *
 * `stop()` stops taking events, ends the pass in progress after its batch in progress (and
 * commits what it applied), closes every timer, logs `Watch stopped` and closes the session
 * (lock released), and only then closes the watchers: that waits on Deno's watcher thread,
 * which a FIFO can hold (see fifo_guard.ts), so the session is complete before (where
 * nothing frees it, the wait ends after a few seconds: events.ts `close`). A process
 * killed in the middle of a pass leaves what any interrupted run leaves: the batches
 * journaled since its last commit and temporary files, which the next session's recovery
 * completes.
 */
import { sep } from "node:path";
import type { Config } from "../config/config.ts";
import { errorText } from "../engine/errors.ts";
import { pausePoint } from "../engine/fault.ts";
import { FailedPasses, RETRY_MS } from "./pass_failure.ts";
import { type Counts, emptyCounts, type PassResult } from "../engine/pass_types.ts";
import { openSession, type Session } from "../engine/session/session.ts";
import type { EventFollower } from "./events.ts";
import { checkWatchLimit } from "./limits.ts";
import { ConfigFiles } from "./config_change.ts";
import { type Accepted, ConfigReloads } from "./config_reload.ts";
import type { GuardContext } from "./fifo_guard.ts";
import { type Job, Scheduler } from "./scheduler.ts";
import type { GuardWindow } from "./guard_window.ts";
import { applyJob, type BatchReport } from "./job_pass.ts";
import { ChangingFiles, type Unstored } from "./changing.ts";
import { appendAfterClose, endSession } from "./session_end.ts";
import { sourceFileOf } from "../core/layout.ts";
import { trackedAt, WatchEvents } from "./watch_events.ts";
import { leftSourcesNote, SessionConfig, timesOf } from "./session_config.ts";

/** Why the full pass after a config reloaded runs. */
const RELOADED = "the config was reloaded";

export interface WatchOptions {
  onBatch?(report: BatchReport): void;
  /** Problems of the session itself (watcher failures, limits, a pass that threw). */
  onWarning?(message: string): void;
  /** News of the session that is no problem (passes that work again after failing). */
  onNote?(message: string): void;
  /** A file left unstored when the session stopped (it kept changing: changing.ts). */
  onUnstored?(unstored: Unstored): void;
  /** How often the source folders' identity is checked (ROOT_CHECK_MS); tests lower it. */
  rootCheckMs?: number;
  /** How often the config's files are looked at while edited (CONFIG_CHECK_MS; idle: 3×). */
  configCheckMs?: number;
  /** The config's files as its load read them (`loadWatched`); else looked at as it begins. */
  files?: ConfigFiles;
}

export interface WatchTotals {
  passes: number;
  counts: Counts;
  bytesCopied: number;
  /**
   * The deletions the guard holds back (`heldBackAfter`), recorded in the summary: a
   * restore says the files are given back (run_queries.ts `heldBackRuns`).
   */
  heldBack: number;
  /**
   * The copies of deleted files the clock guard held back at the last full pass, where it
   * did (deleted_guard.ts), recorded in the summary: the session's times vouch for no
   * later run's clock then.
   */
  clockHeld?: number;
  /** The clock's time at the last full pass whose prunes went through (deleted_guard.ts). */
  lastFullPassAt?: number;
  /** Why the session stopped by itself (its backup root was removed or replaced). */
  error?: string;
  /** Why a session that had problems could not record its end (exit code 1 too). */
  unrecorded?: string;
}

export interface WatchHandle {
  /** The session's log file. */
  logFile: string;
  /** Settles once the first full pass has ended and `Watch started` is logged. */
  ready: Promise<void>;
  /** Stops the session (idempotent); see the module comment. */
  stop(): Promise<WatchTotals>;
  /** Settles when the session has stopped (by `stop()`). */
  done: Promise<WatchTotals>;
  /**
   * How many paths the session keeps in memory between passes, by what for: a count that
   * grows with the session's history, not with the tree, is a leak (tests).
   */
  pathsKept(): { saidLarge: number; closedAfterWrite: number };
}

export async function startWatch(config: Config, opts: WatchOptions = {}): Promise<WatchHandle> {
  pausePoint("loaded"); // before the session opens: an edit made meanwhile counts
  const files = opts.files ?? new ConfigFiles(config.file, config.excludeFrom);
  const session = await openSession(config, "watch");
  return new WatchSession(session, files, opts).handle();
}

class WatchSession {
  readonly #session: Session;
  readonly #opts: WatchOptions;
  /** The parts made from the config, made anew with a config reloaded (session_config.ts). */
  readonly #config: SessionConfig;
  readonly #totals: WatchTotals = {
    passes: 0,
    counts: emptyCounts(),
    bytesCopied: 0,
    heldBack: 0,
  };
  /** The deletions the guard counts together, and since when (see guard_window.ts). */
  readonly #window: GuardWindow = {};
  readonly #scheduler: Scheduler;
  /** The files found changing while read, read again once quiet (changing.ts). */
  readonly #changing: ChangingFiles;
  /**
   * Files not backed up that a pass of this session left out for their size and said so
   * (`SKIP LARGE:`), by logical path: their later saves run no pass (scope.ts).
   */
  readonly #saidLarge = new Set<string>();
  /** The events followed, and the paths closed after writing (watch_events.ts). */
  readonly #events: WatchEvents;
  readonly #follower: EventFollower;
  /** The config's edits, read again and applied before the next pass (config_reload.ts). */
  readonly #reloads: ConfigReloads;
  readonly #ready = Promise.withResolvers<void>();
  readonly #done = Promise.withResolvers<WatchTotals>();
  /** Set as soon as a stop is asked for (a signal, or the session's own reason). */
  #stopping: Promise<WatchTotals> | undefined;
  /** The session is closed (its log too): the watchers are being closed, last. */
  #closed = false;
  /** Aborted by `stop()`: a long pass ends after its current batch. */
  readonly #abort = new AbortController();
  /** The passes that threw, and the recovery and retry after them (pass_failure.ts). */
  readonly #failures: FailedPasses;
  /** A full pass went through every source, recorded so: the backup is whole since. */
  #following = false;
  /** An accepted config's sources could not be recorded, and that was said. */
  #unrecordedSaid = false;

  constructor(
    session: Session,
    files: ConfigFiles,
    opts: WatchOptions,
  ) {
    this.#session = session;
    this.#opts = opts;
    // Said before the first pass, which may be killed in turn (the same out-of-memory
    // killer): the journal then has it all the same.
    if (session.unfinishedNote) opts.onWarning?.(session.unfinishedNote);
    this.#failures = new FailedPasses(
      session,
      opts,
      (message) => this.#warn(message),
      () => this.#scheduler.requestRetry(),
    );
    this.#config = new SessionConfig(
      session,
      (root) =>
        this.#follower.restart(`source folder '${root}' changed (a disk unmounted or mounted)`),
      opts.rootCheckMs,
    );
    this.#scheduler = new Scheduler({
      ...timesOf(session.config),
      retryMs: RETRY_MS,
      sep,
      run: (job) => this.#run(job),
      onError: (e) => {
        if (!this.#session.lockStillHeld()) return this.#lostRoot(); // see Batch.#checkLock
        this.#failures.failed(e);
      },
    });
    const fileOf = (path: string) => sourceFileOf(session.config.sources, path) ?? path;
    this.#changing = new ChangingFiles(
      (paths) => this.#scheduler.add(paths.map(fileOf)),
      fileOf,
      (path) => session.store.trackedOne(path),
    );
    this.#events = new WatchEvents(
      this.#config.roots,
      session.root,
      (path) => trackedAt(session, path),
      this.#config.keep,
      this.#scheduler,
      (message) => this.#warn(message),
      () => this.#onStuck(),
      () => this.#ending(),
    );
    this.#follower = this.#events.follower;
    this.#config.checkRoots();
    this.#reloads = new ConfigReloads(files, () => session.config, {
      warn: (message) => this.#warn(message),
      note: (message) => this.#note(message),
    }, () => this.#scheduler.requestFull(RELOADED));
    this.#reloads.start(opts.configCheckMs);
    this.#scheduler.requestFull("start");
  }

  handle(): WatchHandle {
    return {
      logFile: this.#session.log.path,
      ready: this.#ready.promise,
      stop: () => this.#stop(),
      done: this.#done.promise,
      pathsKept: () => ({
        saidLarge: this.#saidLarge.size,
        closedAfterWrite: this.#events.closedAfterWrite.size,
      }),
    };
  }

  /** Ends the session: no event would come any more (see EventHandlers.onStuck). */
  #onStuck(): void {
    const held = "Deno's watcher waits to open a FIFO it cannot be freed from (one removed " +
      "or renamed while it opened it)";
    if (this.#stopping !== undefined) {
      // Stopping already, as asked: nothing is lost, and the exit code stays the stop's.
      this.#warn(`${held}: its watches are left as they are; the watch stops as asked`);
      return;
    }
    this.#totals.error = `Watch stopped: ${held}, so no change would be seen any more: ` +
      "start the watch again (a service manager restarting it on failure does)";
    this.#warn(this.#totals.error);
    void this.#stop();
  }

  /**
   * Where the FIFO guard says why, and the exit code it ends the process with, if a watch
   * waits on Deno's watcher held for good (see fifo_guard.ts): 0 when a stop was asked for
   * (the session was stopping as asked), 1 when it stops by itself.
   */
  #ending(): GuardContext {
    const asked = this.#stopping !== undefined && this.#totals.error === undefined;
    return { logFile: this.#session.log.path, code: asked ? 0 : 1 };
  }

  async #run(named: Job): Promise<void> {
    let job = named;
    try {
      // Checked before every pass, not only now and then: once the lock file is gone, a
      // second run may lock a new one, and two writers must never share a backup root.
      if (!this.#session.lockStillHeld()) return this.#lostRoot();
      if (this.#session.log.reopenIfRemoved()) {
        this.#opts.onWarning?.(
          `The log file was removed: the log goes on in '${this.#session.log.path}'`,
        );
      }
      // Missing or short (used by a pass that failed, or never made: the session started on
      // a nearly full disk), the room kept for the state is made again where the disk has
      // it now: before any recovery, which commits.
      await this.#session.renewReserve();
      await this.#failures.recover();
      // Between passes, never in one: a pass runs with one config from its start to its end.
      const accepted = this.#reloads.take();
      if (accepted && await this.#applyConfig(accepted)) job = { kind: "full", reason: RELOADED };
      job = this.#events.leaveLinked(job);
      // The watchers just opened for the first pass; before any later one, anew.
      if (job.kind === "full" && job.reason !== "start") await this.#follower.renew();
      if (job.kind === "full") this.#events.fullPassBegins();
      const reread = this.#events.takeClosed(job);
      let result: PassResult | undefined;
      let done = false;
      try {
        const how = {
          signal: this.#abort.signal,
          reread,
          changing: this.#changing,
          saidLarge: this.#saidLarge,
        };
        result = await applyJob(this.#session, job, this.#totals, this.#opts, how, this.#window);
        // Went through unless cut short (a signal with nothing left stops none: pass.ts).
        done = result ? !result.stopped : !this.#abort.signal.aborted;
        // The first full pass to go through every source makes the backup whole.
        if (done && job.kind === "full" && !this.#following) {
          this.#following = this.#markFollowing();
        }
      } finally {
        // A pass that failed or was stopped may not have read them: the next one does.
        if (!done) { for (const p of reread) this.#events.closedAfterWrite.add(p); }
      }
      if (result) this.#follower.noticeUnlisted(result.unlistedFolders);
      if (result && done) this.#failures.wentThrough(job, result);
      if (result && done) this.#events.afterPass(!this.#scheduler.waiting);
    } finally {
      if (job.kind === "full" && job.reason === "start") await this.#started();
    }
  }

  /**
   * Makes `accepted` the session's config (session_config.ts) and says so. False where its
   * sources could not be recorded (a full disk): the config in use stays, the accepted one
   * is tried again before the next pass.
   */
  async #applyConfig(accepted: Accepted): Promise<boolean> {
    const { config } = accepted;
    let applied;
    try {
      const parts = { follower: this.#follower, scheduler: this.#scheduler };
      applied = await this.#config.apply(config, { ...parts, saidLarge: this.#saidLarge });
    } catch (e) {
      this.#reloads.putBack(accepted);
      if (!this.#unrecordedSaid) {
        this.#warn(
          `The config '${config.file}' edited cannot be applied yet: its sources cannot be ` +
            `recorded (${errorText(e)}): the watch goes on with the config it has, and ` +
            "tries again before each pass",
        );
      }
      this.#unrecordedSaid = true;
      return false;
    }
    this.#unrecordedSaid = false;
    this.#note(`Config '${config.file}' reloaded: ${accepted.changes}; a full pass applies it`);
    for (const w of accepted.warnings) this.#warn(w);
    for (const note of applied.moved) {
      this.#session.log.line(`NOTE: ${note}`);
      this.#opts.onWarning?.(note);
    }
    if (applied.removed) this.#noteLeftSources();
    const limit = applied.added ? await checkWatchLimit(config) : undefined;
    if (limit) this.#warn(limit);
    return true;
  }

  /** Stops the session by itself: its backup root is no longer the one it locked. */
  #lostRoot(): void {
    this.#totals.error = `Watch stopped: backup root '${this.#session.root}' was removed or ` +
      "replaced while watching (its lock file is not the one this session holds), so " +
      "another run may be using it: check it, then start the watch again";
    this.#warn(this.#totals.error);
    void this.#stop(); // waits for this job, which ends now
  }

  /** After the first pass: check the watch limit, then log `Watch started`. */
  async #started(): Promise<void> {
    const warning = await checkWatchLimit(this.#session.config);
    if (warning) this.#warn(warning);
    for (const w of this.#session.recovered) this.#opts.onWarning?.(`${w.path}: ${w.message}`);
    const { clockNote } = this.#session;
    if (clockNote) this.#opts.onWarning?.(clockNote);
    for (const note of this.#session.movedNotes) this.#opts.onWarning?.(note);
    this.#noteLeftSources();
    const names = this.#session.config.sources.map((s) => s.name).join(", ");
    // Stopped during its first pass, a session never followed anything: not said to.
    if (!this.#abort.signal.aborted) this.#session.log.line(`Watch started: following ${names}`);
    this.#session.log.flush();
    this.#ready.resolve();
  }

  /** Sources the state tracks that the config no longer names, said (`leftSourcesNote`). */
  #noteLeftSources(): void {
    const left = leftSourcesNote(this.#session);
    if (left === undefined) return;
    this.#session.log.line(`NOTE: ${left}`);
    this.#opts.onWarning?.(left);
  }

  /** Records that a full pass went through every source (see `cutRuns`); true once it is. */
  #markFollowing(): boolean {
    try {
      this.#session.store.markFollowing(this.#session.runId);
      return true;
    } catch (e) {
      // The disk full, say: the session goes on, recorded as cut short if it ends so.
      this.#warn(`Cannot record that the first pass is done: ${errorText(e)}`);
      return false;
    }
  }

  /** News that is no problem: in the log and told (`onNote`). */
  #note(message: string): void {
    this.#opts.onNote?.(message);
    if (this.#closed) return;
    this.#session.log.said(`NOTE: ${message}`);
  }

  #warn(message: string): void {
    this.#opts.onWarning?.(message);
    if (this.#closed) return appendAfterClose(this.#session.log.path, `WARNING: ${message}`);
    this.#session.log.said(`WARNING: ${message}`);
  }

  /** Asks for the stop (idempotent: `#stopping` is set before anything runs). */
  #stop(): Promise<WatchTotals> {
    if (this.#stopping === undefined) {
      const stopping = Promise.withResolvers<WatchTotals>();
      this.#stopping = stopping.promise;
      this.#done.resolve(stopping.promise);
      this.#stopNow().then(stopping.resolve, stopping.reject);
    }
    return this.#stopping;
  }

  async #stopNow(): Promise<WatchTotals> {
    this.#abort.abort();
    this.#reloads.close();
    const checked = this.#config.close();
    try {
      await this.#scheduler.stop();
      await checked;
      this.#ready.resolve();
      const unrecorded = endSession(this.#session, this.#totals, {
        following: this.#following,
        passFailed: this.#failures.any,
        unstored: this.#changing.atStop(),
        onUnstored: this.#opts.onUnstored,
        onClosed: () => this.#closed = true,
      });
      if (unrecorded !== undefined) this.#warn(unrecorded); // after the close: see #warn
      return this.#totals;
    } finally {
      // Last, once the session is complete: closing a watch waits on Deno's watcher thread,
      // which a FIFO can hold; if nothing frees it, the guard ends the process.
      await this.#follower.close();
    }
  }
}

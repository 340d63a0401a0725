/**
 * A batch of planned actions, applied together: the temporary copies are flushed (fsyncs
 * issued together, or one syncfs of the file system for a large batch), the effectful
 * actions journaled as one intent, and their file steps run. The batch's lines are then
 * written to the log, and the results of several batches committed with their intents
 * dropped in one transaction (COMMIT_ACTIONS, and at the end of the pass: `settle`), after
 * the folders their moves changed, and the log, are flushed (move_flush.ts). A
 * crash at any point leaves either nothing (before an intent) or intents that the next
 * run's recovery completes, in order, and logs again: every action is logged at least once
 * (lines written after the commit were lost with a run killed before it wrote them, whose
 * log's disk was full, or whose next batch failed). On a dry run, actions are only
 * reported and collected.
 */
import { executeActions, markExcludedMissing } from "./execute.ts";
import { removeLeftBehind } from "./fs/move.ts";
import type { StateStore } from "../state/store.ts";
import { pathsLinked } from "../core/changed_folders.ts";
import { flushMoves } from "./move_flush.ts";
import { syncFiles } from "./fs/flush.ts";
import { makeParents, nativePath, removeQuietly } from "./fs/fsops.ts";
import { formatAction, storedCopyWarning } from "../core/describe.ts";
import { faultPoint, pausePoint } from "./fault.ts";
import type { PassContext, PassOptions, PassResult } from "./pass_types.ts";
import type { Action, Archive } from "../core/types.ts";
import type { FolderMetaRecorder } from "../core/folder_meta.ts";
import { type Share, shareStaged } from "./share_staged.ts";
import { commandHint } from "../config/selection.ts";

/** Up to 512 files or 256 MiB per batch: one journal entry and one fsync wave each. */
const BATCH_FILES = 512;
const BATCH_BYTES = 256 << 20;
/**
 * Batches with fewer staged files are flushed file by file even where syncfs is available:
 * one wave of 64 parallel fdatasyncs (syncFiles) costs less than writing back everything
 * dirty on the file system, which may hold other programs' writes too.
 */
const SYNCFS_MIN_FILES = 64;
/**
 * Actions (mostly skips) buffered before a flush even when nothing is staged. Kept small
 * for the same reason as the state's page size (merge.ts): 8192 cost 55 MiB of peak RSS
 * on a no-change run over 100,000 files, for no gain in speed (measured).
 */
const BATCH_ACTIONS = 1024;
/**
 * Plain skips (nothing to record) logged and let go at most this many at a time while the
 * batch holds nothing else and no applied batch waits: a skip action keeps its scan entry
 * (about 0.5 KiB with its paths) alive until its line is logged, and 1,024 of them outlived
 * V8's 4 MiB young generation (see docs/operations.md), so every scavenge of a walk copied
 * them and promoted most to the old generation (`--trace-gc`: 26 scavenges of 1-3.6 ms in
 * a 20k mixed run).
 */
const SKIPS_AT_ONCE = 256;
/**
 * Actions whose results wait, applied, to be committed together. Every commit rewrites the
 * pages of the state's hash index that its new digests land on (digests arrive in random
 * order: most of its pages, for a batch of 512 new files), so a 100,000-file first backup
 * committed four batches at a time wrote 676 MB instead of 810 MB and took 10.4 s instead
 * of 11.0 s (medians of 4, +5 MiB peak RSS; 4,096 bought no more time for 20 MiB more).
 */
const COMMIT_ACTIONS = 2048;
/**
 * Batches applied to be committed together at most, full or not: four full ones make
 * COMMIT_ACTIONS, and batches full by their bytes (256 MiB of large files, a few actions
 * each) are bounded alike, so that a run killed has at most four batches journaled to
 * recover, and the reserve holds their journal (reserve.ts).
 */
const COMMIT_BATCHES = 4;
/**
 * Fingerprints whose mtime or ctime lie within 2 s of the scan are not trusted (the next
 * pass reads them again): coarse filesystems round timestamps to 1 s (ext3, HFS+) or 2 s
 * (FAT), so a change in the same tick would otherwise go unseen.
 */
const RACY_WINDOW_MS = 2000;
/**
 * An mtime more than a day past the scan's clock is trusted (its ctime past the window): no
 * change made now gives a file that time, and a file dated years ahead (a camera's clock
 * set wrong) would otherwise be read again at every pass. A day, not 2 s: a file server
 * whose clock runs a little ahead of this one writes times just past it.
 */
const FUTURE_TRUSTED_MS = 86_400_000;

/** Applied batches whose results wait for one commit, with the failures to report. */
interface Applied {
  actions: Action[];
  done: Action[];
  intent?: number;
  failures: Map<Action, string>;
}

/** Accumulates planned actions and applies them a batch at a time. */
export class Batch {
  #actions: Action[] = [];
  #tmps: string[] = [];
  /**
   * Staged copies to share the blocks of a stored copy: a duplicate's its original's at
   * `from` (storage); a new or changed file's the first of the stored copies `from` lists.
   */
  #shares: Share[] = [];
  #bytes = 0;
  #applied: Applied[] = [];
  #waiting = 0;
  /** Whether every action in `#actions` is a plain skip (see SKIPS_AT_ONCE). */
  #onlySkips = true;
  /** The actions with steps on disk of the batches applied since the last commit. */
  #moved: Action[] = [];
  /**
   * The version each action added archives, by path: the files whose versions retention
   * looks at after a scoped pass, and those it predicts on a dry run (pass_retention.ts).
   * A full run's retention reads the state: kept nothing (a million archived, 300 MB).
   */
  readonly archived = new Map<string, Archive>();

  constructor(
    readonly ctx: PassContext,
    readonly opts: PassOptions,
    readonly result: PassResult,
    readonly say: (line: string) => void,
    /** A failed action, said (`action`: the one that failed, none for a failure before). */
    readonly fail: (path: string, message: string, action?: Action) => void,
    /** The pass's start: on the clock (for trust), and as recorded (see `recordedTime`). */
    readonly started: { clock: number; recorded: number },
    /** Called once a batch is committed (the planner forgets what the state now holds). */
    readonly onCommitted: () => void = () => {},
  ) {}

  get #keepsArchived(): boolean {
    return this.opts.dryRun === true || this.opts.scope !== undefined;
  }

  /**
   * `shareWith`: a duplicate's, the storage path of the stored copy of its content (its
   * original's, placed by now or in this batch) to share its staged copy's blocks with; a
   * new or changed file's, the state's stored copies of its content (stored_copies.ts).
   */
  add(action: Action, tmp?: string, bytes = 0, shareWith?: string | string[]): void {
    this.#actions.push(action);
    const some = typeof shareWith === "string" || (shareWith?.length ?? 0) > 0;
    if (shareWith !== undefined && some) this.#shares.push({ action, from: shareWith });
    if ("archive" in action && action.archive && this.#keepsArchived) {
      this.archived.set(action.path, action.archive);
    }
    if (action.type !== "skip" || action.refresh) this.#onlySkips = false;
    if (tmp) this.#tmps.push(tmp);
    this.#bytes += bytes;
  }

  full(): boolean {
    return this.#tmps.length >= BATCH_FILES || this.#bytes >= BATCH_BYTES ||
      this.#actions.length >= BATCH_ACTIONS ||
      (this.#onlySkips && this.#actions.length >= SKIPS_AT_ONCE && this.#applied.length === 0);
  }

  async flush(): Promise<void> {
    const actions = this.#actions;
    const tmps = this.#tmps;
    const shares = this.#shares;
    this.#actions = [];
    this.#tmps = [];
    this.#shares = [];
    this.#bytes = 0;
    this.#onlySkips = true;
    if (actions.length === 0) return;
    if (this.opts.dryRun || !this.ctx.store) {
      for (const a of actions) {
        if (a.type === "exclude") markExcludedMissing(this.ctx.root, a);
        this.#report(a);
        this.opts.onPlanned?.(a);
      }
      return;
    }
    const recorded = actions.filter((a) => a.type !== "skip" || a.refresh);
    if (recorded.length === 0 && this.#applied.length === 0) {
      // Only skips, nothing waiting: nothing to flush, journal or commit.
      for (const a of actions) this.#report(a);
      this.ctx.log?.flush();
      return;
    }
    if (recorded.length > 0) this.#checkLock();
    const effectful = recorded.filter(hasFileSteps);
    const applied: Applied = effectful.length > 0
      ? await this.#apply(this.ctx.store, actions, effectful, tmps, shares)
      : { actions, done: [], failures: new Map() };
    // Refreshes of the state's rows only: nothing on disk to journal or do.
    if (effectful.length < recorded.length) {
      for (const a of recorded) if (!hasFileSteps(a)) applied.done.push(a);
    }
    // Logged once applied, as journaled: a run that stops before the commit (killed, its
    // next batch failing) has said what it did, and recovery says it again.
    this.#reportAll(applied);
    this.#applied.push(applied);
    this.#waiting += actions.length;
    // The room kept for the state was used: commit what is applied, then stop (settle).
    if (
      this.#waiting >= COMMIT_ACTIONS || this.#applied.length >= COMMIT_BATCHES ||
      this.ctx.store.reserveUsed
    ) {
      await this.settle();
    }
  }

  /**
   * Commits the results of the batches applied (and reported) so far and drops their
   * intents: at the end of a pass (and of its retention), whichever way it ends but a throw.
   * `folders`: the pass's folders, recorded in the same transaction if there is one (one
   * commit's flush fewer: 3-10 ms of a 20k mixed run on the benchmark's image, by strace).
   */
  async settle(folders?: FolderMetaRecorder): Promise<void> {
    const applied = this.#applied;
    this.#applied = [];
    this.#waiting = 0;
    if (applied.length === 0) return;
    const intents = applied.flatMap((b) => b.intent === undefined ? [] : [b.intent]);
    const done = applied.flatMap((b) => b.done);
    if (done.length > 0 || intents.length > 0) {
      // The log's lines written first: a syncfs of the file system they are on flushes them
      // too, and their own fdatasync is then left out (runlog.ts).
      const log = this.ctx.log?.written();
      // Failed ones too: undoing a move changes names back.
      const fs = this.ctx.syncFs;
      const whole = await flushMoves(this.ctx.root, this.#moved, { syncFs: fs, done: true });
      this.#moved = [];
      this.ctx.log?.sync(whole && fs?.reportsErrors && log ? { dev: fs.dev, log } : undefined);
      faultPoint("logged");
      this.ctx.store!.commitBatch(
        done,
        {
          runId: this.ctx.runId,
          time: this.started.recorded,
          trustBefore: this.started.clock - RACY_WINDOW_MS,
          trustAfter: this.started.clock + FUTURE_TRUSTED_MS,
        },
        intents,
        folders && { seen: folders.take(), gone: folders.gone() },
      );
      faultPoint("committed");
      removeLeftBehind();
      this.onCommitted();
    }
    if (this.ctx.store?.reserveUsed) {
      throw new Error(
        "database or disk is full: the room kept for the state was used to record what " +
          "this run stored so far; the rest is left for a run with more room",
      );
    }
  }

  /**
   * Reports an applied batch's actions and writes its log lines out: before the commit,
   * which drops the intent that recovery would log them from.
   */
  #reportAll({ actions, failures }: Applied): void {
    for (const a of actions) {
      const message = failures.get(a);
      if (message === undefined) this.#report(a);
      else this.fail(a.path, message, a);
    }
    this.ctx.log?.flush();
  }

  /** Flush, journal, execute: the crash-safe sequence for one batch, up to its commit. */
  async #apply(
    store: StateStore,
    actions: Action[],
    effectful: Action[],
    tmps: string[],
    shares: Share[],
  ): Promise<Applied> {
    pausePoint("applying");
    makeParents(this.ctx.root, effectful.flatMap(pathsLinked));
    if (shares.length > 0) shareStaged(this.ctx.root, effectful, shares, this.#moved);
    await this.#flushStaged(tmps);
    faultPoint("staged");
    const intent = store.writeIntent(this.ctx.runId, effectful, this.started.recorded);
    faultPoint("journaled");
    const { done, failed } = await executeActions(this.ctx.root, effectful);
    faultPoint("executed");
    // A loop, not push(...effectful): a batch holds every deletion of the pass (vanished.ts),
    // and a spread of some 125,000 of them overflowed the stack (`run --force` after a mass
    // deletion failed with "Maximum call stack size exceeded", its moves done, uncommitted).
    for (const a of effectful) this.#moved.push(a);
    for (const f of failed) {
      const tmp = "content" in f.action ? f.action.content.tmp : undefined;
      if (tmp) removeQuietly(nativePath(this.ctx.root, tmp));
    }
    return { actions, done, intent, failures: new Map(failed.map((f) => [f.action, f.message])) };
  }

  /**
   * A backup root removed or replaced since the session locked it may be another run's
   * now: nothing is written into it, nor into its state (a watch session stops at its next
   * pass).
   */
  #checkLock(): void {
    if (this.ctx.lockStillHeld?.() === false) {
      throw new Error(
        `Backup root '${this.ctx.root}' or its state folder '.backup-tool' was removed or ` +
          "replaced during the pass: nothing more was written; check it, then run again",
      );
    }
  }

  /** Makes the staged copies durable: one syncfs for a large batch where trusted. */
  #flushStaged(tmps: string[]): Promise<void> {
    const fs = this.ctx.syncFs;
    return fs?.reportsErrors && tmps.length >= SYNCFS_MIN_FILES ? fs.sync() : syncFiles(tmps);
  }

  #report(a: Action): void {
    this.result.counts[a.type]++;
    if (a.type === "exclude" && a.missing) {
      this.result.excludedMissing = (this.result.excludedMissing ?? 0) + 1;
    }
    if ("content" in a && a.content.entry.kind === "file") {
      this.result.bytesCopied += a.content.entry.size;
    }
    if (a.type === "skip" && a.refresh?.recopied) this.result.bytesCopied += a.refresh.entry.size;
    if (a.type === "skip" && a.refresh?.reread) {
      const reread = this.result.reread ??= { files: 0, bytes: 0 };
      reread.files++;
      reread.bytes += a.refresh.entry.size;
    }
    // A plain skip is counted, not logged, where the caller asked (watch's rescans).
    const quiet = this.opts.quietSkips && a.type === "skip" && !a.refresh?.recopied &&
      a.refresh?.relocatedTo === undefined;
    if (quiet) this.result.unnamedSkips = (this.result.unnamedSkips ?? 0) + 1;
    else for (const line of formatAction(a, this.ctx.rootName)) this.say(line);
    const lost = storedCopyWarning(a, commandHint);
    if (lost) {
      this.result.warnings.push({ path: a.path, message: lost });
      this.say(`WARNING: ${a.path}: ${lost}`);
    }
  }
}

/** Whether an action has steps on disk (journaled first): all but skips that only refresh a row. */
function hasFileSteps(a: Action): boolean {
  return a.type !== "skip" || a.refresh?.recordOnly !== true;
}

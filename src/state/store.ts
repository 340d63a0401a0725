/**
 * The state store: the only code that talks to SQLite, and the one object the engine and
 * restore hold. Its questions (indexed queries, the tracked files page by page) are its
 * base's, StateReads (store_reads.ts); here are its lifecycle and its writes: it applies a
 * batch of actions in one transaction (record.ts), over one connection (connection.ts);
 * its other writes are a session's row (run_writes.ts) and the folders and copies
 * `verify` changes (copy_writes.ts). A batch is journaled first (`writeIntent`), its file
 * steps run, then `commitBatch` records the results and drops the intent atomically; a run
 * that dies between the two leaves the intent for the next run's recovery to finish. On a
 * full disk the run's row, the journal entry, the commit and the session's end are retried
 * once, after the room kept for the state is given up (reserve.ts).
 */
import type { Action, FolderMeta } from "../core/types.ts";
import type { Digest, PlanView } from "../core/plan.ts";
import { StateDb } from "./connection.ts";
import { errorText, isDiskFull } from "../engine/errors.ts";
import type { DigestHolders } from "./digest_filter.ts";
import * as read from "./queries.ts";
import * as copies from "./copy_queries.ts";
import * as stats from "./stats_queries.ts";
import * as runWrites from "./run_writes.ts";
import * as copyWrites from "./copy_writes.ts";
import * as spans from "./folder_spans.ts";
import type { FolderWalk, GoneFolders } from "../core/folder_spans.ts";
import { type BatchContext, BatchRecorder } from "./record.ts";
import { StateReads } from "./store_reads.ts";
import { keepKeptCopiesIndex } from "./stored_copies.ts";

export type { StoredCopy } from "./rows.ts";
export type { BatchContext } from "./record.ts";

/**
 * Folders a restore reads at a time (about 100 bytes each, with their destinations): the
 * folders of a large tree are never all held at once.
 */
const FOLDERS_PAGE = 4096;

export class StateStore extends StateReads {
  /** Answers "who holds this digest?", mostly from memory: see digest_filter.ts. */
  readonly #holders: DigestHolders;
  readonly #recorder: BatchRecorder;
  /** Frees room on a full disk (gives the reserve up, see reserve.ts); true if it did. */
  #freeRoom?: () => boolean;
  /** Whether a failure's text means the disk is full (see `useReserve`). */
  #isFull: (message: string) => boolean = isDiskFull;
  /** Set once the room kept for the state was used: the run stops once it is committed. */
  reserveUsed = false;
  /** The latest time recorded so far (see `recordedTime`); read from the state at first use. */
  #latest?: number;

  private constructor(db: StateDb) {
    super(db);
    this.#holders = read.digestHolders(db);
    this.#recorder = new BatchRecorder(db, this.#holders);
  }

  static open(file: string, opts: { readOnly?: boolean } = {}): StateStore {
    return new StateStore(StateDb.open(file, opts.readOnly ?? false));
  }

  /** A private copy of the state, to change without changing the backup root (see connection.ts). */
  static openPrivateCopy(file: string): StateStore {
    return new StateStore(StateDb.openPrivateCopy(file));
  }

  /** Closes the database, leaving WAL mode first if it writes (see connection.ts). */
  close(): void {
    this.db.close();
  }

  /**
   * Has SQLite overwrite with zeros what later writes free (rows deleted, values made
   * shorter: `secure_delete`), as `purge` needs: what it was asked to be rid of (a
   * symlink's target) must not stay in the file's free space.
   */
  eraseFreedSpace(): void {
    this.db.q("PRAGMA secure_delete = ON").get();
  }

  /** Ends the read transaction a run keeps between its writes (see connection.ts). */
  endRead(): void {
    this.db.endRead();
  }

  /**
   * Leaves the database open until the process ends, never closed: for a backup root
   * removed or replaced meanwhile, whose paths now name another run's files (see
   * `StateDb.abandon`).
   */
  abandon(): void {
    this.db.abandon();
  }

  /**
   * Makes the index of kept copies by digest where it is missing (stored_copies.ts): for a
   * run or watch session on a backup root that can share disk blocks, at its start. Not in
   * the room kept for the state (it is for the batches' results): on a full disk the
   * session goes on without it (its lookups then ask for current copies only), and the
   * next one makes it.
   */
  keepKeptCopiesIndex(): void {
    try {
      keepKeptCopiesIndex(this.db);
    } catch (e) {
      if (!this.#isFull(errorText(e))) throw e;
    }
  }

  // --- runs and sources ---

  /**
   * The time to record for a moment happening now: the clock's, but never earlier than a
   * time already recorded. A clock set back (a dead clock battery, a wrong manual setting)
   * would otherwise record history out of order, and `restore --at` could no longer reach
   * what an earlier run saw. The times then stand for the order of events, not the hour:
   * each a millisecond after the last.
   */
  recordedTime(now = Date.now()): number {
    this.#latest = Math.max(now, (this.#latest ?? read.latestRecordedTime(this.db)) + 1);
    return this.#latest;
  }

  /**
   * Starts a run: records the sources and the run in one transaction (one flush to disk,
   * not two); returns each source's storage prefix (see `assignPrefixes`) and the run's id.
   */
  beginRun(
    command: string,
    sources: { name: string; path: string }[],
    now: number,
  ): { prefixes: Map<string, string>; runId: number } {
    return this.#evenWhenFull(() =>
      this.db.tx(() => runWrites.insertRun(this.db, command, sources, now))
    );
  }

  /**
   * Records the sources of a watch's config reloaded (those it adds get their storage
   * prefix, a source moved its new folder), as `beginRun` records a run's, in one
   * transaction; returns each source's prefix (the known ones too).
   */
  addSources(sources: { name: string; path: string }[], now: number): Map<string, string> {
    return this.db.tx(() => runWrites.registerSources(this.db, sources, now));
  }

  /**
   * Ends a run; one that ends short (stopped, failed) after a commit keeps saying so. In the
   * room kept for the state where the disk is full (`#evenWhenFull`), as a commit: a session
   * whose end is not recorded shows as interrupted, and a watch's exits 1 if it had problems.
   */
  finishRun(id: number, status: string, summary: unknown, now: number): void {
    this.#evenWhenFull(() => runWrites.finishRun(this.db, id, status, summary, now));
  }

  /** The planner's view: indexed queries over the stored copies and tracked hashes. */
  planView(): PlanView {
    return read.planView(this.db, this.#holders);
  }

  /** Contents tracked files hold as duplicates only, with no original (see queries.ts). */
  orphanedDigests(): Digest[] {
    return read.orphanedDigests(this.db);
  }

  /** What SQLite's integrity check finds wrong in the state (see queries.ts); none if whole. */
  integrityProblems(max: number): string[] {
    return read.integrityProblems(this.db, max);
  }

  // --- the intents journal and commits ---

  /**
   * How to free room when the disk is full (see reserve.ts), and how to tell a failure's
   * text means it is (`diskFullAt`: SQLite's "unable to open" too, on a disk out of room).
   */
  useReserve(freeRoom: () => boolean, isFull: (message: string) => boolean = isDiskFull): void {
    this.#freeRoom = freeRoom;
    this.#isFull = isFull;
  }

  /** Runs a write; on a full disk, once, frees the room kept for the state and retries. */
  #evenWhenFull<T>(write: (retry: boolean) => T): T {
    try {
      return write(false);
    } catch (e) {
      if (!this.#isFull(errorText(e)) || this.reserveUsed || !this.#freeRoom?.()) throw e;
      this.reserveUsed = true;
      return write(true);
    }
  }

  /**
   * A watch session's first full pass is done: from now on its backup is whole (it goes on
   * file by file), whatever ends the session (see `cutRuns`). In the room kept for the state
   * where the disk is full, as a commit: the next pass then stops at its first commit.
   */
  markFollowing(runId: number): void {
    this.#evenWhenFull(() => runWrites.markFollowing(this.db, runId));
  }

  /** See run_writes.ts `markFullPassAt`. */
  markFullPassAt(runId: number, at: number): void {
    runWrites.markFullPassAt(this.db, runId, at);
  }

  /** Journals a batch before its file steps; returns the intent id. */
  writeIntent(runId: number, actions: Action[], now: number): number {
    const r = this.#evenWhenFull(() =>
      this.db.q("INSERT INTO intents (run_id, created_at, actions) VALUES (?, ?, ?)")
        .run(runId, now, JSON.stringify(actions))
    );
    return Number(r.lastInsertRowid);
  }

  pendingIntents(): read.PendingIntent[] {
    return read.pendingIntents(this.db);
  }

  /**
   * Records the results of one or more batches and drops their intents, in one transaction,
   * with the folders' metadata and the spans they end (`recordFolders`) where given.
   */
  commitBatch(
    actions: Action[],
    ctx: BatchContext,
    intentIds: number[] = [],
    folders?: FolderWalk,
  ): void {
    // Not in the room kept (`#evenWhenFull`): it is for the batches' results, and a large
    // walk's folders (a row each, megabytes of them) did not fit beside them there. The run
    // stops as full after this commit; the next full walk records them.
    this.#evenWhenFull((retry) =>
      this.db.tx(() => {
        if (folders && !retry) {
          copyWrites.upsertFolders(this.db, folders.seen, ctx.time, folders.gone);
        }
        for (const a of actions) this.#recorder.record(a, ctx);
        for (const id of intentIds) this.db.q("DELETE FROM intents WHERE id = ?").run(id);
        // In the same transaction: a session cut short later is known to have recorded
        // part of its work (see `cutRuns`).
        if (actions.length > 0) runWrites.markCommitted(this.db, ctx.runId);
      })
    );
  }

  /**
   * The distinct file contents stored at or below `targets` (none: all), their bytes, and
   * the copies of files holding them.
   */
  distinctContents(
    targets: readonly string[],
  ): { contents: number; bytes: number; copies: number } {
    return stats.distinctContents(this.db, targets);
  }

  // --- folders ---

  /**
   * Records the folders' metadata a walk saw, in one transaction, with the spans that begin
   * at `time` (the pass's recorded time), and ends those of the folders `gone` calls gone
   * (folder_spans.ts); a row that holds the same already is not rewritten.
   */
  recordFolders(folders: ReadonlyMap<string, FolderMeta>, time = 0, gone?: GoneFolders): void {
    if (folders.size === 0 && gone === undefined) return;
    this.db.tx(() => copyWrites.upsertFolders(this.db, folders, time, gone));
  }

  /**
   * The folders below a logical path ("" everything) that stood at the moment `at`
   * (undefined: now), in path order, a page of `limit` after `after` (folder_spans.ts).
   */
  foldersStanding(under: string, at?: number, after = "", limit = FOLDERS_PAGE): string[] {
    return spans.foldersStanding(this.db, under, at, after, limit);
  }

  /** The folders recorded at or below a logical path, each with whether it stands now. */
  folderRecordsAt(at: string): { path: string; standing: boolean }[] {
    return spans.folderRecordsAt(this.db, at);
  }

  /** Forgets the folders at `paths`, every span of theirs, in one transaction (purge). */
  forgetFolders(paths: readonly string[]): void {
    if (paths.length > 0) this.db.tx(() => spans.forgetFolders(this.db, paths));
  }

  /** Every span of the folder at a logical path, oldest first (folder_spans.ts). */
  folderSpans(path: string): spans.FolderSpan[] {
    return spans.folderSpans(this.db, path);
  }

  /** Whether the folder at a logical path stood at the moment `at` (undefined: now). */
  folderStood(path: string, at?: number): boolean {
    return spans.folderStood(this.db, path, at);
  }

  /** A folder's recorded metadata (none: never walked, or a state from before schema 4). */
  folderMeta(path: string): FolderMeta | undefined {
    this.#hasFolders ??= read.hasTable(this.db, "folders");
    return this.#hasFolders ? copies.folderMeta(this.db, path) : undefined;
  }
  /** Whether the state has the folders table (schema 4 on): asked once. */
  #hasFolders?: boolean;

  /** The current copies of files still backed up holding `digests`, by digest. */
  currentHolders(digests: readonly string[]): Map<string, { path: string; storedAt: string }[]> {
    return copies.currentHolders(this.db, digests);
  }

  /** Records that a copy now lives at another storage path (made again there by repair). */
  recordStoredAt(copyId: number, storedAt: string): void {
    copyWrites.recordStoredAt(this.db, copyId, storedAt);
  }

  /**
   * Records old copies found missing from the backup root as lost (`verify
   * --forget-missing`), at `time`, in one transaction: as a run records a copy it finds
   * missing, but keeping when each stopped being current. A copy recorded elsewhere since
   * verify looked (a run moved it) is left as it is.
   */
  forgetMissing(found: { id: number; storedAt: string }[], time: number): void {
    this.db.tx(() => copyWrites.recordLost(this.db, found, time));
  }

  /** Marks purged the records of copies gone already (see copy_writes.ts), in one transaction. */
  recordPurged(ids: readonly number[], time: number): void {
    this.db.tx(() => copyWrites.recordPurged(this.db, ids, time));
  }
}

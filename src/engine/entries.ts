/**
 * Handles scanned entries one at a time for a pass: an entry whose fingerprint matches is
 * planned as a skip without being read; any other is read, hashed and (unless planning
 * only) staged as a temporary copy, then planned; an entry the staging worker has read
 * already (`handleStaged`) is only planned. The actions go into the pass's batch, which
 * is applied whenever it is full, or once a stop signal came. An interruption leaves at
 * most staged temporary copies, which the next run removes.
 */
import { join } from "node:path";
import type { Batch } from "./batch.ts";
import { errorText } from "./errors.ts";
import { openSource } from "./fs/source_file.ts";
import { StoppedError, turnEvery, turnTaker } from "./event_turn.ts";
import {
  copyState,
  isStoredCopy,
  nativePath,
  removeQuietly,
  storedEntry,
  vanishedFrom,
} from "./fs/fsops.ts";
import { mayShareAt, worthSharing } from "./fs/share_extents.ts";
import { needsHash, type PlanInput, type Planner, type PlanOptions } from "../core/plan.ts";
import type { PassContext, PassOptions, Progress, Unread } from "./pass_types.ts";
import { relPath } from "./rel_path.ts";
import {
  GrownLargeError,
  hashCopyAs,
  KeptChangingError,
  NotAFileError,
  READ_BUFFER_BYTES,
  stageEntryHeard,
} from "./stage.ts";
import { copyOfOtherContent, readsAsOtherContent } from "./copy_check.ts";
import { digestsLoaded, loadDigests } from "./digest.ts";
import type { Fingerprint, ScanEntry, TrackedFile } from "../core/types.ts";
import { type Held, ReadAhead, type ReadAheadResult } from "./read_ahead.ts";
import type { StagedEntry, StagingWalk } from "./scan/staging.ts";

/** Why a file read on the staging worker was not read, where that is not a failure. */
function unreadOf(item: { vanished?: boolean; changing?: boolean }): Unread | undefined {
  return item.vanished ? "vanished" : item.changing ? "changing" : undefined;
}

/** Why a file read on this thread was not read, where that is not a failure. */
function unreadFrom(e: unknown, abs: string): Unread | undefined {
  if (e instanceof KeptChangingError) return "changing";
  return vanishedFrom(e, abs, openSource) ? "vanished" : undefined;
}

/** Numbers temporary copies uniquely across the passes of one process (a watch session). */
let tmpCounter = 0;

export class EntryHandler {
  readonly #buf = new Uint8Array(READ_BUFFER_BYTES);
  /** Backup root folders seen to be real on the way to copies (see `#storedCopy`). */
  readonly #realFolders = new Set<string>();
  readonly #progress: Progress = {
    filesDone: 0,
    filesTotal: 0,
    bytesDone: 0,
    bytesTotal: 0,
    current: "",
  };

  constructor(
    readonly ctx: PassContext,
    readonly opts: PassOptions,
    readonly planOpts: PlanOptions,
    readonly planner: Planner,
    readonly batch: Batch,
    /** Reports a file that could not be read, and why where that is not a failure. */
    readonly fail: (path: string, message: string, how?: Unread) => void,
    /** Says a file grown over exclude_larger_than since the walk, left out (stage.ts). */
    readonly large: (path: string, size: number) => void = () => {},
  ) {}

  /** A prefix for the staging worker's temporary file names, unique in this process. */
  tmpPrefix(): string {
    return `${this.ctx.runId}-w${++tmpCounter}`;
  }

  /** Whether the entry must be read (its fingerprint does not vouch for its content). */
  mustRead(entry: ScanEntry, known: Fingerprint | undefined): boolean {
    return needsHash(entry, known, this.planOpts);
  }

  /** Counts an entry that will be handled later, so progress shows the work ahead. */
  expect(entry: ScanEntry, toRead: boolean): void {
    this.#progress.filesTotal++;
    if (toRead) this.#progress.bytesTotal += entry.size;
  }

  /**
   * Plans an entry (reading it if needed) and applies the batch when it is full. Returns
   * false when the pass is being stopped: everything planned so far is applied.
   */
  async handle(entry: ScanEntry, known: Fingerprint | undefined, expected = false) {
    const toRead = this.mustRead(entry, known);
    if (!expected) this.expect(entry, toRead);
    this.#report(entry, toRead);
    if (!toRead) this.batch.add(this.planner.planEntry({ entry }));
    else {
      if (!digestsLoaded()) await loadDigests();
      await this.#readAndPlan(entry, known);
    }
    return await this.#applyIfDue();
  }

  #report(entry: ScanEntry, toRead: boolean): void {
    const p = this.#progress;
    p.filesDone++;
    p.current = entry.path;
    if (toRead) p.bytesDone += entry.size;
    this.opts.onProgress?.(p);
  }

  /**
   * Plans an entry the staging worker has read (an untracked one: see staging.ts), as
   * `handle` would have; false when the pass is being stopped.
   */
  async handleStaged(item: StagedEntry) {
    const { entry, hash, tmp, error } = item;
    this.expect(entry, true);
    this.#report(entry, true);
    try {
      if (item.large !== undefined) {
        removeQuietly(tmp);
        this.large(entry.path, item.large);
        return await this.#applyIfDue();
      }
      if (error !== undefined || hash === undefined) throw new Error(error ?? "not read");
      this.#plan({ entry, hashed: { entry, hash, tmp } }, tmp);
    } catch (e) {
      removeQuietly(tmp);
      this.fail(entry.path, errorText(e), unreadOf(item));
    }
    return await this.#applyIfDue();
  }

  /**
   * Applies what the batch holds, as a stop signal does at the next entry: for a wait on the
   * worker that heard the signal first (staging.ts `each`, read_ahead.ts). Returns false.
   */
  async applyStopped(): Promise<false> {
    await this.batch.flush();
    return false;
  }

  /** Applies the batch when it is full or a stop signal came; false when being stopped. */
  async #applyIfDue(): Promise<boolean> {
    if (!this.batch.full() && !this.opts.signal?.aborted) return true;
    await this.batch.flush();
    // A pass of synchronous reads (a re-hash, a run with nothing to flush) would otherwise
    // never let the event loop deliver a stop signal.
    await this.#turn();
    return !this.opts.signal?.aborted;
  }

  readonly #turn = turnEvery();

  /** A new temporary copy's name, unique in this process. */
  #newTmp(): string {
    return join(this.ctx.tmpDir, `${this.ctx.runId}-${++tmpCounter}.tmp`);
  }

  /** Starts reading the held entries ahead on `reader` (read_ahead.ts). */
  readAhead(held: Held[], reader: StagingWalk): ReadAhead {
    const { hashAlgorithm, excludeLargerThan } = this.ctx.config;
    return new ReadAhead(reader, hashAlgorithm, held, (h) => this.#tmpFor(h), excludeLargerThan);
  }

  /**
   * Plans the entries read ahead, in order, as `handle` plans held ones; false when the
   * pass is being stopped.
   */
  async handleReadAhead(ahead: ReadAhead): Promise<boolean> {
    const algo = this.ctx.config.hashAlgorithm;
    for await (const group of ahead.groups(this.opts.signal)) {
      for (const r of group) {
        this.#report(r.held.entry, true);
        // This thread reads too after an algorithm change (the stored copy's digest), or
        // where a probed file's content differs after all.
        if (!digestsLoaded() && r.held.known && r.held.known.algo !== algo) await loadDigests();
        if (!this.#planReadAhead(r)) {
          if (!digestsLoaded()) await loadDigests();
          await this.#readAndPlan(r.held.entry, r.held.known);
        }
        if (!await this.#applyIfDue()) return false;
      }
    }
    return this.opts.signal?.aborted ? await this.applyStopped() : true;
  }

  /**
   * The temporary name to stage a held entry as: none for one only hashed, as `#read`
   * decides (one whose size and mtime are as recorded most likely has its old content).
   */
  #tmpFor({ entry, known }: Held): string | undefined {
    if (this.opts.dryRun) return undefined;
    return likelyUnchanged(known, entry, this.ctx.config.hashAlgorithm)
      ? undefined
      : this.#newTmp();
  }

  /**
   * Plans an entry the worker read, as `#readAndPlan` would have; false for one only hashed
   * whose content differs after all (the caller reads it again, staging it).
   */
  #planReadAhead({ held: { entry, known }, tmp, staged }: ReadAheadResult): boolean {
    try {
      if (staged.large !== undefined) {
        this.large(entry.path, staged.large);
        return true;
      }
      if (staged.error !== undefined || staged.hash === undefined) {
        this.fail(entry.path, staged.error ?? "not read", unreadOf(staged));
        return true;
      }
      const t = known && this.ctx.store?.trackedOne(entry.path);
      if (tmp === undefined && !this.opts.dryRun && t?.hash !== staged.hash) return false;
      const hashed = { entry: staged.entry, hash: staged.hash, tmp: staged.tmp };
      const input: PlanInput = { entry: staged.entry, tracked: t, hashed };
      if (t) Object.assign(input, this.#storedCopy(t, staged.entry, staged.hash));
      this.#plan(input, staged.tmp);
    } catch (e) {
      removeQuietly(staged.tmp);
      this.fail(entry.path, errorText(e), unreadFrom(e, entry.abs));
    }
    return true;
  }

  /** Reads and plans an entry; a stop signal heard during its read gives it up unsaid. */
  async #readAndPlan(entry: ScanEntry, known: Fingerprint | undefined): Promise<void> {
    const { ctx, opts } = this;
    const tmp = opts.dryRun ? undefined : this.#newTmp();
    try {
      const t = known && ctx.store?.trackedOne(entry.path);
      this.#plan(await this.#read(entry, t, tmp), tmp);
    } catch (e) {
      removeQuietly(tmp);
      if (e instanceof GrownLargeError) this.large(entry.path, e.size);
      else if (!(e instanceof StoppedError)) {
        this.fail(entry.path, errorText(e), unreadFrom(e, entry.abs));
      }
    }
  }

  /** Plans a read entry; `tmp` is where its copy was staged (absolute), if it was. */
  #plan(input: PlanInput, tmp: string | undefined): void {
    // The journal records the staged copy relative to the backup root, so recovery
    // finds it even when the disk comes back at another mount point.
    if (input.hashed?.tmp) input.hashed.tmp = relPath(this.ctx.root, input.hashed.tmp);
    const action = this.planner.planEntry(input);
    const staged = input.hashed?.tmp && tmp;
    if (staged && action.type === "skip") removeQuietly(staged); // same content after all
    // Only regular files are flushed; a staged symlink has no data to sync.
    const toSync = action.type !== "skip" && input.entry.kind === "file" ? staged : undefined;
    // Only where the root's file system shares blocks and `share_blocks` lets it: elsewhere
    // no lookup is made.
    const worth = toSync !== undefined && this.ctx.config.shareBlocks &&
      worthSharing(input.entry.size) && mayShareAt(this.ctx.root);
    let shareWith: string | string[] | undefined;
    if (worth && action.type === "duplicate") {
      shareWith = this.planner.copyOf(action.content.hash, action.original);
    } else if (worth && (action.type === "backup" || action.type === "modified")) {
      // A moved, renamed, reverted or recreated file's content may be stored already.
      shareWith = this.planner.storedCopiesOf(action.content.hash);
    }
    this.batch.add(action, toSync, input.entry.size, shareWith);
  }

  /**
   * Reads an entry for the planner. A tracked file of unchanged size and mtime (a chmod, a
   * move within the source's file system, an untrusted fingerprint) most likely has its old
   * content: it is hashed first without a copy, and copied only if its digest differs, so
   * an unchanged file costs no write. Everything else, modified files included, is hashed
   * and copied in one pass (a touch with unchanged content then costs a copy that is
   * thrown away, which is rarer than a real modification).
   */
  async #read(
    entry: ScanEntry,
    t: TrackedFile | undefined,
    tmp: string | undefined,
  ): Promise<PlanInput> {
    const algo = this.ctx.config.hashAlgorithm;
    // A large file's read gives the event loop turns: a stop signal is heard mid-file.
    const turn = turnTaker(this.opts.signal);
    const limit = this.ctx.config.excludeLargerThan;
    if (likelyUnchanged(t, entry, algo)) {
      const probe = await stageEntryHeard(entry, algo, this.#buf, undefined, turn, limit);
      if (probe.hash === t.hash || !tmp) return { entry: probe.entry, tracked: t, hashed: probe };
    }
    const staged = await stageEntryHeard(entry, algo, this.#buf, tmp, turn, limit);
    const input: PlanInput = { entry: staged.entry, tracked: t, hashed: staged };
    if (t) Object.assign(input, this.#storedCopy(t, staged.entry, staged.hash));
    return input;
  }

  /**
   * What the planner needs to know of a tracked file's stored copy, read as `entry` (digest
   * `hash`): after an algorithm change, its digest under the new one (`#storedDigest`);
   * else, when the content changed, whether the copy its archive would move holds other
   * bytes than the state records for it (copy_check.ts): archived all the same (the new
   * content is backed up), but said, never recorded as that version unsaid. A plan reads no
   * copies for this; a missing copy is the archive's to say.
   */
  #storedCopy(
    t: TrackedFile,
    entry: ScanEntry,
    hash: string,
  ): Pick<PlanInput, "storedHash" | "storedDamaged" | "copyFound"> {
    if (t.algo !== this.ctx.config.hashAlgorithm) return this.#storedDigest(t, entry);
    if (t.hash === hash || this.opts.dryRun || t.kind !== "file") return {};
    if (this.#realFolders.size >= 65536) this.#realFolders.clear();
    const copy = storedEntry(this.ctx.root, t.storedAt, this.#realFolders);
    // What the planner would look for there again (a file's copy in its place, or not).
    const copyFound = { storedAt: t.storedAt, state: copyState(copy, "file") };
    if (!isStoredCopy(copy)) return { copyFound };
    const at = nativePath(this.ctx.root, t.storedAt);
    const other = copyOfOtherContent(copy, t) ?? readsAsOtherContent(at, t, this.#buf);
    return other ? { storedDamaged: true, copyFound } : { copyFound };
  }

  /**
   * After an algorithm change, the recorded content's digest under the new algorithm, read
   * from its stored copy when that copy still holds it (its digest under the old algorithm
   * is the recorded one). A copy found missing or damaged is reported as such, and then
   * the source decides: if it still holds the recorded content, that is the digest (the
   * file is unchanged: a missing copy is copied again, a damaged one is warned about);
   * otherwise there is none (the file changed).
   */
  #storedDigest(t: TrackedFile, entry: ScanEntry): Pick<PlanInput, "storedHash" | "storedDamaged"> {
    const algos = [t.algo, this.ctx.config.hashAlgorithm];
    let stored: string[] | undefined;
    try {
      stored = hashCopyAs(nativePath(this.ctx.root, t.storedAt), t.kind, algos, this.#buf);
    } catch (e) {
      // Missing, or a symlink or FIFO put in its place (never followed, nor read): no copy
      // of ours there.
      const none = e instanceof Deno.errors.NotFound ||
        e instanceof Deno.errors.FilesystemLoop || e instanceof NotAFileError;
      if (!none) throw e;
    }
    if (stored?.[0] === t.hash) return { storedHash: stored[1] };
    const source = t.kind === entry.kind ? hashCopyAs(entry.abs, entry.kind, algos, this.#buf) : [];
    return {
      storedHash: source[0] === t.hash ? source[1] : undefined,
      storedDamaged: stored !== undefined,
    };
  }
}

/**
 * Whether a file read again most likely holds its recorded content: the same kind, size
 * and mtime, recorded under the configured algorithm (a chmod, a move within the source's
 * file system, an untrusted fingerprint). Such a file is hashed before it is copied.
 */
function likelyUnchanged(
  recorded: Pick<Fingerprint, "algo" | "kind" | "size" | "mtimeMs"> | undefined,
  entry: ScanEntry,
  algo: string,
): recorded is Pick<Fingerprint, "algo" | "kind" | "size" | "mtimeMs"> {
  return recorded?.algo === algo && recorded.kind === entry.kind &&
    recorded.size === entry.size && recorded.mtimeMs === entry.mtimeMs;
}

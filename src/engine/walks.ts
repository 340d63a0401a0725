/**
 * A pass's walks of the sources (pass.ts runs them). The first walk is merged page by page
 * with the state's fingerprints (both in the same order): an unchanged entry is a SKIP on
 * the spot, a new or changed one waits, and a tracked path the walk did not see has
 * vanished. Once PENDING_LIMIT entries wait, the rest of the first walk only looks for
 * vanished paths and a second walk, starting after the last entry held, does the rest, in
 * segments that hold their changed entries alike (so that they can be read ahead:
 * read_ahead.ts).
 * Where nothing is tracked in scope (a first backup), entries are handled as the walk
 * finds them; past STAGING_AFTER of them the staging worker is spawned, and once it is
 * ready it walks and stages the rest on a second core; over many tracked files, the walk is split at a tracked path: this
 * thread walks up to it while the walk worker walks what comes after it (staging.ts).
 * Whichever thread walks, the entries and what the scan reports reach the pass in walk
 * order. Reads only: what a walk's entries lead to is the batch's to write.
 */
import type { PassReport } from "./pass_report.ts";
import type { FolderMetaRecorder } from "../core/folder_meta.ts";
import type { EntryHandler } from "./entries.ts";
import { compareCodePoints, pagedRows, prefixRanges, RowCursor } from "../core/merge.ts";
import type { PassContext, PassOptions, PassResult } from "./pass_types.ts";
import { scanEntries, type ScanOptions } from "./scan/scan.ts";
import { sourceClashes } from "./session/source_clash.ts";
import { spawnStaging, type StagedEntry, type StagingWalk } from "./scan/staging.ts";
import type { Fingerprint, ScanEntry } from "../core/types.ts";
import { ownStrings } from "./scan/walk_chunk.ts";
import type { Held } from "./read_ahead.ts";
import type { Identity } from "./fs/folders.ts";
import type { VanishedPath } from "./vanished.ts";
import { openFilesLimit } from "./fs/flush.ts";
import { exactIdentity } from "./fs/identity.ts";

/**
 * New or changed entries held back by the first walk until deletions are planned (about
 * 400 bytes each with their fingerprints, so at most about 10 MB). Beyond it, the rest of
 * the tree is handled by a second walk.
 */
const PENDING_LIMIT = 25_000;
/**
 * Entries a segment of the second walk holds at most. Those are held only to be read
 * ahead (read_ahead.ts reads 512 ahead), so a segment is kept small: 25,000 held at once
 * cost 40 MB more peak memory in a run that read 78,000 files again; a new segment costs
 * only a new start of the walk and of the state's cursor.
 */
const SEGMENT_LIMIT = 4096;
/**
 * With nothing tracked in scope, the staging worker is spawned after this many entries, and
 * this thread walks on until it is ready (modules and hash loaded, about 100 ms). A worker
 * costs this thread about 40 ms to spawn and the process about 12 MiB: a first backup of
 * 400 small files took 0.40 s instead of 0.35 s with it. Handed over after 1,024 entries,
 * as before, the worker took over a 20,000-file walk some 300 ms later (a sampler of each
 * thread's CPU), and the run took 0.1-0.2 s longer (medians of 8 alternated runs, about
 * 3.3 s; the machine noisy).
 */
const STAGING_AFTER = 128;
/**
 * A full pass over at least this many tracked files splits its walk with the walk worker
 * (staging.ts). Spawning a worker holds this thread for about 40 ms (Deno 2.9, measured
 * here), and the worker saves about 2 µs a file: a no-change run over 100,000 files took
 * 1.14 s instead of 1.32 s, one over 20,000 files 0.53 s instead of 0.51 s (medians of 8,
 * alternated).
 */
const WALKER_MIN_TRACKED = 50_000;
/**
 * The share of the tracked paths this thread walks itself while the worker walks the rest:
 * lstat costs the worker about 7.5 µs an entry on a busy machine and this thread about 3.5
 * µs more an entry to merge and log it, so the two finish together when this thread walks
 * (7.5 - 3.5) / (2 × 7.5), about a quarter. At most WALKER_SPLIT_MAX entries, which the
 * worker walks past meanwhile and holds (see WALK_CREDITS, staging.ts).
 */
const WALKER_SPLIT_SHARE = 0.25;
const WALKER_SPLIT_MAX = 25_000;
/** Open files the process may have, at least, for the walk worker (see `#split`). */
const WALKER_MIN_OPEN_FILES = 256;

/** What the first walk leaves for after the deletions. */
export interface FirstWalk {
  /** New and changed entries, in order, with the fingerprints the state has for them. */
  pending: { entry: ScanEntry; known?: Fingerprint }[];
  /** Tracked paths the walk did not see (outside scope or below unreadable folders too). */
  vanished: VanishedPath[];
  unreadable: string[];
  /**
   * The folders whose contents the walks left out (left_out.ts), by this thread's walk and
   * the worker's: the tracked paths below them not seen are excluded, not gone.
   */
  leftOut: Set<string>;
  /**
   * The files the walks left out for their size (`exclude_larger_than`): tracked, they are
   * excluded, not gone.
   */
  leftLarge: Set<string>;
  /** Set when `pending` filled up: the last path held, after which the second walk starts. */
  resumeAfter?: string;
  /** The pass is being stopped. */
  stopped?: boolean;
  /** The walk worker, its walk done, kept to read the held entries (read_ahead.ts). */
  reader?: StagingWalk;
}

/** What the walks need of their pass. */
interface WalkHost {
  readonly ctx: PassContext;
  readonly opts: PassOptions;
  /** The logical paths the pass covers. */
  readonly scoped: string[];
  readonly handler: EntryHandler;
  readonly result: PassResult;
  readonly folders: FolderMetaRecorder;
  /** What the pass says of its files: lines, problems, files left out for their size. */
  readonly report: Pick<PassReport, "say" | "problem" | "large">;
}

export class PassWalks {
  /** The sources not walked in this pass, and why (see source_clash.ts): looked at once. */
  #clashes?: Map<string, string>;
  /** The folders whose contents the walks left out (logical paths). */
  readonly #leftOut = new Set<string>();
  /** The files the walks left out for their size (logical paths). */
  readonly #leftLarge = new Set<string>();

  constructor(readonly host: WalkHost) {}

  /**
   * The first walk, merged with the fingerprints: unchanged entries are skips on the spot,
   * new and changed ones wait (or, with nothing tracked in scope, nothing can vanish and
   * they are handled at once), and the tracked paths not seen have vanished. Over many
   * tracked files, the walk worker walks the part after the split meanwhile.
   */
  async firstWalk(): Promise<FirstWalk> {
    const walk: FirstWalk = {
      pending: [],
      vanished: [],
      unreadable: [],
      leftOut: this.#leftOut,
      leftLarge: this.#leftLarge,
    };
    const cursor = this.#fingerprints("", (f) => {
      walk.vanished.push({ path: f.path, status: f.status });
    });
    if (cursor.exhausted()) return await this.#untrackedWalk(walk);
    const limit = this.host.opts.pendingLimit ?? PENDING_LIMIT;
    // After `resumeAfter`, problems are left for the second walk to report.
    const later = (path: string) =>
      walk.resumeAfter !== undefined && compareCodePoints(path, walk.resumeAfter) > 0;
    const take = async (entry: ScanEntry): Promise<boolean> => {
      const known = cursor.seek(entry.path);
      if (walk.resumeAfter !== undefined) return true; // only looking for vanished paths now
      const toRead = this.host.handler.mustRead(entry, known);
      if (!toRead) return await this.host.handler.handle(entry, known);
      // Its own strings: an entry from the walk worker's chunk would keep the chunk.
      const held = ownStrings(entry);
      walk.pending.push({ entry: held, known });
      this.host.handler.expect(entry, toRead);
      // The last one held: the second walk starts right after it, so that nothing this walk
      // reported before it (a FIFO sorting just after it, met before the next entry) is
      // reported twice.
      if (walk.pending.length >= limit) walk.resumeAfter = held.path;
      return true;
    };
    const scan = this.#scanOptions(later);
    const split = this.#split();
    try {
      // The worker walks what comes after the split as soon as it has loaded, and holds it
      // while this thread walks up to the split.
      if (split) split.walker.start({ ...this.#job(scan, split.at), walkOnly: true });
      const here = await this.#walkHere({ ...scan, until: split?.at }, walk.unreadable, take);
      if (here.stopped) return { ...walk, stopped: true };
      if (split) {
        if (!await split.walker.each(scan, (item) => take(item.entry), this.host.opts.signal)) {
          await this.host.handler.applyStopped();
          return { ...walk, stopped: true };
        }
        for (const path of split.walker.unreadable) walk.unreadable.push(path);
        // Idle now, and loaded: it reads the held entries while this thread plans them.
        if (walk.pending.length > 0 && this.host.opts.readAhead !== false) {
          walk.reader = split.walker;
        }
      }
    } finally {
      if (walk.reader !== split?.walker) split?.walker.close();
    }
    cursor.finish();
    return walk;
  }

  /**
   * For a full pass over at least WALKER_MIN_TRACKED tracked files (or where a test sets
   * it), where the walk is split: this thread walks up to and including the tracked path
   * `at`, and the walk worker, spawned now, everything after it.
   */
  #split(): { walker: StagingWalk; at: string } | undefined {
    const { opts, ctx } = this.host;
    if (opts.scope !== undefined || !ctx.store) return undefined;
    let share = opts.walkerSplit;
    if (share === undefined) {
      // A worker thread holds descriptors of its own (about six): under a low limit they are
      // left for the folders of a deep tree.
      if (openFilesLimit() < WALKER_MIN_OPEN_FILES) return undefined;
      const tracked = ctx.store.trackedEstimate();
      if (tracked < WALKER_MIN_TRACKED) return undefined;
      share = Math.min(Math.floor(tracked * WALKER_SPLIT_SHARE), WALKER_SPLIT_MAX);
    }
    const at = share === 0 ? "" : ctx.store.trackedPathAt(share - 1);
    if (at === undefined) return undefined;
    const walker = spawnStaging(); // none where no thread can be made: this one walks all
    return walker && { walker, at };
  }

  /**
   * Walks on this thread, each entry given to `take`, until `handOver(count)` says the worker
   * takes over after the `count` entries walked: then returns the last one's path.
   */
  async #walkHere(
    scan: ScanOptions,
    unreadable: string[],
    take: (entry: ScanEntry) => Promise<boolean>,
    handOver: (count: number) => boolean = () => false,
  ): Promise<{ stopped?: true; ended?: true; after?: string }> {
    if (handOver(0)) return { after: scan.after };
    let count = 0;
    // Stops right after the last entry taken here, before the walk reports anything beyond
    // it (the worker reports that).
    for (const entry of scanEntries(this.host.ctx.config.sources, scan, unreadable)) {
      if (!await take(entry)) return { stopped: true };
      if (handOver(++count)) return { after: entry.path };
    }
    return { ended: true };
  }

  /** The worker's job: the rest of the walk, after `after`. */
  #job(scan: ScanOptions, after: string | undefined) {
    return {
      sources: this.host.ctx.config.sources,
      scan: { ...scan, after },
      algo: this.host.ctx.config.hashAlgorithm,
      tmpDir: this.host.opts.dryRun ? undefined : this.host.ctx.tmpDir,
      tmpPrefix: this.host.handler.tmpPrefix(),
    };
  }

  /**
   * The first walk when nothing is tracked in scope (a first backup): nothing can have
   * vanished, so entries are handled as they come; after STAGING_AFTER of them, the staging
   * worker is spawned, and walks the rest and reads it on a second core once it is ready.
   * This thread walks on meanwhile, unless a test set the hand-over point, which is then
   * kept exactly.
   */
  async #untrackedWalk(walk: FirstWalk): Promise<FirstWalk> {
    const scan = this.#scanOptions(() => false);
    const take = (entry: ScanEntry) => this.host.handler.handle(entry, undefined);
    const exact = this.host.opts.stagingAfter;
    const limit = exact ?? STAGING_AFTER;
    let here = await this.#walkHere(scan, walk.unreadable, take, (count) => count === limit);
    if (here.stopped) return { ...walk, stopped: true };
    if (here.ended) return walk;
    const staging = spawnStaging();
    if (staging === undefined) {
      // No thread to be had: the rest is walked and read here, as a small backup is.
      const rest = { ...scan, after: here.after };
      const there = await this.#walkHere(rest, walk.unreadable, take);
      return there.stopped ? { ...walk, stopped: true } : walk;
    }
    try {
      staging.prepare();
      if (exact !== undefined) await staging.whenPrepared();
      else {
        const rest = { ...scan, after: here.after };
        here = await this.#walkHere(rest, walk.unreadable, take, () => staging.prepared);
        if (here.stopped) return { ...walk, stopped: true };
        if (here.ended) return walk;
      }
      staging.start(this.#job(scan, here.after));
      const handle = (item: StagedEntry) => this.host.handler.handleStaged(item);
      if (!await staging.each(scan, handle, this.host.opts.signal)) {
        await this.host.handler.applyStopped();
        return { ...walk, stopped: true };
      }
      // A loop, not push(...): past some 125,000 folders that cannot be listed (names not
      // valid UTF-8, no permission) a spread overflowed the stack and failed the run.
      for (const path of staging.unreadable) walk.unreadable.push(path);
      return walk;
    } finally {
      staging.close();
    }
  }

  /**
   * Handles every entry after `after`, in segments walked as the first walk was: an
   * unchanged entry is a SKIP on the spot, the others are held (up to the same limit) and
   * then given to `handleHeld`, and the next segment starts right after the last one
   * held. (Held, they can be read ahead on a second core: read_ahead.ts.) False when the
   * pass is being stopped.
   */
  async secondWalk(
    after: string,
    handleHeld: (held: Held[]) => Promise<boolean>,
    /** The folders the first walk could not list (it reported them). */
    unlisted: readonly string[],
  ): Promise<boolean> {
    const { handler, opts, ctx } = this.host;
    const limit = Math.min(opts.pendingLimit ?? PENDING_LIMIT, SEGMENT_LIMIT);
    // A folder the walk before listed and a segment cannot is reported by that segment.
    const unlistedBefore = new Set(unlisted);
    for (let next: string | undefined = after; next !== undefined;) {
      const from: string = next;
      const rest = this.#fingerprints(from);
      const scan: ScanOptions = { ...this.#scanOptions(() => false), after: from, unlistedBefore };
      const held: Held[] = [];
      const unreadable: string[] = [];
      next = undefined;
      for (const entry of scanEntries(ctx.config.sources, scan, unreadable)) {
        const known = rest.seek(entry.path);
        if (!handler.mustRead(entry, known)) {
          if (!await handler.handle(entry, known)) return false;
          continue;
        }
        held.push({ entry, known });
        handler.expect(entry, true);
        // Stops right after it: nothing beyond is reported twice.
        if (held.length >= limit) {
          next = entry.path;
          break;
        }
      }
      for (const path of unreadable) unlistedBefore.add(path);
      if (!await handleHeld(held)) return false;
    }
    return true;
  }

  /** The state's fingerprints in scope after `after`, page by page. */
  #fingerprints(after: string, onPassed?: (f: Fingerprint) => void): RowCursor<Fingerprint> {
    const store = this.host.ctx.store;
    const rows = store
      ? pagedRows(
        (...a) => store.fingerprints(...a),
        (f: Fingerprint) => f.path,
        prefixRanges(this.host.scoped),
        after,
      )
      : [];
    return new RowCursor(rows, onPassed);
  }

  /**
   * The backup root's identity, so that the walk never enters it by another path; none
   * where it is not exact (identity.ts): a source folder whose rounded NTFS file id met
   * the root's was skipped as the root, and its files, unseen, were taken for deleted.
   */
  #rootIdentity(): Identity[] {
    try {
      const id = exactIdentity(Deno.statSync(this.host.ctx.config.backupRoot));
      return id === undefined ? [] : [id];
    } catch {
      return [];
    }
  }

  /** The walk's options; problems and special files for which `skipReport` holds are not reported. */
  #scanOptions(skipReport: (path: string) => boolean): ScanOptions {
    const { config } = this.host.ctx;
    return {
      exclude: config.exclude,
      excludeCaches: config.excludeCaches,
      excludeIfPresent: config.excludeIfPresent,
      oneFileSystem: config.oneFileSystem,
      onLeftOut: (path) => this.#leftOut.add(path),
      excludeLargerThan: config.excludeLargerThan ?? undefined,
      onLarge: (path, size) => {
        this.#leftLarge.add(path);
        if (skipReport(path)) return;
        this.host.report.large(path, size);
      },
      skipDirs: [config.backupRoot],
      clashes: this.#clashes ??= sourceClashes(config.sources, config.backupRoot),
      skipIds: this.#rootIdentity(),
      onSkipped: (abs, path) => {
        if (skipReport(path)) return;
        this.host.report.say(`SKIP BACKUP ROOT: ${abs} (the backup root, by another path)`);
      },
      logDir: config.logDir,
      scope: this.host.opts.scope,
      onSpecial: (s) => {
        if (skipReport(s.path)) return;
        this.host.result.counts.special++;
        this.host.report.say(`SKIP SPECIAL: ${s.path} (${s.message})`);
      },
      onFolder: (path, meta) => this.host.folders.seen(path, meta),
      onProblem: (p) => {
        if (p.unlistedFolder !== undefined && !p.vanished) {
          this.host.result.unlistedFolders.push(p.unlistedFolder);
        }
        if (!skipReport(p.path)) this.host.report.problem(p.path, p.message, p.vanished);
      },
    };
  }
}

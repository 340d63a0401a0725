/**
 * One backup pass, the pipeline every driver shares: scan → (fingerprint) → read, hash and
 * stage what changed → plan → execute → commit, in batches, then retention. `run` calls it
 * once over everything; `watch` calls it with a scope (the folders events named); `plan`
 * calls it with `dryRun`, which hashes without staging and writes nothing at all.
 *
 * One walk of the sources, merged page by page with the state's fingerprints (both in the
 * same order), sorts every entry: an unchanged one is a SKIP on the spot, a new or changed
 * one waits, and a tracked path the walk did not see has vanished. Then the vanished paths
 * are planned (deletions first), then the waiting entries are read and planned. When more
 * entries wait than PENDING_LIMIT, the rest of the first walk only looks for vanished
 * paths and a second walk, starting after the last entry handled, does the rest. When
 * nothing is tracked in scope (a first backup), entries are handled as the walk finds them,
 * and past STAGING_AFTER of them a worker walks and stages the rest on a second core
 * (staging.ts) while this thread plans and applies batches.
 *
 * Planned actions are applied in batches (batch.ts); an interruption costs at most the
 * batch in flight, which the next run's recovery completes, plus temporary copies staged
 * for the next batch, which it removes. Promotions (a duplicate whose original was deleted
 * or changed moves to its own path) are planned once the entries are committed, and
 * applied with retention's prunes in the last batch. What a pass is given and returns:
 * pass_types.ts.
 */
import { FolderMetaRecorder } from "./folder_meta.ts";
import { Batch } from "./batch.ts";
import { EntryHandler } from "./entries.ts";
import { DiskProbe } from "./foreign.ts";
import { compareCodePoints, pagedRows, prefixRanges, RowCursor } from "./merge.ts";
import { emptyResult, type PassContext, type PassOptions, type PassResult } from "./pass_types.ts";
import { createPlanner, type Planner, type PlanOptions, type PlanView } from "./plan.ts";
import { planRetention } from "./retention.ts";
import { relPath, scanEntries, type ScanOptions } from "./scan.ts";
import { StagingWalk } from "./staging.ts";
import type { Action, Archive, Fingerprint, ScanEntry } from "./types.ts";
import { inside, planVanished } from "./vanished.ts";
import { folderIdentity, NO_FOLDER } from "./fsops.ts";
import type { Identity } from "./folders.ts";
import type { Source } from "../config/config.ts";

/**
 * New or changed entries held back by the first walk until deletions are applied (about
 * 400 bytes each with their fingerprints, so at most about 10 MB). Beyond it, the rest of
 * the tree is handled by a second walk.
 */
const PENDING_LIMIT = 25_000;
/**
 * With nothing tracked in scope, the staging worker takes over the walk after this many
 * entries: a first backup this small is done before the worker would have started (about
 * 50 ms to load its modules).
 */
const STAGING_AFTER = 1024;
/**
 * A full pass over at least this many tracked files hands the rest of its walk to the walk
 * worker once the worker has loaded (staging.ts). Spawning a worker holds this thread for
 * about 40 ms (Deno 2.9, measured here), and the worker saves about 2 µs a file: a
 * no-change run over 100,000 files took 1.14 s instead of 1.32 s, one over 20,000 files
 * 0.53 s instead of 0.51 s (medians of 8, alternated).
 */
const WALKER_MIN_TRACKED = 50_000;

export function runPass(ctx: PassContext, opts: PassOptions = {}): Promise<PassResult> {
  return new Pass(ctx, opts).run();
}

/** What the first walk leaves for after the deletions. */
interface FirstWalk {
  /** New and changed entries, in order, with the fingerprints the state has for them. */
  pending: { entry: ScanEntry; known?: Fingerprint }[];
  /** Tracked paths the walk did not see (outside scope or below unreadable folders too). */
  vanished: string[];
  unreadable: string[];
  /** Set when `pending` filled up: the last path handled, where the second walk starts. */
  resumeAfter?: string;
  /** The pass is being stopped. */
  stopped?: boolean;
}

class Pass {
  readonly result: PassResult = emptyResult();
  readonly scoped: string[];
  readonly planner: Planner;
  readonly batch: Batch;
  readonly handler: EntryHandler;
  /** The folders the walks go through, recorded at the end (folder_meta.ts). */
  readonly folders = new FolderMetaRecorder();
  readonly #disk: DiskProbe;
  /** Each source folder's identity when the pass began (see `#sourceLost`). */
  readonly #sourceIds = new Map<Source, string>();

  constructor(readonly ctx: PassContext, readonly opts: PassOptions) {
    const planOpts: PlanOptions = {
      algo: ctx.config.hashAlgorithm,
      prefixes: ctx.prefixes,
      rehash: opts.rehash || ctx.config.rehash,
    };
    this.scoped = scopePrefixes(ctx, opts.scope);
    this.#disk = new DiskProbe(ctx.root);
    for (const source of ctx.config.sources) {
      this.#sourceIds.set(source, folderIdentity(source.path));
    }
    const view = {
      ...ctx.store?.planView() ?? emptyView(),
      foreignKind: this.#disk.kind,
      sameEntry: this.#disk.sameEntry,
      otherNameOf: this.#disk.otherNameOf,
      blocksCopy: this.#disk.blocksCopy,
      ignoresCase: this.#disk.ignoresCase(),
    };
    this.planner = createPlanner(view, planOpts);
    const fail = (path: string, message: string) => this.fail(path, message);
    const problem = (path: string, message: string, vanished?: boolean) =>
      this.problem(path, message, vanished);
    const say = (line: string) => this.say(line);
    const clock = Date.now();
    this.batch = new Batch(
      ctx,
      opts,
      this.result,
      say,
      fail,
      { clock, recorded: ctx.store?.recordedTime(clock) ?? clock },
      () => this.planner.forget(),
    );
    this.handler = new EntryHandler(ctx, opts, planOpts, this.planner, this.batch, problem);
  }

  async run(): Promise<PassResult> {
    try {
      await this.#backUp();
      this.batch.settle();
      if (this.opts.signal?.aborted) return this.result;
      this.#planPromotions();
      for (const a of retentionActions(this.ctx, this.batch.archivedOnPlan, this.opts)) {
        this.batch.add(a);
      }
      await this.batch.flush();
      this.batch.settle();
      if (!this.opts.dryRun) this.folders.commit(this.ctx.store);
      return this.result;
    } finally {
      this.#disk.close();
      this.ctx.store?.endRead();
    }
  }

  /** Everything but retention; returns early when the pass is being stopped. */
  async #backUp(): Promise<void> {
    const first = await this.#firstWalk();
    if (first.stopped) return;
    // A source unmounted during the walk would make its files look deleted.
    if (!this.#sourceLost("nothing was archived as deleted")) this.#planVanished(first);
    for (const { entry, known } of first.pending.splice(0)) {
      if (!await this.handler.handle(entry, known, true)) return;
    }
    if (first.resumeAfter !== undefined && !await this.#secondWalk(first.resumeAfter)) return;
    await this.batch.flush();
    this.#sourceLost("what it held after that was not read");
  }

  /**
   * Fails the pass, once, if a source folder is no longer the one it began with (a disk
   * unmounted or swapped during the run); returns whether one is.
   */
  #sourceLost(consequence: string): boolean {
    for (const [source, began] of this.#sourceIds) {
      const wasFolder = began !== NO_FOLDER.missing && began !== NO_FOLDER.notAFolder;
      if (!wasFolder || folderIdentity(source.path) === began) continue;
      this.#sourceIds.clear(); // said once
      this.fail(
        source.name,
        `Source '${source.name}' ('${source.path}') was unmounted or replaced while the run ` +
          `read it: ${consequence}; run again once it is back`,
      );
      return true;
    }
    return false;
  }

  say(line: string): void {
    this.ctx.log?.line(line);
    this.opts.onLine?.(line);
  }

  /** A problem with one entry: a failure, unless the entry vanished (the next pass sees it). */
  problem(path: string, message: string, vanished = false): void {
    if (vanished) this.say(`SKIP VANISHED: ${path} (${message})`);
    else this.fail(path, message);
  }

  fail(path: string, message: string): void {
    this.result.counts.failed++;
    this.result.errors.push({ path, message });
    this.say(`ERROR: ${path}: ${message}`);
  }

  /**
   * The first walk, merged with the fingerprints: unchanged entries are skips on the spot,
   * new and changed ones wait (or, with nothing tracked in scope, nothing can vanish and
   * they are handled at once), and the tracked paths not seen have vanished. Over many
   * tracked files, the walk worker takes the rest of the walk over once it has loaded.
   */
  async #firstWalk(): Promise<FirstWalk> {
    const walk: FirstWalk = { pending: [], vanished: [], unreadable: [] };
    const cursor = this.#fingerprints("", (f) => walk.vanished.push(f.path));
    if (cursor.exhausted()) return await this.#untrackedWalk(walk);
    const limit = this.opts.pendingLimit ?? PENDING_LIMIT;
    // After `resumeAfter`, problems are left for the second walk to report.
    const later = (path: string) =>
      walk.resumeAfter !== undefined && compareCodePoints(path, walk.resumeAfter) > 0;
    let handled = "";
    const take = async (entry: ScanEntry): Promise<boolean> => {
      const known = cursor.seek(entry.path);
      if (walk.resumeAfter !== undefined) return true; // only looking for vanished paths now
      const toRead = this.handler.mustRead(entry, known);
      if (!toRead) {
        if (!await this.handler.handle(entry, known)) return false;
      } else if (walk.pending.length < limit) {
        walk.pending.push({ entry, known });
        this.handler.expect(entry, toRead);
      } else {
        walk.resumeAfter = handled;
        return true;
      }
      handled = entry.path;
      return true;
    };
    const scan = this.#scanOptions(later);
    const walker = this.#walker();
    try {
      const after = this.opts.walkerAfter;
      const here = await this.#walkHere(
        scan,
        walk.unreadable,
        take,
        (count) => walker !== undefined && (after === undefined ? walker.ready : count === after),
      );
      if (here.stopped) return { ...walk, stopped: true };
      if (!here.ended) {
        walker!.start({ ...this.#job(scan, here.after), walkOnly: true });
        if (!await walker!.each(scan, (item) => take(item.entry))) {
          return { ...walk, stopped: true };
        }
        walk.unreadable.push(...walker!.unreadable);
      }
    } finally {
      walker?.close();
    }
    cursor.finish();
    return walk;
  }

  /**
   * The walk worker for a full pass over at least WALKER_MIN_TRACKED tracked files (or
   * where a test sets the hand-over point), spawned now so that it loads meanwhile.
   */
  #walker(): StagingWalk | undefined {
    if (this.opts.scope !== undefined) return undefined;
    const forced = this.opts.walkerAfter !== undefined;
    return forced || this.ctx.store?.tracksAtLeast(WALKER_MIN_TRACKED)
      ? new StagingWalk()
      : undefined;
  }

  /**
   * Walks on this thread, each entry given to `take`, until `handOver(count)` says the worker
   * takes over after the `count` entries walked: then returns the last one's path.
   */
  async #walkHere(
    scan: ScanOptions,
    unreadable: string[],
    take: (entry: ScanEntry) => Promise<boolean>,
    handOver: (count: number) => boolean,
  ): Promise<{ stopped?: true; ended?: true; after?: string }> {
    if (handOver(0)) return {};
    let count = 0;
    // Stops right after the last entry taken here, before the walk reports anything beyond
    // it (the worker reports that).
    for (const entry of scanEntries(this.ctx.config.sources, scan, unreadable)) {
      if (!await take(entry)) return { stopped: true };
      if (handOver(++count)) return { after: entry.path };
    }
    return { ended: true };
  }

  /** The worker's job: the rest of the walk, after `after`. */
  #job(scan: ScanOptions, after: string | undefined) {
    return {
      sources: this.ctx.config.sources,
      scan: { ...scan, after },
      algo: this.ctx.config.hashAlgorithm,
      tmpDir: this.opts.dryRun ? undefined : this.ctx.tmpDir,
      tmpPrefix: this.handler.tmpPrefix(),
    };
  }

  /**
   * The first walk when nothing is tracked in scope (a first backup): nothing can have
   * vanished, so entries are handled as they come; after STAGING_AFTER of them, the staging
   * worker walks the rest and reads it on a second core.
   */
  async #untrackedWalk(walk: FirstWalk): Promise<FirstWalk> {
    const scan = this.#scanOptions(() => false);
    const limit = this.opts.stagingAfter ?? STAGING_AFTER;
    const here = await this.#walkHere(
      scan,
      walk.unreadable,
      (entry) => this.handler.handle(entry, undefined),
      (count) => count === limit,
    );
    if (here.stopped) return { ...walk, stopped: true };
    if (here.ended) return walk;
    const staging = new StagingWalk();
    try {
      staging.start(this.#job(scan, here.after));
      if (!await staging.each(scan, (item) => this.handler.handleStaged(item))) {
        return { ...walk, stopped: true };
      }
      walk.unreadable.push(...staging.unreadable);
      return walk;
    } finally {
      staging.close();
    }
  }

  /**
   * Deletions come first: the guard needs their number, and a path, a folder or a content
   * freed by a deleted file is free for what replaces it (a renamed file is backed up at
   * its new path, not stored as a duplicate of the old one). They share a batch with what
   * follows: the planner counts what they free, and the batch moves them first.
   */
  #planVanished(walk: FirstWalk): void {
    const { ctx, opts } = this;
    const store = ctx.store;
    const gone = walk.vanished.filter(inside(this.scoped, walk.unreadable))
      .map((p) => store!.trackedOne(p)!);
    this.result.deleteGuard = planVanished(
      gone,
      {
        sources: ctx.config.sources,
        exclude: ctx.config.exclude,
        maxDeletePercent: ctx.config.maxDeletePercent,
        force: opts.force,
        trackedCount: () => store?.trackedCount() ?? 0,
        trackedIn: (source) => store?.trackedIn(source) ?? 0,
        window: opts.deletionWindow,
      },
      this.planner,
      this.batch,
    );
    if (this.result.deleteGuard) this.say(`DELETE GUARD: ${this.result.deleteGuard}`);
  }

  /**
   * Promotions come after every deletion and change is committed: a content released by
   * one path and taken up by another in the same pass (a rename) needs none, and each moves
   * only a copy the state records, never one a batch still waiting to commit placed. A
   * full pass also looks for contents left with duplicates only by a tool that did not
   * promote them (or by a crash between that commit and the promotions' journal).
   */
  #planPromotions(): void {
    const sweep = this.opts.scope === undefined || this.planner.releasedTooMany();
    const orphans = sweep ? this.ctx.store?.orphanedDigests() ?? [] : [];
    for (const a of this.planner.planPromotions(orphans)) this.batch.add(a);
  }

  /** Handles every entry after `after`; false when the pass is being stopped. */
  async #secondWalk(after: string): Promise<boolean> {
    const rest = this.#fingerprints(after);
    const opts = { ...this.#scanOptions(() => false), after };
    for (const entry of scanEntries(this.ctx.config.sources, opts, [])) {
      if (!await this.handler.handle(entry, rest.seek(entry.path))) return false;
    }
    return true;
  }

  /** The state's fingerprints in scope after `after`, page by page. */
  #fingerprints(after: string, onPassed?: (f: Fingerprint) => void): RowCursor<Fingerprint> {
    const store = this.ctx.store;
    const rows = store
      ? pagedRows(
        (...a) => store.fingerprints(...a),
        (f: Fingerprint) => f.path,
        prefixRanges(this.scoped),
        after,
      )
      : [];
    return new RowCursor(rows, onPassed);
  }

  /** The backup root's identity, so that the walk never enters it by another path. */
  #rootIdentity(): Identity[] {
    try {
      const { ino, dev } = Deno.statSync(this.ctx.config.backupRoot);
      return ino === null || dev === null ? [] : [{ ino, dev }];
    } catch {
      return [];
    }
  }

  /** The walk's options; problems and special files for which `skipReport` holds are not reported. */
  #scanOptions(skipReport: (path: string) => boolean): ScanOptions {
    const { config } = this.ctx;
    return {
      exclude: config.exclude,
      skipDirs: [config.backupRoot],
      skipIds: this.#rootIdentity(),
      onSkipped: (abs) => this.say(`SKIP BACKUP ROOT: ${abs} (the backup root, by another path)`),
      logDir: config.logDir,
      scope: this.opts.scope,
      onSpecial: (s) => {
        if (skipReport(s.path)) return;
        this.result.counts.special++;
        this.say(`SKIP SPECIAL: ${s.path} (${s.message})`);
      },
      onFolder: (path, meta) => this.folders.seen(path, meta),
      onProblem: (p) => {
        if (p.unlistedFolder !== undefined && !p.vanished) {
          this.result.unlistedFolders.push(p.unlistedFolder);
        }
        if (!skipReport(p.path)) this.problem(p.path, p.message, p.vanished);
      },
    };
  }
}

/** The logical paths a pass covers: every source, or the scoped paths. */
function scopePrefixes(ctx: PassContext, scope?: Map<string, string[]>): string[] {
  const prefixes: string[] = [];
  for (const s of ctx.config.sources) {
    if (!scope) prefixes.push(s.name);
    for (const abs of scope?.get(s.name) ?? []) {
      const rel = relPath(s.path, abs);
      prefixes.push(rel === "" ? s.name : `${s.name}/${rel}`);
    }
  }
  return prefixes;
}

/** Prunes beyond the limit: from the state, or predicted from the plan on a dry run. */
function retentionActions(
  ctx: PassContext,
  archived: ReadonlyMap<string, Archive>,
  opts: PassOptions,
): Action[] {
  const max = ctx.config.maxVersionsPerFile;
  if (!ctx.store) return [];
  if (!opts.dryRun) return planRetention(ctx.store.versionsOverLimit(max), max);
  const versions = [...archived].flatMap(([path, arch]) => [
    ...ctx.store!.copiesOf(path).filter((c) => c.location === "version")
      .map((c) => ({ path, copyId: c.id, seq: c.seq, storedAt: c.storedAt! })),
    { path, copyId: arch.copyId, seq: arch.seq, storedAt: arch.to },
  ]);
  // Paths this plan archives nothing for may be over a limit that was lowered since.
  const over = ctx.store.versionsOverLimit(max).filter((v) => !archived.has(v.path));
  return planRetention([...over, ...versions], max);
}

function emptyView(): PlanView {
  return {
    holdersOf: () => [],
    lastSeq: () => 0,
    recordedUnder: () => false,
    storedCountBelow: () => 0,
    isFile: () => false,
    isDir: () => false,
  };
}

/**
 * One backup pass, the pipeline every driver shares: scan → (fingerprint) → read, hash and
 * stage what changed → plan → execute → commit, in batches, then retention. `run` calls it
 * once over everything; `watch` calls it with a scope (the folders events named); `plan`
 * calls it with `dryRun`, which hashes without staging and writes nothing at all.
 *
 * The walks (walks.ts) sort every entry: an unchanged one is a SKIP on the spot, a new or
 * changed one waits, and a tracked path the walk did not see has vanished. Then the
 * vanished paths are planned (deletions first), then the waiting entries are read and
 * planned, then what a second walk finds, if the first held back too many.
 *
 * Planned actions are applied in batches (batch.ts); an interruption leaves journaled the
 * batch in flight and those applied since the last commit (four at most: batch.ts),
 * which the next run's recovery completes, plus temporary copies staged for the next
 * batch, which it removes. Promotions (a duplicate whose original was deleted or changed
 * moves to its own path) are planned once the entries are committed, and applied after
 * them, then retention's prunes, a batch at a time as the entries are. A stop signal ends
 * the pass after the batch in progress; it is `stopped` only where that left work undone
 * (one heard during the last batch, nothing after it, stops nothing). What a pass is given
 * and returns: pass_types.ts; what it says of its files: pass_report.ts.
 */
import { FolderMetaRecorder } from "../core/folder_meta.ts";
import { goneFolders } from "./folder_sweep.ts";
import { Batch } from "./batch.ts";
import { EntryHandler } from "./entries.ts";
import { DiskProbe } from "./foreign.ts";
import {
  emptyResult,
  type PassContext,
  type PassOptions,
  type PassResult,
  type Unread,
} from "./pass_types.ts";
import { createPlanner, type Planner, type PlanOptions, type PlanView } from "../core/plan.ts";
import type { HeldCopy } from "../core/plan_view.ts";
import { sourceFileOf } from "../core/layout.ts";
import { XATTRS_KEPT } from "./fs/xattrs.ts";
import { retentionActions } from "./pass_retention.ts";
import { relPath } from "./rel_path.ts";
import type { Action } from "../core/types.ts";
import { inside, judgeVanished, planVerdict } from "./vanished.ts";
import { unmountedTablePointsIn } from "./fs/mounts.ts";
import { type FirstWalk, PassWalks } from "./walks.ts";
import type { Held, ReadAhead } from "./read_ahead.ts";
import { folderIdentity, NO_FOLDER } from "./fs/identity.ts";
import { turnEvery } from "./event_turn.ts";
import type { Source } from "../config/config.ts";
import { PassReport } from "./pass_report.ts";

export function runPass(ctx: PassContext, opts: PassOptions = {}): Promise<PassResult> {
  return new Pass(ctx, opts).run();
}

class Pass {
  readonly result: PassResult = emptyResult();
  /** What the pass says of its files, and records of them in `result`. */
  readonly report: PassReport;
  readonly scoped: string[];
  readonly planner: Planner;
  readonly batch: Batch;
  readonly handler: EntryHandler;
  /** The folders the walks go through, recorded at the end (folder_meta.ts). */
  readonly folders = new FolderMetaRecorder();
  readonly #disk: DiskProbe;
  readonly #walks = new PassWalks(this);
  /**
   * What the first walk could not list and left out, once it is done: where the folders
   * recorded as standing that it did not see are not gone (`#sweepFolders`).
   */
  #walked?: { unreadable: string[]; leftOut: ReadonlySet<string> };
  /** A source was unmounted or replaced during the pass (`#sourceLost`). */
  #lost = false;
  /** Each source folder's identity when the pass began (see `#sourceLost`). */
  readonly #sourceIds = new Map<Source, string>();
  /**
   * The files the walks read whatever their fingerprint says: those the caller names (a
   * watch's events), and the duplicates whose leftover promotion waits for their copy,
   * missing, to be made again (`#promoteLeftovers`).
   */
  readonly #reread: Set<string>;

  constructor(readonly ctx: PassContext, readonly opts: PassOptions) {
    this.report = new PassReport(ctx, opts, this.result);
    this.#reread = new Set(opts.reread);
    const planOpts: PlanOptions = {
      algo: ctx.config.hashAlgorithm,
      prefixes: ctx.prefixes,
      rehash: opts.rehash || ctx.config.rehash,
      reread: this.#reread,
      xattrs: XATTRS_KEPT,
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
      holdsOtherThan: this.#disk.holdsOtherThan,
      otherNameOf: this.#disk.otherNameOf,
      copyAt: this.#disk.copyAt,
      ignoresCase: this.#disk.ignoresCase(),
    };
    this.planner = createPlanner(view, planOpts);
    const report = this.report;
    const fail = (path: string, message: string) => report.fail(path, message);
    const unread = (path: string, message: string, how?: Unread) =>
      report.unread(path, message, how);
    const say = (line: string) => report.say(line);
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
    const large = (path: string, size: number) => report.large(path, size);
    this.handler = new EntryHandler(ctx, opts, planOpts, this.planner, this.batch, unread, large);
  }

  async run(): Promise<PassResult> {
    try {
      await this.#promoteLeftovers();
      if (!await this.#backUp()) this.result.stopped = true;
      // The walks are done unless the pass was cut short (a stopped pass records no
      // folders): the folders go with the first commit from here on, or with one of their
      // own where there is none. A signal heard since (during the last batch) stops what
      // is left, if anything is: promotions, then prunes (`#addAll`).
      const folders = this.opts.dryRun || this.result.stopped ? undefined : this.folders;
      if (folders) this.#sweepFolders();
      await this.batch.settle(folders);
      if (this.result.stopped) return this.result;
      if (await this.#addAll(this.#planPromotions())) {
        const retention = retentionActions(this.ctx, this.batch.archived, this.opts);
        if (retention.clockGuard) {
          this.result.clockGuard = retention.clockGuard;
          this.report.say(`WARNING: ${retention.clockGuard.message}`);
        }
        await this.#addAll(retention.actions);
      }
      await this.batch.flush();
      await this.batch.settle(folders);
      folders?.commit(this.ctx.store, this.batch.started.recorded);
      return this.result;
    } finally {
      this.#disk.close();
      this.ctx.store?.endRead();
    }
  }

  /**
   * Everything but retention; returns early, false, when the pass is being stopped (even
   * where the walk's last entry was being handled: what follows it is not known to be
   * nothing).
   */
  async #backUp(): Promise<boolean> {
    const first = await this.#walks.firstWalk();
    try {
      if (first.stopped) return false;
      this.#walked = first;
      const { reader } = first;
      const readAhead = (held: Held[]) => reader && this.handler.readAhead(held, reader);
      const held = first.pending.splice(0);
      const ahead = readAhead(held); // read while the deletions are planned
      // A source unmounted during the walk would make its files look deleted.
      if (!this.#sourceLost("nothing was archived as deleted")) {
        if (!await this.#planVanished(first)) return false;
      }
      if (!await this.#handleHeld(held, ahead)) return false;
      const rest = (held: Held[]) => this.#handleHeld(held, readAhead(held));
      if (
        first.resumeAfter !== undefined &&
        !await this.#walks.secondWalk(first.resumeAfter, rest, first.unreadable)
      ) {
        return false;
      }
    } finally {
      first.reader?.close();
    }
    await this.batch.flush();
    this.#sourceLost("what it held after that was not read");
    return true;
  }

  /** Plans held entries in order, read ahead where given; false when being stopped. */
  async #handleHeld(held: Held[], ahead?: ReadAhead): Promise<boolean> {
    if (ahead) return await this.handler.handleReadAhead(ahead);
    for (const { entry, known } of held) {
      if (!await this.handler.handle(entry, known, true)) return false;
    }
    return true;
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
      this.#lost = true;
      this.report.fail(
        source.name,
        `Source '${source.name}' ('${source.path}') was unmounted or replaced while the run ` +
          `read it: ${consequence}; run again once it is back`,
      );
      return true;
    }
    return false;
  }

  /** The walks done: which folders recorded as standing are gone (folder_sweep.ts). */
  #sweepFolders(): void {
    const walked = this.#walked;
    if (walked === undefined || this.#lost || this.result.deleteGuard !== undefined) return;
    this.folders.sweep(goneFolders(this.ctx.config, this.scoped, walked, this.opts.force));
  }

  /**
   * Deletions come first: the guard needs their number, and a path, a folder or a content
   * freed by a deleted file is free for what replaces it (a renamed file is backed up at
   * its new path, not stored as a duplicate of the old one). The last of them share a
   * batch with what follows: the planner counts what they free, and the batch moves them
   * first. False once the pass is being stopped.
   */
  async #planVanished(walk: FirstWalk): Promise<boolean> {
    const { ctx, opts } = this;
    const store = ctx.store;
    const covered = inside(this.scoped, [...walk.unreadable, ...this.#unmountedDisks(walk)]);
    const verdict = judgeVanished(walk.vanished.filter((t) => covered(t.path)), {
      sources: ctx.config.sources,
      exclude: ctx.config.exclude,
      leftOut: walk.leftOut,
      leftLarge: walk.leftLarge,
      maxDeletePercent: ctx.config.maxDeletePercent,
      force: opts.force,
      trackedCount: (upTo) => store?.trackedCount(upTo) ?? 0,
      trackedIn: (source, upTo) => store?.trackedIn(source, upTo) ?? 0,
      window: opts.deletionWindow,
      plan: opts.dryRun,
    });
    this.result.deleteGuard = verdict.guard;
    this.result.heldBack = verdict.held;
    if (verdict.guard) this.report.say(`DELETE GUARD: ${verdict.guard}`);
    // Tracked when the walk was merged; `plan` holds no lock, and a run may have committed
    // the path's deletion since (it then crashed on the row no longer there).
    return await planVerdict(
      verdict,
      (paths) => store?.trackedMany(paths) ?? [],
      this.planner,
      this.batch,
      () => this.opts.signal?.aborted === true,
    );
  }

  /**
   * The folders of the sources (logical paths) on which /etc/fstab mounts a disk that is
   * not mounted now, each with files tracked below it said as a failure: those are kept as
   * they are, not taken for deleted (with `--force` they are), and so are the records of
   * the folders there (the empty folder below the mount point is not the disk's top
   * folder). Looked for only where tracked files were not found.
   */
  #unmountedDisks(walk: FirstWalk): string[] {
    if (walk.vanished.length === 0 || this.opts.force) return [];
    return this.ctx.config.sources.flatMap((source) =>
      unmountedTablePointsIn(source.path).flatMap(({ point, rel }) => {
        const at = rel === "" ? source.name : `${source.name}/${rel}`;
        const under = walk.vanished.filter((v) => v.path.startsWith(`${at}/`)).length;
        if (under === 0) return [];
        this.folders.keepRecorded(at);
        this.report.fail(
          at,
          `'/etc/fstab' mounts a disk on '${point}', where nothing is mounted now: its ` +
            `${under} tracked file(s) are kept as they are, not archived as deleted: mount ` +
            "it, or run with --force if they are gone for good",
        );
        return [at];
      })
    );
  }

  /**
   * A run cut short after committing a release but before its promotions (killed, stopped,
   * failed) leaves contents held by duplicates only. A full pass promotes them first, as
   * that run would have at its end: planned after this pass's new files, a new file of
   * that content sorting first was promoted instead, so the layout depended on whether an
   * earlier run had been interrupted.
   */
  async #promoteLeftovers(): Promise<void> {
    if (this.opts.scope !== undefined) return;
    const orphans = this.ctx.store?.orphanedDigests() ?? [];
    if (orphans.length === 0) return;
    // One whose copy is not in its place (missing, or something else there) waits for the
    // promotions at the end: the walk reads its file, unchanged in its source, and copies
    // it again first. Its fingerprint, trusted, would have it skipped unread, and the
    // promotion would then fail on the missing copy.
    const reread = (copy: HeldCopy) => {
      const file = sourceFileOf(this.ctx.config.sources, copy.path);
      if (file !== undefined) this.#reread.add(file);
    };
    await this.#addAll(this.planner.planPromotions(orphans, reread));
    await this.batch.flush();
    await this.batch.settle();
  }

  /**
   * Promotions come after every deletion and change is committed: a content released by
   * one path and taken up by another in the same pass (a rename) needs none, and each moves
   * only a copy the state records, never one a batch still waiting to commit placed. A
   * full pass also looks for contents left with duplicates only by a tool that did not
   * promote them (or by a crash between that commit and the promotions' journal).
   */
  #planPromotions(): Iterable<Action> {
    const sweep = this.opts.scope === undefined || this.planner.releasedTooMany();
    const orphans = sweep ? this.ctx.store?.orphanedDigests() ?? [] : [];
    return this.planner.planPromotions(orphans);
  }

  /**
   * Adds actions planned together (promotions, prunes) to the batch, applying it whenever
   * it is full, as the walk's actions are: a folder of 200,000 files renamed past the guard
   * then `--force` gave one batch of 200,000 promotions, every action, journal entry and
   * log line held at once (550 MiB of peak RSS). False once the pass is being stopped
   * with actions left (the pass is then `stopped`), the rest left for the next pass
   * (leftover promotions come first there); a signal heard when none are left, as after
   * the last batch, stops nothing.
   */
  async #addAll(actions: Iterable<Action>): Promise<boolean> {
    for (const a of actions) {
      if (this.opts.signal?.aborted) {
        this.result.stopped = true;
        return false;
      }
      this.batch.add(a);
      if (!this.batch.full()) continue;
      await this.batch.flush();
      await this.#turn();
    }
    return true;
  }

  readonly #turn = turnEvery();
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

/**
 * One backup pass, the pipeline every driver shares: scan → (fingerprint) → read, hash and
 * stage what changed → plan → execute → commit, in batches, then retention. `run` calls it
 * once over everything; `watch` calls it with a scope (the folders events named); `plan`
 * calls it with `dryRun`, which hashes without staging and writes nothing at all.
 *
 * Planned actions are applied in batches (batch.ts); an interruption costs at most the
 * batch in flight, which the next run's recovery completes, plus temporary copies staged
 * for the next batch, which it removes.
 */
import { join } from "node:path";
import type { Config } from "../config/config.ts";
import type { RunLog } from "../log/runlog.ts";
import type { StateStore } from "../state/store.ts";
import { Batch } from "./batch.ts";
import { errorText } from "./errors.ts";
import { exists, nativePath, removeQuietly } from "./fsops.ts";
import {
  createPlanner,
  needsHash,
  type PlanInput,
  type Planner,
  type PlanOptions,
  type PlanView,
} from "./plan.ts";
import { planRetention } from "./retention.ts";
import { createMatcher, listPaths, relPath, scanEntries, type ScanOptions } from "./scan.ts";
import { pagedRows, prefixRanges, RowCursor, unmatchedPaths } from "./merge.ts";
import { hashFile, hashText, READ_BUFFER_BYTES, stageEntry } from "./stage.ts";
import type { Action, Fingerprint, ScanEntry, TrackedFile } from "./types.ts";

export interface PassContext {
  config: Config;
  root: string;
  rootName: string;
  tmpDir: string;
  /** Absent when the backup root has no state yet (a dry run on a new root). */
  store?: StateStore;
  log?: RunLog;
  prefixes: Map<string, string>;
  runId: number;
}

export interface PassOptions {
  rehash?: boolean;
  /** Archive deletions even beyond `safety.max_delete_percent`. */
  force?: boolean;
  /** Plan only: hash without staging, execute nothing, write nothing. */
  dryRun?: boolean;
  /** Per source, the absolute folders or files to scan; everything when absent. */
  scope?: Map<string, string[]>;
  /** Called with each line as it is logged (console echo). */
  onLine?: (line: string) => void;
  /**
   * Stops the pass between batches (a watch session being stopped): what is committed
   * stays, the rest is picked up by the next pass.
   */
  signal?: AbortSignal;
  /** Called after each scanned entry is handled (a live progress line). */
  onProgress?: (p: Progress) => void;
}

/** How far a pass is: entries handled of those scanned, bytes read of those to read. */
export interface Progress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  current: string;
}

export type Counts = Record<Action["type"] | "failed" | "special", number>;

export interface PassResult {
  counts: Counts;
  bytesCopied: number;
  errors: { path: string; message: string }[];
  /** Set when the mass-deletion guard held deletions back. */
  deleteGuard?: string;
  /** The planned actions (dry run only). */
  planned: Action[];
}

export function emptyCounts(): Counts {
  return {
    backup: 0,
    duplicate: 0,
    modified: 0,
    skip: 0,
    delete: 0,
    exclude: 0,
    prune: 0,
    failed: 0,
    special: 0,
  };
}

/** Numbers temporary copies uniquely across the passes of one process (a watch session). */
let tmpCounter = 0;

export async function runPass(ctx: PassContext, opts: PassOptions = {}): Promise<PassResult> {
  const result: PassResult = { counts: emptyCounts(), bytesCopied: 0, errors: [], planned: [] };
  const say = (line: string) => {
    ctx.log?.line(line);
    opts.onLine?.(line);
  };
  const fail = (path: string, message: string) => {
    result.counts.failed++;
    result.errors.push({ path, message });
    say(`ERROR: ${path}: ${message}`);
  };
  const planOpts: PlanOptions = {
    algo: ctx.config.hashAlgorithm,
    prefixes: ctx.prefixes,
    rehash: opts.rehash || ctx.config.rehash,
  };
  const scoped = scopePrefixes(ctx, opts.scope);
  const ranges = prefixRanges(scoped);
  const store = ctx.store;
  const scanOpts: ScanOptions = {
    exclude: ctx.config.exclude,
    skipDirs: [ctx.config.backupRoot, ctx.config.logDir],
    scope: opts.scope,
  };
  const planner = createPlanner(store?.planView() ?? emptyView(), planOpts);
  const batch = new Batch(ctx, opts, result, say, fail, Date.now(), () => planner.forget());

  // First a listing-only walk finds what vanished, so deletions (and the guard, which
  // needs their number) come before anything else, and a path freed by a deleted file is
  // free for what replaces it.
  const unreadable: string[] = [];
  let listed = 0;
  const counted = function* (paths: Iterable<string>) {
    for (const p of paths) {
      listed++;
      yield p;
    }
  };
  const paths = counted(listPaths(ctx.config.sources, scanOpts, unreadable));
  const trackedPaths = store
    ? pagedRows((...a) => store.trackedPaths(...a), (p: string) => p, ranges)
    : [];
  const vanished = unmatchedPaths(paths, trackedPaths)
    .filter(inside(scoped, unreadable))
    .map((p) => store!.trackedOne(p)!);
  result.deleteGuard = planVanished(ctx, opts, vanished, planner, batch);
  if (result.deleteGuard) say(`DELETE GUARD: ${result.deleteGuard}`);
  await batch.flush();

  const entries = scanEntries(ctx.config.sources, {
    ...scanOpts,
    onSpecial: (s) => {
      result.counts.special++;
      say(`SKIP SPECIAL: ${s.path} (${s.message})`);
    },
    onProblem: (p) => fail(p.path, p.message),
  }, []);
  const cursor = new RowCursor(
    store ? pagedRows((...a) => store.fingerprints(...a), (f: Fingerprint) => f.path, ranges) : [],
  );
  await planEntries(ctx, opts, entries, cursor, listed, planOpts, planner, batch, fail);
  if (opts.signal?.aborted) return result;
  for (const a of retentionActions(ctx, result.planned, opts)) batch.add(a);
  await batch.flush();
  return result;
}

/**
 * Plans the tracked paths the scan no longer saw: newly excluded ones are kept, the others
 * archived as deleted, unless they are more than the configured share (the guard's message
 * is returned and none is archived).
 */
function planVanished(
  ctx: PassContext,
  opts: PassOptions,
  vanished: TrackedFile[],
  planner: Planner,
  batch: Batch,
): string | undefined {
  const matcher = createMatcher(ctx.config.exclude);
  const deletions: TrackedFile[] = [];
  for (const t of vanished) {
    if (isExcluded(t.path, matcher) && existsInSource(ctx, t.path)) {
      const a = planner.planExclude(t);
      if (a) batch.add(a);
    } else if (t.status === "current") deletions.push(t);
  }
  const max = ctx.config.maxDeletePercent;
  const total = ctx.store?.trackedCount() ?? 0;
  const guard = deleteGuard(deletions.length, total, max, opts.force);
  if (!guard) { for (const t of deletions) batch.add(planner.planDelete(t)); }
  return guard;
}

/** Plans every scanned entry in order, reading those whose fingerprint says so. */
async function planEntries(
  ctx: PassContext,
  opts: PassOptions,
  entries: Iterable<ScanEntry>,
  cursor: RowCursor<Fingerprint>,
  expected: number,
  planOpts: PlanOptions,
  planner: Planner,
  batch: Batch,
  fail: (path: string, message: string) => void,
): Promise<void> {
  const buf = new Uint8Array(READ_BUFFER_BYTES);
  // The listing counted the files; their bytes are not known before they are seen.
  const progress: Progress = {
    filesDone: 0,
    filesTotal: expected,
    bytesDone: 0,
    bytesTotal: 0,
    current: "",
  };
  for (const entry of entries) {
    const known = cursor.seek(entry.path);
    const toRead = needsHash(entry, known, planOpts);
    progress.filesDone++;
    progress.filesTotal = Math.max(progress.filesTotal, progress.filesDone);
    progress.current = entry.path;
    if (toRead) progress.bytesDone += entry.size;
    opts.onProgress?.(progress);
    if (!toRead) batch.add(planner.planEntry({ entry }));
    else {
      const tmp = opts.dryRun ? undefined : join(ctx.tmpDir, `${ctx.runId}-${++tmpCounter}.tmp`);
      try {
        const t = known && ctx.store?.trackedOne(entry.path);
        const input = readEntry(ctx, entry, t, buf, tmp);
        // The journal records the staged copy relative to the backup root, so recovery
        // finds it even when the disk comes back at another mount point.
        if (input.hashed?.tmp) input.hashed.tmp = relPath(ctx.root, input.hashed.tmp);
        const action = planner.planEntry(input);
        const staged = input.hashed?.tmp && tmp;
        if (staged && action.type === "skip") removeQuietly(staged); // same content after all
        // Only regular files are flushed; a staged symlink has no data to sync.
        const toSync = action.type !== "skip" && entry.kind === "file" ? staged : undefined;
        batch.add(action, toSync, entry.size);
      } catch (e) {
        removeQuietly(tmp);
        fail(entry.path, errorText(e));
      }
    }
    if (batch.full()) {
      await batch.flush();
      if (opts.signal?.aborted) return;
    }
  }
  await batch.flush();
}

/** A filter for tracked paths: under a scoped prefix, and not below an unreadable folder. */
function inside(prefixes: string[], unreadable: string[]): (path: string) => boolean {
  const scoped = new Set(prefixes);
  const blocked = new Set(unreadable);
  return (path) => {
    let inScope = false;
    for (let end = path.length; end > 0; end = path.lastIndexOf("/", end - 1)) {
      const ancestor = path.slice(0, end);
      if (blocked.has(ancestor)) return false;
      if (scoped.has(ancestor)) inScope = true;
    }
    return inScope;
  };
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

function isExcluded(path: string, matcher: ReturnType<typeof createMatcher>): boolean {
  const rel = path.slice(path.indexOf("/") + 1);
  return matcher.ignores(rel);
}

function existsInSource(ctx: PassContext, path: string): boolean {
  const cut = path.indexOf("/");
  const source = ctx.config.sources.find((s) => s.name === path.slice(0, cut));
  return source !== undefined && exists(join(source.path, ...path.slice(cut + 1).split("/")));
}

function deleteGuard(deleting: number, tracked: number, maxPercent: number, force?: boolean) {
  if (force || deleting === 0 || deleting * 100 <= maxPercent * tracked) return undefined;
  return `${deleting} of ${tracked} tracked files would be archived as deleted, more than ` +
    `safety.max_delete_percent (${maxPercent}%): nothing was archived; if the source is ` +
    `mounted and the deletions are intended, run again with --force`;
}

/**
 * Reads an entry for the planner. A tracked file of unchanged size (a touch, a chmod, an
 * untrusted fingerprint) is hashed first without a copy, and copied only if its digest
 * differs: unchanged files cost no write, and a changed one is read a second time (from
 * the page cache) with the digest taken again from the bytes actually copied. Everything
 * else is hashed and copied in one pass.
 */
function readEntry(
  ctx: PassContext,
  entry: ScanEntry,
  t: TrackedFile | undefined,
  buf: Uint8Array,
  tmp: string | undefined,
): PlanInput {
  const algo = ctx.config.hashAlgorithm;
  const sameAlgo = t?.algo === algo;
  if (t && sameAlgo && t.kind === entry.kind && t.size === entry.size) {
    const probe = stageEntry(entry, algo, buf);
    if (probe.hash === t.hash || !tmp) return { entry: probe.entry, tracked: t, hashed: probe };
  }
  const staged = stageEntry(entry, algo, buf, tmp);
  const input: PlanInput = { entry: staged.entry, tracked: t, hashed: staged };
  if (t && !sameAlgo) input.storedHash = storedDigest(ctx, t, buf);
  return input;
}

function storedDigest(ctx: PassContext, t: TrackedFile, buf: Uint8Array): string {
  const at = nativePath(ctx.root, t.storedAt);
  if (t.kind === "symlink") return hashText(Deno.readLinkSync(at), ctx.config.hashAlgorithm);
  return hashFile(at, ctx.config.hashAlgorithm, buf);
}

/** Prunes beyond the limit: from the state, or predicted from the plan on a dry run. */
function retentionActions(ctx: PassContext, planned: Action[], opts: PassOptions): Action[] {
  const max = ctx.config.maxVersionsPerFile;
  if (!ctx.store) return [];
  if (!opts.dryRun) return planRetention(ctx.store.versionsOverLimit(max), max);
  const archived = new Map<string, { copyId: number; seq: number; to: string }>();
  for (const a of planned) if ("archive" in a && a.archive) archived.set(a.path, a.archive);
  const versions = [...archived].flatMap(([path, arch]) => [
    ...ctx.store!.copiesOf(path).filter((c) => c.location === "version")
      .map((c) => ({ path, copyId: c.id, seq: c.seq, storedAt: c.storedAt! })),
    { path, copyId: arch.copyId, seq: arch.seq, storedAt: arch.to },
  ]);
  return planRetention(versions, max);
}

function emptyView(): PlanView {
  return {
    holdersOf: () => [],
    lastSeq: () => 0,
    isFile: () => false,
    isDir: () => false,
  };
}

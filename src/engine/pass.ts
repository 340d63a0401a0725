/**
 * One backup pass, the pipeline every driver shares: scan → (fingerprint) → read, hash and
 * stage what changed → plan → execute → commit, in batches, then retention. `run` calls it
 * once over everything; `watch` calls it with a scope (the folders events named); `plan`
 * calls it with `dryRun`, which hashes without staging and writes nothing at all.
 *
 * A batch is at most BATCH_FILES staged files or BATCH_BYTES staged bytes: its temporary
 * copies are flushed together, the batch is journaled, its files renamed into place and its
 * results committed in one transaction. An interruption costs at most the batch in flight,
 * which recovery completes.
 */
import type { Config } from "../config/config.ts";
import type { RunLog } from "../log/runlog.ts";
import type { StateStore } from "../state/store.ts";
import { errorText } from "./errors.ts";
import { executeActions } from "./execute.ts";
import { exists, nativePath, syncFiles } from "./fsops.ts";
import { formatAction } from "./describe.ts";
import { faultPoint } from "./fault.ts";
import {
  createPlanner,
  needsHash,
  type PlanInput,
  type PlanOptions,
  type PlanView,
} from "./plan.ts";
import { planRetention } from "./retention.ts";
import { createMatcher, scanSources } from "./scan.ts";
import { hashFile, hashText, READ_BUFFER_BYTES, stageEntry } from "./stage.ts";
import type { Action, ScanEntry, TrackedFile } from "./types.ts";
import { join } from "node:path";

/** Up to 512 files or 256 MiB per batch: one journal entry and one fsync wave each. */
const BATCH_FILES = 512;
const BATCH_BYTES = 256 << 20;
/** Actions (mostly skips) buffered before a flush even when nothing is staged. */
const BATCH_ACTIONS = 8192;
/**
 * Fingerprints whose mtime or ctime lie within 2 s of the scan are not trusted (the next
 * pass reads them again): coarse filesystems round timestamps to 1 s (ext3, HFS+) or 2 s
 * (FAT), so a change in the same tick would otherwise go unseen.
 */
const RACY_WINDOW_MS = 2000;

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

export async function runPass(ctx: PassContext, opts: PassOptions = {}): Promise<PassResult> {
  const { config } = ctx;
  const time = Date.now();
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

  const scan = scanSources(config.sources, {
    exclude: config.exclude,
    skipDirs: [config.backupRoot, config.logDir],
    scope: opts.scope,
  });
  for (const s of scan.specials) {
    result.counts.special++;
    say(`SKIP SPECIAL: ${s.path} (${s.message})`);
  }
  for (const p of scan.problems) fail(p.path, p.message);

  const tracked = ctx.store?.loadTracked() ?? new Map<string, TrackedFile>();
  const view = ctx.store?.planView(tracked) ?? emptyView();
  const planOpts: PlanOptions = {
    algo: config.hashAlgorithm,
    prefixes: ctx.prefixes,
    rehash: opts.rehash || config.rehash,
  };
  const planner = createPlanner(view, planOpts);
  const batch = new Batch(ctx, opts, result, say, fail, time);

  // Paths that vanished: deleted, or newly excluded (kept, not archived).
  const gone = vanishedPaths(ctx, tracked, scan.entries.map((e) => e.path), scan.unreadable, opts);
  const matcher = createMatcher(config.exclude);
  const deletions: string[] = [];
  for (const path of gone) {
    const t = tracked.get(path)!;
    if (isExcluded(path, matcher) && existsInSource(ctx, path)) {
      const a = planner.planExclude(path);
      if (a) batch.add(a);
    } else if (t.status === "current") deletions.push(path);
  }
  const guard = deleteGuard(deletions.length, tracked.size, config.maxDeletePercent, opts.force);
  if (guard) {
    result.deleteGuard = guard;
    say(`DELETE GUARD: ${guard}`);
  } else {
    for (const path of deletions) batch.add(planner.planDelete(path));
  }
  await batch.flush();

  const buf = new Uint8Array(READ_BUFFER_BYTES);
  let tmpCounter = 0;
  const toRead = scan.entries.map((e) => needsHash(e, tracked.get(e.path), planOpts));
  const progress: Progress = {
    filesDone: 0,
    filesTotal: scan.entries.length,
    bytesDone: 0,
    bytesTotal: scan.entries.reduce((sum, e, i) => sum + (toRead[i] ? e.size : 0), 0),
    current: "",
  };
  for (const [i, entry] of scan.entries.entries()) {
    const t = tracked.get(entry.path);
    progress.filesDone++;
    progress.current = entry.path;
    if (toRead[i]) progress.bytesDone += entry.size;
    opts.onProgress?.(progress);
    if (!toRead[i]) {
      batch.add(planner.planEntry({ entry }));
    } else {
      const tmp = opts.dryRun ? undefined : join(ctx.tmpDir, `${ctx.runId}-${++tmpCounter}.tmp`);
      let input: PlanInput;
      try {
        input = readEntry(ctx, entry, t, buf, tmp);
      } catch (e) {
        fail(entry.path, errorText(e));
        continue;
      }
      // Only regular files are flushed; a staged symlink has no data to sync.
      const action = planner.planEntry(input);
      const staged = input.hashed?.tmp;
      if (staged && action.type === "skip") removeQuietly(staged); // same content after all
      const toSync = action.type !== "skip" && entry.kind === "file" ? staged : undefined;
      batch.add(action, toSync, entry.size);
    }
    if (batch.full()) await batch.flush();
  }
  await batch.flush();

  for (const a of retentionActions(ctx, result.planned, opts)) batch.add(a);
  await batch.flush();
  return result;
}

/** Accumulates planned actions and applies them a batch at a time. */
class Batch {
  #actions: Action[] = [];
  #tmps: string[] = [];
  #bytes = 0;

  constructor(
    readonly ctx: PassContext,
    readonly opts: PassOptions,
    readonly result: PassResult,
    readonly say: (line: string) => void,
    readonly fail: (path: string, message: string) => void,
    readonly time: number,
  ) {}

  add(action: Action, tmp?: string, bytes = 0): void {
    this.#actions.push(action);
    if (tmp) this.#tmps.push(tmp);
    this.#bytes += bytes;
  }

  full(): boolean {
    return this.#tmps.length >= BATCH_FILES || this.#bytes >= BATCH_BYTES ||
      this.#actions.length >= BATCH_ACTIONS;
  }

  async flush(): Promise<void> {
    const actions = this.#actions;
    const tmps = this.#tmps;
    this.#actions = [];
    this.#tmps = [];
    this.#bytes = 0;
    if (actions.length === 0) return;
    if (this.opts.dryRun || !this.ctx.store) {
      for (const a of actions) this.#report(a);
      this.result.planned.push(...actions);
      return;
    }
    const store = this.ctx.store;
    const effectful = actions.filter((a) => a.type !== "skip" || a.refresh);
    await syncFiles(tmps);
    faultPoint("staged");
    const intent = effectful.length > 0
      ? store.writeIntent(this.ctx.runId, effectful, this.time)
      : undefined;
    faultPoint("journaled");
    const { done, failed } = await executeActions(this.ctx.root, effectful);
    faultPoint("executed");
    store.commitBatch(done, {
      runId: this.ctx.runId,
      time: this.time,
      trustBefore: this.time - RACY_WINDOW_MS,
    }, intent);
    faultPoint("committed");
    for (const f of failed) if ("content" in f.action) removeQuietly(f.action.content.tmp);
    const failures = new Map(failed.map((f) => [f.action, f.message]));
    for (const a of actions) {
      const message = failures.get(a);
      if (message === undefined) this.#report(a);
      else this.fail(a.path, message);
    }
    this.ctx.log?.flush();
  }

  #report(a: Action): void {
    this.result.counts[a.type]++;
    if ("content" in a && a.content.entry.kind === "file") {
      this.result.bytesCopied += a.content.entry.size;
    }
    for (const line of formatAction(a, this.ctx.rootName)) this.say(line);
  }
}

/** Removes a staged copy that will not be placed. */
function removeQuietly(tmp: string | undefined): void {
  if (!tmp) return;
  try {
    Deno.removeSync(tmp);
  } catch { /* already gone */ }
}

function vanishedPaths(
  ctx: PassContext,
  tracked: Map<string, TrackedFile>,
  seen: string[],
  unreadable: string[],
  opts: PassOptions,
): string[] {
  const present = new Set(seen);
  const inScope = scopeFilter(ctx, opts.scope);
  const under = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);
  return [...tracked.keys()]
    .filter((p) => !present.has(p) && inScope(p) && !unreadable.some((d) => under(p, d)))
    .sort();
}

/** Whether a logical path lies within the scanned scope. */
function scopeFilter(ctx: PassContext, scope?: Map<string, string[]>): (path: string) => boolean {
  if (!scope) return () => true;
  const prefixes: string[] = [];
  for (const s of ctx.config.sources) {
    for (const abs of scope.get(s.name) ?? []) {
      const rel = abs === s.path ? "" : abs.slice(s.path.length + 1).split(/[\\/]/).join("/");
      prefixes.push(rel === "" ? s.name : `${s.name}/${rel}`);
    }
  }
  return (p) => prefixes.some((d) => p === d || p.startsWith(`${d}/`));
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
    if (probe.hash === t.hash || !tmp) return { entry: probe.entry, hashed: probe };
  }
  const staged = stageEntry(entry, algo, buf, tmp);
  const input: PlanInput = { entry: staged.entry, hashed: staged };
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
    tracked: () => undefined,
    holdersOf: () => [],
    lastSeq: () => 0,
    isFile: () => false,
    isDir: () => false,
  };
}

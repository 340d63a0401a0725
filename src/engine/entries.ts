/**
 * Handles scanned entries one at a time for a pass: an entry whose fingerprint matches is
 * planned as a skip without being read; any other is read, hashed and (unless planning
 * only) staged as a temporary copy, then planned. The actions go into the pass's batch,
 * which is applied whenever it is full. An interruption leaves at most staged temporary
 * copies, which the next run removes.
 */
import { join } from "node:path";
import type { Batch } from "./batch.ts";
import { errorText } from "./errors.ts";
import { nativePath, removeQuietly } from "./fsops.ts";
import { needsHash, type PlanInput, type Planner, type PlanOptions } from "./plan.ts";
import type { PassContext, PassOptions, Progress } from "./pass.ts";
import { relPath } from "./scan.ts";
import { hashFile, hashText, READ_BUFFER_BYTES, stageEntry } from "./stage.ts";
import type { Fingerprint, ScanEntry, TrackedFile } from "./types.ts";

/** Numbers temporary copies uniquely across the passes of one process (a watch session). */
let tmpCounter = 0;

export class EntryHandler {
  readonly #buf = new Uint8Array(READ_BUFFER_BYTES);
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
    readonly fail: (path: string, message: string) => void,
  ) {}

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
    else this.#readAndPlan(entry, known);
    if (!this.batch.full()) return true;
    await this.batch.flush();
    return !this.opts.signal?.aborted;
  }

  #report(entry: ScanEntry, toRead: boolean): void {
    const p = this.#progress;
    p.filesDone++;
    p.current = entry.path;
    if (toRead) p.bytesDone += entry.size;
    this.opts.onProgress?.(p);
  }

  #readAndPlan(entry: ScanEntry, known: Fingerprint | undefined): void {
    const { ctx, opts } = this;
    const tmp = opts.dryRun ? undefined : join(ctx.tmpDir, `${ctx.runId}-${++tmpCounter}.tmp`);
    try {
      const t = known && ctx.store?.trackedOne(entry.path);
      const input = this.#read(entry, t, tmp);
      // The journal records the staged copy relative to the backup root, so recovery
      // finds it even when the disk comes back at another mount point.
      if (input.hashed?.tmp) input.hashed.tmp = relPath(ctx.root, input.hashed.tmp);
      const action = this.planner.planEntry(input);
      const staged = input.hashed?.tmp && tmp;
      if (staged && action.type === "skip") removeQuietly(staged); // same content after all
      // Only regular files are flushed; a staged symlink has no data to sync.
      const toSync = action.type !== "skip" && entry.kind === "file" ? staged : undefined;
      this.batch.add(action, toSync, entry.size);
    } catch (e) {
      removeQuietly(tmp);
      this.fail(entry.path, errorText(e));
    }
  }

  /**
   * Reads an entry for the planner. A tracked file of unchanged size and mtime (a chmod, a
   * move within the source's file system, an untrusted fingerprint) most likely has its old
   * content: it is hashed first without a copy, and copied only if its digest differs, so
   * an unchanged file costs no write. Everything else, modified files included, is hashed
   * and copied in one pass (a touch with unchanged content then costs a copy that is
   * thrown away, which is rarer than a real modification).
   */
  #read(entry: ScanEntry, t: TrackedFile | undefined, tmp: string | undefined): PlanInput {
    const algo = this.ctx.config.hashAlgorithm;
    const sameAlgo = t?.algo === algo;
    const likelySame = t?.size === entry.size && t.mtimeMs === entry.mtimeMs;
    if (t && sameAlgo && t.kind === entry.kind && likelySame) {
      const probe = stageEntry(entry, algo, this.#buf);
      if (probe.hash === t.hash || !tmp) return { entry: probe.entry, tracked: t, hashed: probe };
    }
    const staged = stageEntry(entry, algo, this.#buf, tmp);
    const input: PlanInput = { entry: staged.entry, tracked: t, hashed: staged };
    if (t && !sameAlgo) input.storedHash = this.#storedDigest(t);
    return input;
  }

  #storedDigest(t: TrackedFile): string {
    const { root, config } = this.ctx;
    const at = nativePath(root, t.storedAt);
    if (t.kind === "symlink") return hashText(Deno.readLinkSync(at), config.hashAlgorithm);
    return hashFile(at, config.hashAlgorithm, this.#buf);
  }
}

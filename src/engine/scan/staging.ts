/**
 * The rest of a pass's walk on a second core, in the staging worker (stage_worker.ts),
 * which walks the sources and sends what it finds in chunks, in walk order, while the main
 * thread plans, applies batches and waits for their flushes. Two kinds of job:
 *
 * - A first backup's: with nothing tracked in scope, nothing needs the state to decide what
 *   to read, so the worker reads, hashes and stages every entry as it goes (single-threaded,
 *   20,000 files: reading and staging took about half of the run, batches the other half).
 * - A walk only (`walkOnly`), for a pass over many tracked files: the worker lstats every
 *   entry after a split point and the main thread merges them with the state's
 *   fingerprints, once it has walked up to that point itself. lstat is the kernel's work
 *   (about 4.5 µs a file here, as for find), which was half of such a walk.
 *
 * After a walk-only job, the same worker reads the entries the walks held (`read`, see
 * read_ahead.ts), while the main thread plans them.
 *
 * A first backup's worker is spawned first and given its job later (`start`), so that the
 * main thread walks on while the worker loads its modules and the hash (`prepare`, about
 * 100 ms in all, measured here) and hands the walk over once it is ready. The worker runs at
 * most a job's credits in chunks ahead, which bounds the staged copies and the entries not
 * yet planned. Closing terminates it; an interruption leaves at most staged temporary
 * copies, which the next run removes.
 */
import type { Source } from "../../config/config.ts";
import type { ScanOptions, ScanProblem } from "./scan.ts";
import type { FolderMeta, ScanEntry } from "../../core/types.ts";
import { readChunk, type SourceRoots, sourceRoots, type WalkedChunk } from "./walk_chunk.ts";

/** Chunks of staged files the worker may send ahead of the main thread (4 × 256 files). */
const STAGING_CREDITS = 4;
/**
 * Chunks of walked entries the worker may send ahead (160 × 256 entries, about 10 MB at
 * 250 bytes an entry): while the main thread walks up to the split (at most 25,000
 * entries, walks.ts), the worker walks about half as many again past it; and a burst of
 * changed files to read must not stall the walk.
 */
const WALK_CREDITS = 160;

/** What the worker walks and where it stages. */
export interface StagingJob {
  sources: Source[];
  scan: Omit<
    ScanOptions,
    "onSpecial" | "onProblem" | "onSkipped" | "onFolder" | "onLeftOut" | "onLarge"
  >;
  algo: string;
  /** Only walk: send each entry as lstat found it, read nothing. */
  walkOnly?: boolean;
  /** Folder for temporary copies; absent when planning only (hash, no copy). */
  tmpDir?: string;
  /** Makes the worker's temporary file names unique in the folder. */
  tmpPrefix: string;
  credits: number;
}

/** A walked entry, staged (digest and temporary copy) unless the job only walks. */
export type StagedEntry = {
  entry: ScanEntry;
  hash?: string;
  tmp?: string;
  error?: string;
  vanished?: boolean;
  /** It kept changing while read (stage.ts `KeptChangingError`). */
  changing?: boolean;
  /** Its size, grown over exclude_larger_than since the walk (stage.ts `GrownLargeError`). */
  large?: number;
};

/** Something the scan reported between entries. */
export type WalkReport =
  | { special: ScanProblem }
  | { problem: ScanProblem }
  | { skipped: [abs: string, path: string] }
  | { leftOut: string }
  | { large: [path: string, size: number] }
  | { folder: [path: string, meta: FolderMeta] };

/** One result of a staging job, in walk order: a staged entry, or a report. */
export type StagedItem = StagedEntry | WalkReport;

export type WorkerMessage =
  | { type: "prepared" }
  | { type: "items"; items: StagedItem[] }
  | { type: "walked"; chunk: WalkedChunk<WalkReport> }
  | { type: "done"; unreadable: string[] }
  | { type: "read"; results: StagedEntry[] };

/** An entry to read and hash, and stage as `tmp` where given. */
export interface ReadRequest {
  entry: ScanEntry;
  tmp?: string;
  /** exclude_larger_than: a file grown over it since the walk is left out (stage.ts). */
  limit?: number | null;
}

/**
 * What the main thread sends: to get ready (`ready` set to 1 once it is), the job, a
 * credit, entries to read.
 */
export type WorkerRequest =
  | { type: "prepare"; ready: Int32Array }
  | { type: "start"; job: StagingJob }
  | { type: "credit" }
  | { type: "read"; algo: string; items: ReadRequest[] };

/** Passes a report to the scan option's callback for it. */
function passReport(scan: ScanOptions, item: WalkReport): void {
  if ("special" in item) scan.onSpecial?.(item.special);
  else if ("skipped" in item) scan.onSkipped?.(...item.skipped);
  else if ("problem" in item) scan.onProblem?.(item.problem);
  else if ("leftOut" in item) scan.onLeftOut?.(item.leftOut);
  else if ("large" in item) scan.onLarge?.(...item.large);
  else scan.onFolder?.(...item.folder);
}

/**
 * Spawns a worker, or undefined where no thread can be made now: under a limit of
 * threads (`ulimit -u`, a container's or a service's `TasksMax`) Deno's `new Worker`
 * throws `WouldBlock` (EAGAIN), and every first backup of over STAGING_AFTER files failed
 * with 'Resource temporarily unavailable (os error 11)' (limits hunt: --nproc=7). The
 * caller then does the worker's part on its own thread, which is only slower.
 */
export function spawnStaging(): StagingWalk | undefined {
  try {
    return new StagingWalk();
  } catch (e) {
    if (e instanceof Deno.errors.WouldBlock) return undefined;
    throw e;
  }
}

export class StagingWalk {
  readonly #worker: Worker;
  readonly #inbox: Exclude<WorkerMessage, { type: "read" | "prepared" }>[] = [];
  /** Set to 1 by the worker once it is prepared: read without waiting for a message. */
  readonly #ready = new Int32Array(new SharedArrayBuffer(4));
  #prepared = false;
  /** Answers to `read`, oldest first. */
  readonly #answers: StagedEntry[][] = [];
  #wake?: () => void;
  #failure?: Error;
  /** The job's sources, whose entries' absolute paths the walked chunks leave out. */
  #roots?: SourceRoots;
  /** What a failure of the worker could not do, for its error. */
  #task = "Cannot stage files";
  /** Logical folders the walk could not list (complete once `each` has returned true). */
  readonly unreadable: string[] = [];

  /** Spawns the worker; it loads its modules and waits for `start`. */
  constructor() {
    this.#worker = new Worker(new URL("./stage_worker.ts", import.meta.url), { type: "module" });
    this.#worker.onmessage = (e: MessageEvent<WorkerMessage>) => this.#receive(e.data);
    this.#worker.onerror = (e) => {
      e.preventDefault();
      this.#failure = new Error(`${this.#task}: the worker failed: ${e.message}`);
      this.#wake?.();
    };
  }

  /**
   * Asks the worker to load what a staging job needs (the hash) before its job comes, so
   * that this thread can walk on meanwhile; `prepared` tells when it is done.
   */
  prepare(): void {
    this.#post({ type: "prepare", ready: this.#ready });
  }

  /** Whether the worker is prepared: a look at shared memory, no turn of the event loop. */
  get prepared(): boolean {
    return Atomics.load(this.#ready, 0) === 1;
  }

  /** Waits until the worker is prepared. Throws if it fails. */
  async whenPrepared(): Promise<void> {
    await this.#until(() => this.#prepared);
  }

  /**
   * Starts the job: the walk `scan` describes (its callbacks stay on this thread, and are
   * called by `each`).
   */
  start(job: Omit<StagingJob, "credits" | "scan"> & { scan: ScanOptions }): void {
    if (job.walkOnly) this.#task = "Cannot walk the sources";
    this.#roots = sourceRoots(job.sources);
    const {
      onSpecial: _s,
      onProblem: _p,
      onSkipped: _k,
      onFolder: _f,
      onLeftOut: _l,
      onLarge: _g,
      ...scan
    } = job.scan;
    const credits = job.walkOnly ? WALK_CREDITS : STAGING_CREDITS;
    this.#post({ type: "start", job: { ...job, scan, credits } });
  }

  /**
   * Gives the walk's entries in order to `take`, each report between them to the callback of
   * `scan` (the options given to `start`); returns false as soon as `take` does, or as soon
   * as `signal` is aborted while it waits for the worker (which may be reading one large
   * file for minutes, or held: a stop must not wait for it). Throws if the worker fails. (A
   * plain loop over each chunk: an async generator's turn per entry cost the main thread
   * more than the entry's own handling.)
   */
  async each(
    scan: ScanOptions,
    take: (item: StagedEntry) => Promise<boolean>,
    signal?: AbortSignal,
  ): Promise<boolean> {
    for (;;) {
      const message = await this.#next(signal);
      if (message === undefined) return false;
      if (message.type === "done") {
        for (const path of message.unreadable) this.unreadable.push(path);
        return true;
      }
      this.#post({ type: "credit" });
      const report = (item: WalkReport) => passReport(scan, item);
      if (message.type === "walked") {
        const walked = message.chunk;
        if (!await readChunk(walked, report, (entry) => take({ entry }), this.#roots)) {
          return false;
        }
        continue;
      }
      for (const item of message.items) {
        if ("entry" in item) {
          if (!await take(item)) return false;
        } else report(item);
      }
    }
  }

  /**
   * Asks the worker to read, hash and stage `items` (after its walk, if it has one); the
   * answer comes from `nextRead`, one per call, in the order asked.
   */
  read(algo: string, items: ReadRequest[]): void {
    this.#task = "Cannot read the files to back up";
    this.#post({ type: "read", algo, items });
  }

  /**
   * The answer to the oldest `read` not yet answered: one result per item, in order;
   * undefined once `signal` is aborted while it waits (see `each`).
   */
  async nextRead(signal?: AbortSignal): Promise<StagedEntry[] | undefined> {
    return await this.#until(() => this.#answers.length > 0, signal)
      ? this.#answers.shift()!
      : undefined;
  }

  close(): void {
    this.#worker.terminate();
  }

  #post(request: WorkerRequest): void {
    this.#worker.postMessage(request);
  }

  #receive(message: WorkerMessage): void {
    if (message.type === "read") this.#answers.push(message.results);
    else if (message.type === "prepared") this.#prepared = true;
    else this.#inbox.push(message);
    this.#wake?.();
  }

  /** The next message of the walk; undefined once `signal` is aborted. */
  async #next(
    signal?: AbortSignal,
  ): Promise<Exclude<WorkerMessage, { type: "read" | "prepared" }> | undefined> {
    return await this.#until(() => this.#inbox.length > 0, signal)
      ? this.#inbox.shift()!
      : undefined;
  }

  /**
   * Waits for the worker's messages until `ready` holds (true) or `signal` is aborted
   * (false). Throws if the worker failed.
   */
  async #until(ready: () => boolean, signal?: AbortSignal): Promise<boolean> {
    const wake = () => this.#wake?.();
    signal?.addEventListener("abort", wake);
    try {
      while (!ready()) {
        if (this.#failure) throw this.#failure;
        if (signal?.aborted) return false;
        await new Promise<void>((resolve) => this.#wake = resolve);
        this.#wake = undefined;
      }
      return true;
    } finally {
      signal?.removeEventListener("abort", wake);
    }
  }
}

/**
 * A first backup's walk on a second core. With nothing tracked in scope, nothing needs the
 * state to decide what to read: every file is read, hashed and staged. The staging worker
 * (stage_worker.ts) walks the sources and stages each entry as it goes, sending results in
 * chunks, in walk order, while the main thread plans, applies batches and waits for their
 * flushes (single-threaded, 20,000 files: reading and staging took about half of the run,
 * batches the other half). The worker runs at most CHUNK_CREDITS chunks ahead, which bounds
 * the staged copies not yet planned. Closing terminates it; an interruption leaves at most
 * staged temporary copies, which the next run removes.
 */
import type { Source } from "../config/config.ts";
import type { ScanOptions, ScanProblem } from "./scan.ts";
import type { FolderMeta, ScanEntry } from "./types.ts";

/** Chunks the worker may send before the main thread has taken them (4 × 256 files ahead). */
const CHUNK_CREDITS = 4;

/** What the worker walks and where it stages. */
export interface StagingJob {
  sources: Source[];
  scan: Omit<ScanOptions, "onSpecial" | "onProblem" | "onSkipped">;
  algo: string;
  /** Folder for temporary copies; absent when planning only (hash, no copy). */
  tmpDir?: string;
  /** Makes the worker's temporary file names unique in the folder. */
  tmpPrefix: string;
  credits: number;
}

/** One walk result, in walk order: a staged entry, or a problem the scan reported. */
export type StagedItem =
  | { entry: ScanEntry; hash?: string; tmp?: string; error?: string; vanished?: boolean }
  | { special: ScanProblem }
  | { problem: ScanProblem }
  | { skipped: string }
  | { folder: [path: string, meta: FolderMeta] };

export type WorkerMessage =
  | { type: "items"; items: StagedItem[] }
  | { type: "done"; unreadable: string[] };

export class StagingWalk {
  readonly #worker: Worker;
  readonly #inbox: WorkerMessage[] = [];
  #wake?: () => void;
  #failure?: Error;
  /** Logical folders the walk could not list (complete once `items` has ended). */
  readonly unreadable: string[] = [];

  constructor(job: Omit<StagingJob, "credits">) {
    this.#worker = new Worker(new URL("./stage_worker.ts", import.meta.url), { type: "module" });
    this.#worker.onmessage = (e: MessageEvent<WorkerMessage>) => this.#receive(e.data);
    this.#worker.onerror = (e) => {
      e.preventDefault();
      this.#failure = new Error(`Cannot stage files: the staging worker failed: ${e.message}`);
      this.#wake?.();
    };
    this.#worker.postMessage({ type: "start", job: { ...job, credits: CHUNK_CREDITS } });
  }

  /** The walk's results in order; throws if the worker fails. */
  async *items(): AsyncGenerator<StagedItem> {
    for (;;) {
      const message = await this.#next();
      if (message.type === "done") {
        this.unreadable.push(...message.unreadable);
        return;
      }
      this.#worker.postMessage({ type: "credit" });
      yield* message.items;
    }
  }

  close(): void {
    this.#worker.terminate();
  }

  #receive(message: WorkerMessage): void {
    this.#inbox.push(message);
    this.#wake?.();
  }

  async #next(): Promise<WorkerMessage> {
    while (this.#inbox.length === 0) {
      if (this.#failure) throw this.#failure;
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = undefined;
    }
    return this.#inbox.shift()!;
  }
}

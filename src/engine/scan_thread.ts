/**
 * The scan, on a second core: `scanChunks` runs the walk in a worker (scan_worker.ts) and
 * yields its entries in chunks, in walk order, calling `onProblem`/`onSpecial` at their
 * place in the order (after the entries before them were handled). If the worker cannot
 * start (a build without its module), the walk runs on this thread instead, with the same
 * results. The worker is stopped when the consumer finishes or gives up early.
 */
import type { Source } from "../config/config.ts";
import { scanEntries, type ScanOptions, type Unreadable } from "./scan.ts";
import type { ScanEntry } from "./types.ts";
import { type PackedItems, unpackItems } from "./scan_pack.ts";

/** Entries per chunk: large enough to amortize a message, small enough to start early. */
export const CHUNK_ENTRIES = 512;

/** What the main thread asks the worker for. */
export interface ScanRequest {
  type: "scan";
  sources: Source[];
  opts: Omit<ScanOptions, "onSpecial" | "onProblem">;
}

/** What the worker posts: a chunk of items; the last one also carries the unreadable folders. */
export type ScanMessage = { packed: PackedItems; done?: { unreadable: string[] } } | {
  error: string;
};

/** The walk's entries in chunks, on a worker thread when `inWorker` (see the module doc). */
export async function* scanChunks(
  sources: Source[],
  opts: ScanOptions,
  unreadable: Unreadable,
  inWorker: boolean,
): AsyncGenerator<ScanEntry[]> {
  const messages = inWorker ? startWorker(sources, opts) : undefined;
  if (!messages) {
    yield* chunked(scanEntries(sources, opts, unreadable));
    return;
  }
  let received = 0;
  try {
    for (;;) {
      const message = await messages.next();
      if ("error" in message) {
        // Not started at all (its module is missing from a build): walk here instead.
        if (received === 0) {
          messages.stop();
          yield* chunked(scanEntries(sources, opts, unreadable));
          return;
        }
        throw new Error(`Cannot scan the sources: ${message.error}`);
      }
      received++;
      let run: ScanEntry[] = [];
      for (const item of unpackItems(message.packed)) {
        if ("problem" in item || "special" in item) {
          if (run.length > 0) yield run;
          run = [];
          if ("problem" in item) opts.onProblem?.(item.problem);
          else opts.onSpecial?.(item.special);
        } else run.push(item);
      }
      if (run.length > 0) yield run;
      if (message.done) {
        unreadable.push(...message.done.unreadable);
        return;
      }
      messages.ack();
    }
  } finally {
    messages.stop();
  }
}

function* chunked(entries: Iterable<ScanEntry>): Generator<ScanEntry[]> {
  let chunk: ScanEntry[] = [];
  for (const entry of entries) {
    chunk.push(entry);
    if (chunk.length < CHUNK_ENTRIES) continue;
    yield chunk;
    chunk = [];
  }
  if (chunk.length > 0) yield chunk;
}

interface WorkerMessages {
  next(): Promise<ScanMessage>;
  ack(): void;
  stop(): void;
}

/** Starts the worker; undefined when workers are not available here. */
function startWorker(sources: Source[], opts: ScanOptions): WorkerMessages | undefined {
  let worker: Worker;
  try {
    worker = new Worker(new URL("./scan_worker.ts", import.meta.url), { type: "module" });
  } catch {
    return undefined;
  }
  const queue: ScanMessage[] = [];
  let waiting: ((m: ScanMessage) => void) | undefined;
  const deliver = (m: ScanMessage) => {
    if (waiting) {
      waiting(m);
      waiting = undefined;
    } else queue.push(m);
  };
  worker.onmessage = (e: MessageEvent<ScanMessage>) => deliver(e.data);
  worker.onerror = (e) => {
    e.preventDefault();
    deliver({ error: e.message });
  };
  const { onProblem: _p, onSpecial: _s, ...plain } = opts;
  worker.postMessage({ type: "scan", sources, opts: plain } satisfies ScanRequest);
  return {
    next: () =>
      queue.length > 0
        ? Promise.resolve(queue.shift()!)
        : new Promise((resolve) => waiting = resolve),
    ack: () => worker.postMessage({ type: "ack" }),
    stop: () => worker.terminate(),
  };
}

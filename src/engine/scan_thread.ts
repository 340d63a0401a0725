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
import { type PackedItems, type ScanItem, unpackItems } from "./scan_pack.ts";

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
    for (const items of walkItems(sources, opts, unreadable)) yield* inOrder(items, opts);
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
          for (const items of walkItems(sources, opts, unreadable)) yield* inOrder(items, opts);
          return;
        }
        throw new Error(`Cannot scan the sources: ${message.error}`);
      }
      received++;
      yield* inOrder(unpackItems(message.packed), opts);
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

/**
 * The walk's items (entries, problems, special files) in order, CHUNK_ENTRIES entries at a
 * time; the worker posts each chunk, this thread hands it to `inOrder`.
 */
export function* walkItems(
  sources: Source[],
  opts: Omit<ScanOptions, "onSpecial" | "onProblem">,
  unreadable: Unreadable,
): Generator<ScanItem[]> {
  let items: ScanItem[] = [];
  const collecting: ScanOptions = {
    ...opts,
    onProblem: (problem) => items.push({ problem }),
    onSpecial: (special) => items.push({ special }),
  };
  let entries = 0;
  for (const entry of scanEntries(sources, collecting, unreadable)) {
    items.push(entry);
    if (++entries < CHUNK_ENTRIES) continue;
    yield items;
    items = [];
    entries = 0;
  }
  yield items;
}

/**
 * Yields a chunk's entries in runs, calling the problem and special-file callbacks between
 * them, so each is reported after the entries before it were handled.
 */
function* inOrder(items: ScanItem[], opts: ScanOptions): Generator<ScanEntry[]> {
  let run: ScanEntry[] = [];
  for (const item of items) {
    if ("problem" in item || "special" in item) {
      if (run.length > 0) yield run;
      run = [];
      if ("problem" in item) opts.onProblem?.(item.problem);
      else opts.onSpecial?.(item.special);
    } else run.push(item);
  }
  if (run.length > 0) yield run;
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

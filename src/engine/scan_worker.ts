/**
 * The scanner's worker thread: runs `scanEntries` for the main thread and posts what it
 * finds in chunks, in walk order, so listing folders and lstat'ing files (about half of a
 * no-change run) happen on a second core while the main thread merges the entries with
 * the state. It never gets more than MAX_AHEAD chunks ahead of the main thread, which
 * acknowledges each one, so memory stays flat however fast the walk is. Read-only: a
 * stopped worker leaves nothing behind.
 */
/// <reference lib="deno.worker" />
import { packItems, type ScanItem } from "./scan_pack.ts";
import { type ScanMessage, type ScanRequest, walkItems } from "./scan_thread.ts";

/** Chunks posted and not yet acknowledged, at most (about 1 MB of entries). */
const MAX_AHEAD = 4;

let credits = MAX_AHEAD;
let wake: (() => void) | undefined;

self.onmessage = (e: MessageEvent<ScanRequest | { type: "ack" }>) => {
  if (e.data.type === "ack") {
    credits++;
    wake?.();
    wake = undefined;
    return;
  }
  walk(e.data).catch((err) => post({ error: err instanceof Error ? err.message : String(err) }));
};

async function walk(req: ScanRequest): Promise<void> {
  const unreadable: string[] = [];
  let previous: ScanItem[] | undefined;
  // Each chunk is posted once the next exists, so the last one can carry `done`.
  for (const items of walkItems(req.sources, req.opts, unreadable)) {
    if (previous) await postChunk(previous);
    previous = items;
  }
  post({ packed: packItems(previous ?? []), done: { unreadable } });
}

async function postChunk(items: ScanItem[]): Promise<void> {
  if (credits === 0) await new Promise<void>((resolve) => wake = resolve);
  credits--;
  post({ packed: packItems(items) });
}

function post(message: ScanMessage): void {
  const transfer: Transferable[] = "packed" in message
    ? [message.packed.numbers.buffer as ArrayBuffer]
    : [];
  self.postMessage(message, transfer);
}

/**
 * The worker that holds a watch session's watchers (see watcher_host.ts): opens each
 * `Deno.watchFs` asked for, answers through the shared buffer (the caller waits for it), and
 * posts each watcher's events, in order, then its end. Deno keeps one watcher per thread,
 * with what it never gives back (kernel watches of folders still there, memory per folder
 * removed); ended with this worker, it gives all of it back. Terminated, it leaves nothing.
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import {
  ANSWERED,
  type HostAnswer,
  type HostRequest,
  isUndecodable,
  LENGTH,
  type WatcherMessage,
  writeAnswer,
} from "./watcher_host.ts";

let header: Int32Array | undefined;
let bytes: Uint8Array | undefined;
/** The watchers open, by id, until their reading ends. */
const open = new Map<number, Deno.FsWatcher>();

self.onmessage = (e: MessageEvent<HostRequest>) => {
  const request = e.data;
  if (request.type === "start") {
    header = new Int32Array(request.buffer, 0, 2);
    bytes = new Uint8Array(request.buffer, Int32Array.BYTES_PER_ELEMENT * 2);
    Atomics.store(header, LENGTH, 0);
    Atomics.store(header, ANSWERED, request.seq); // started
    Atomics.notify(header, ANSWERED);
  } else if (request.type === "open") {
    let answer: HostAnswer = { ok: true };
    try {
      const w = Deno.watchFs(request.paths, { recursive: request.recursive });
      open.set(request.id, w);
      void read(request.id, w);
    } catch (e) {
      answer = { ok: false, ...described(e) };
    }
    if (header && bytes) writeAnswer(header, bytes, request.seq, answer);
  } else {
    try {
      open.get(request.id)?.close();
    } catch { /* already closed */ }
  }
};

/** Posts the watcher's events as they come, then its end (after an error, if one ends it). */
async function read(id: number, w: Deno.FsWatcher): Promise<void> {
  const post = (message: WatcherMessage) => self.postMessage(message);
  const events = w[Symbol.asyncIterator]();
  try {
    while (true) {
      let next;
      try {
        next = await events.next();
      } catch (e) {
        // Deno throws for one event it cannot decode, and delivers the next ones.
        const undecodable = isUndecodable(e);
        post({ id, type: undecodable ? "undecodable" : "error", ...described(e) });
        if (undecodable) continue;
        break;
      }
      if (next.done) break;
      post({ id, type: "event", event: next.value });
    }
  } finally {
    open.delete(id);
    try {
      w.close();
    } catch { /* already closed */ }
    post({ id, type: "end" });
  }
}

function described(e: unknown): { name: string; message: string } {
  return e instanceof Error ? { name: e.name, message: e.message } : {
    name: "Error",
    message: String(e),
  };
}

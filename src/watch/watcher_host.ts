/**
 * Holds a watch session's watchers in a worker (watcher_worker.ts), ended once none of them
 * is open any more and made anew at the next opening. Deno (2.9.6) keeps one watcher per
 * thread, never dropped, and it keeps what the session closes: once a folder was removed
 * below a folder it follows, closing its watches leaves kernel watches on folders still
 * there (a source taken out of the config stayed watched), and a few hundred bytes per
 * folder removed stay for the life of the thread (bench/watchfs_worker_leak.ts). A worker's
 * end gives all of it back, and the session closes every watcher before each full rescan
 * and at a config edit (events.ts), so the host ends its worker there.
 *
 * `watchFs` stands for `Deno.watchFs`: the worker opens the watcher while this thread waits
 * for its answer (Atomics.wait on a shared buffer, so that an opening fails or succeeds
 * before it returns, as Deno's does; the FIFO guard, on around it, frees Deno's watcher
 * thread meanwhile as before: fifo_guard.ts). Events come as messages, in the order the
 * worker read them; an error the worker's reading met is thrown by the stand-in's, of the
 * same class and message. `close()` only asks the worker: this thread never waits on Deno's
 * watcher to close one.
 *
 * Where no worker can be made (a limit of threads), or one does not start within
 * READY_MS, the watchers are opened on this thread, as Deno's own. `close()` ends the
 * worker; an interruption leaves nothing (the watches end with the process).
 */

/** In the shared buffer's header: the number of the last answer, and its length in bytes. */
export const ANSWERED = 0;
export const LENGTH = 1;
/**
 * Room for an answer: an error's message names a path (of PATH_MAX, 4,096 bytes, at most).
 * One buffer serves the session's workers one after the other: a buffer per worker, freed
 * only at the heap's next collection, grew a process renewing them (4,000 renewals: 68 to
 * 156 MiB, against 62 to 71 so).
 */
const ANSWER_BYTES = 16 * 1024;
/**
 * Longest wait for a new worker to start: it loads a small module (about 15 ms measured),
 * longer on a busy machine.
 */
const READY_MS = 10_000;
/**
 * Longest wait for an opening's answer: Deno adds a kernel watch for each folder below a
 * recursive watch (a second or two per 100,000 folders), and a FIFO that holds it is freed
 * by the guard, or ends the process (fifo_guard.ts): only a worker gone wrong waits so long.
 */
const ANSWER_MS = 10 * 60_000;

/** Messages to the worker. */
export type HostRequest =
  | { type: "start"; buffer: SharedArrayBuffer; seq: number }
  | { type: "open"; id: number; seq: number; paths: string[]; recursive: boolean }
  | { type: "close"; id: number };

/** An opening's answer, through the shared buffer. */
export type HostAnswer = { ok: true } | { ok: false; name: string; message: string };

/** Messages from the worker, about the watcher `id`. */
export type WatcherMessage =
  | { id: number; type: "event"; event: Deno.FsEvent }
  | { id: number; type: "undecodable" | "error"; name: string; message: string }
  | { id: number; type: "end" };

/**
 * Whether a watcher's read failed for one event whose path is not valid UTF-8: Deno throws
 * for it and delivers the next ones.
 */
export function isUndecodable(e: unknown): boolean {
  return e instanceof TypeError && /invalid UTF-8/i.test(e.message);
}

/**
 * Writes an answer (cut to fit) for the waiting thread, and wakes it. Not one older than the
 * last written: a worker given up (ANSWER_MS) that answers late, once another answered.
 */
export function writeAnswer(
  header: Int32Array,
  bytes: Uint8Array,
  seq: number,
  answer: HostAnswer,
): void {
  if (Atomics.load(header, ANSWERED) > seq) return;
  const encoded = new TextEncoder().encode(JSON.stringify(answer));
  const fits = encoded.length <= bytes.length
    ? encoded
    : new TextEncoder().encode(JSON.stringify({ ...answer, message: "(too long to say)" }));
  bytes.set(fits);
  Atomics.store(header, LENGTH, fits.length);
  Atomics.store(header, ANSWERED, seq);
  Atomics.notify(header, ANSWERED);
}

export interface WatcherHost {
  /** Opens a watcher, in the worker where there is one. */
  watchFs: typeof Deno.watchFs;
  /** Ends the worker, and with it any watcher still open. */
  close(): void;
}

/** A host of watchers: its worker made at the first opening, ended when none is open. */
export function hostWatchers(): WatcherHost {
  const answers = new Answers();
  let worker: Running | undefined;
  /** No worker could be made or started: the watchers are this thread's, from then on. */
  let inThread = false;
  let closed = false;
  return {
    watchFs(paths, options) {
      const list = typeof paths === "string" ? [paths] : paths;
      const recursive = options?.recursive ?? true;
      if (!inThread && !closed) {
        worker ??= startWorker(answers, () => worker = undefined);
        if (worker === undefined) inThread = true;
      }
      if (worker === undefined) return Deno.watchFs(list, { recursive });
      return worker.open(list, recursive);
    },
    close() {
      closed = true;
      worker?.end();
    },
  };
}

interface Running {
  open(paths: string[], recursive: boolean): Deno.FsWatcher;
  end(): void;
}

/** The buffer the workers answer in, and the number of the last question. */
class Answers {
  readonly buffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * 2 + ANSWER_BYTES);
  readonly header = new Int32Array(this.buffer, 0, 2);
  readonly bytes = new Uint8Array(this.buffer, Int32Array.BYTES_PER_ELEMENT * 2);
  seq = 0;
}

/** A worker started, or undefined where none can be; `onEnd` once it is ended. */
function startWorker(answers: Answers, onEnd: () => void): Running | undefined {
  let worker: Worker;
  try {
    worker = new Worker(new URL("./watcher_worker.ts", import.meta.url).href, {
      type: "module",
    });
  } catch (e) {
    if (e instanceof Deno.errors.WouldBlock) return undefined; // no thread can be made now
    throw e;
  }
  const { buffer, header, bytes } = answers;
  const ready = ++answers.seq;
  worker.postMessage({ type: "start", buffer, seq: ready } satisfies HostRequest);
  if (!waitFor(header, ready, READY_MS)) {
    worker.terminate();
    return undefined;
  }
  const watchers = new Map<number, HostedWatcher>();
  let ids = 0;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    worker.terminate();
    for (const w of watchers.values()) w.take({ id: 0, type: "end" });
    onEnd();
  };
  worker.onmessage = (e: MessageEvent<WatcherMessage>) => watchers.get(e.data.id)?.take(e.data);
  worker.onerror = (e) => {
    e.preventDefault(); // its watchers end, and are reopened as after any failure
    for (const w of watchers.values()) {
      w.take({ id: 0, type: "error", name: "Error", message: `its worker failed: ${e.message}` });
    }
    end();
  };
  const post = (request: HostRequest) => worker.postMessage(request);
  return {
    open(paths, recursive) {
      if (ended) throw new Error("the watchers' worker was ended");
      const id = ++ids;
      const seq = ++answers.seq;
      post({ type: "open", id, seq, paths, recursive });
      if (!waitFor(header, seq, ANSWER_MS)) {
        end();
        throw new Error(`the watchers' worker did not answer in ${ANSWER_MS / 60_000} minutes`);
      }
      const length = Atomics.load(header, LENGTH);
      const answer: HostAnswer = JSON.parse(new TextDecoder().decode(bytes.slice(0, length)));
      if (!answer.ok) throw remade(answer);
      const watcher = new HostedWatcher(() => post({ type: "close", id }), () => {
        watchers.delete(id);
        if (watchers.size === 0) end(); // none open: its watcher's keepings go with it
      });
      watchers.set(id, watcher);
      return watcher;
    },
    end,
  };
}

/** Waits until the answer numbered `seq` is written; false after `ms`. */
function waitFor(header: Int32Array, seq: number, ms: number): boolean {
  const until = performance.now() + ms;
  while (true) {
    const now = Atomics.load(header, ANSWERED);
    if (now === seq) return true;
    const left = until - performance.now();
    if (left <= 0) return false;
    Atomics.wait(header, ANSWERED, now, left);
  }
}

/** The worker's error, of the same class where Deno has it (NotFound, PermissionDenied…). */
function remade({ name, message }: { name: string; message: string }): Error {
  const errors = Deno.errors as unknown as Record<string, ErrorConstructor | undefined>;
  if (name === "TypeError") return new TypeError(message);
  const e = new (errors[name] ?? Error)(message);
  if (errors[name] === undefined) e.name = name;
  return e;
}

/**
 * Deno.FsWatcher's stand-in: the worker's events for it, in order, then its end. It is
 * done with once both its end came and it was closed.
 */
class HostedWatcher implements Deno.FsWatcher {
  readonly #queue: WatcherMessage[] = [];
  #waiting: (() => void) | undefined;
  #ended = false;
  #closed = false;
  readonly #askClose: () => void;
  readonly #done: () => void;

  constructor(askClose: () => void, done: () => void) {
    this.#askClose = askClose;
    this.#done = done;
  }

  take(message: WatcherMessage): void {
    if (this.#ended) return;
    if (message.type === "end") {
      this.#ended = true;
      if (this.#closed) this.#done();
    }
    this.#queue.push(message);
    this.#waiting?.();
  }

  async next(): Promise<IteratorResult<Deno.FsEvent>> {
    while (this.#queue.length === 0) {
      await new Promise<void>((resolve) => this.#waiting = resolve);
      this.#waiting = undefined;
    }
    const message = this.#queue[0];
    if (message.type === "end") return { done: true, value: undefined };
    this.#queue.shift();
    if (message.type === "event") return { done: false, value: message.event };
    throw remade(message);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ended) this.#done();
    else this.#askClose();
  }

  return(): Promise<IteratorResult<Deno.FsEvent>> {
    this.close();
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Deno.FsEvent> {
    return this;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

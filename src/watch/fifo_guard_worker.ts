/**
 * The FIFO guard's worker (see fifo_guard.ts): while the main thread's count of guarded
 * calls is above 0, looks at Deno's watcher thread every LOOK_MS and opens a FIFO that holds
 * it (held_open.ts), keeping it open until asked to `release`; a thread held for STUCK_MS on
 * a path that is no FIFO any more ends the process, with a line in the log and on stderr.
 * Runs on its own thread, so it goes on while the main thread waits on Deno's watcher.
 * Writes nothing but that last line; terminated, it leaves nothing (its FIFOs close).
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { openLibc } from "../engine/fs/libc.ts";
import { oneLine } from "../log/one_line.ts";
import { ARMED, type GuardAnswer, type GuardContext, type GuardRequest } from "./fifo_guard.ts";
import { heldPath, openHeldFifo, watcherHeld } from "./held_open.ts";

/**
 * How often the watcher thread is looked at while a guarded call is under way: the call
 * waits about this long for a FIFO; a look reads a few small /proc files.
 */
const LOOK_MS = 10;
/**
 * How long a guarded call may wait on a thread held by a FIFO that cannot be opened (removed
 * or renamed) before the process is ended: long enough for the main thread, when it is not
 * waiting itself, to find that out and stop the session as it does (events.ts, `onStuck`).
 */
const STUCK_MS = 3000;

let flags: Int32Array | undefined;
let context: GuardContext = { logFile: "", code: 1 };
/** The FIFOs opened to free the thread, until released. */
const freed: Deno.FsFile[] = [];
let timer: ReturnType<typeof setTimeout> | undefined;
/**
 * The path the thread is held opening that is no FIFO any more (or "" where it cannot be
 * read), and since when (`performance.now()`): the same one look after look.
 */
let stuck: { path: string; since: number } | undefined;

self.onmessage = (e: MessageEvent<GuardRequest>) => {
  const request = e.data;
  if (request.type === "start") {
    flags = request.flags;
  } else if (request.type === "on") {
    context = { logFile: request.logFile, code: request.code };
    if (timer === undefined) look();
  } else {
    for (const fifo of freed.splice(0)) {
      try {
        fifo.close();
      } catch { /* already closed */ }
    }
    const answer: GuardAnswer = { type: "released", n: request.n };
    self.postMessage(answer);
  }
};

function look(): void {
  timer = undefined;
  if (flags === undefined || Atomics.load(flags, ARMED) === 0) {
    stuck = undefined;
    return;
  }
  if (watcherHeld()) free();
  else stuck = undefined;
  timer = setTimeout(look, LOOK_MS);
}

function free(): void {
  const fifo = openHeldFifo();
  if (fifo !== undefined) {
    freed.push(fifo);
    stuck = undefined;
    return;
  }
  const path = heldPath() ?? "";
  const now = performance.now();
  if (stuck?.path !== path) stuck = { path, since: now };
  else if (now - stuck.since >= STUCK_MS) end(path);
}

/** Says why in the log and on stderr, then ends the process: nothing else can. */
function end(path: string): never {
  const what = path === "" ? "a FIFO" : `'${path}'`;
  const message = `Watch stopped at once: Deno's watcher waits to open ${what}, a FIFO ` +
    "removed or renamed while it opened it, which nothing can free, and the watch waited " +
    `for that watcher for ${STUCK_MS / 1000} s: start the watch again (a service manager ` +
    "restarting it on failure does); the next run completes a batch cut short";
  const text = oneLine(message);
  try {
    if (context.logFile !== "") {
      const line = `${new Date().toISOString()} WARNING: ${text}\n`;
      Deno.writeTextFileSync(context.logFile, line, { append: true });
    }
  } catch { /* the log cannot be written: stderr says it */ }
  try {
    Deno.stderr.writeSync(new TextEncoder().encode(`WARNING: ${text}\n`));
  } catch { /* nothing more can be said */ }
  // `Deno.exit` in a worker ends the worker only.
  openLibc({ _exit: { parameters: ["i32"], result: "void" } })?.symbols._exit(context.code);
  Deno.kill(Deno.pid, "SIGKILL");
  throw new Error("unreachable: the process was ended");
}

/**
 * Frees Deno's watcher from a FIFO. For each event, Deno's watcher thread (the notify
 * crate's "notify-rs inotify loop") opens the path the event names, to read only, and
 * without O_NONBLOCK: a FIFO made in a followed folder holds that open until some process
 * opens the FIFO to write. Meanwhile no event is delivered, and closing the watcher, which
 * waits for that thread, hangs the session's end: a stopped `watch` never exits (seen with
 * Deno 2.9.6 on Linux: the thread waits in the kernel's `wait_for_partner`).
 *
 * On Linux, `heldFifo` finds such a thread in /proc/self/task (by its name, and where it
 * waits) and reads the path it is opening (the open call's argument, from /proc/self/mem).
 * `openHeldFifo` then opens that FIFO to read and write, which never waits and completes
 * the waiting open; the caller closes the watchers, then that handle: its close (a write
 * end closed) is an event, which a watcher still open would take up, opening the FIFO
 * again. `freeWatcher` does so for each FIFO in turn. Nothing is read from or written to
 * the FIFO, but a program waiting to read it at that moment is let through too, and then
 * sees its end (no writer left): Linux gives no way to complete one waiting open and not
 * another. A FIFO removed while the thread opened it cannot be opened again: nothing frees
 * that thread, and the caller gives the watchers up. Elsewhere there is no /proc, and
 * nothing is found. Reads only /proc; an interruption leaves nothing.
 */
import { sleepSync } from "../engine/sleep_sync.ts";

/** The watcher thread's name as /proc shows it (cut to 15 bytes). */
const WATCHER_THREAD = /^notify-rs/;
/** Where the kernel parks an open of a FIFO that waits for its other end. */
const FIFO_WAIT = "wait_for_partner";
/**
 * The open calls' numbers, by architecture, and which argument is the path: openat(2) on
 * both (x86_64 257, aarch64 56: its path is the second argument), and open(2) on x86_64 (2).
 */
const OPEN_CALLS: Record<string, Record<number, number>> = {
  x86_64: { 257: 1, 2: 0 },
  aarch64: { 56: 1 },
};
/** Longest path read from memory: PATH_MAX on Linux. */
const PATH_MAX = 4096;

/** Whether a watcher thread waits for a FIFO's other end (Linux). */
export function watcherHeld(): boolean {
  return Deno.build.os === "linux" && heldTasks().length > 0;
}

/** Looks of `freeWatcher`: as many FIFOs made at once as it frees in one go. */
const FREE_ROUNDS = 100;
/** The pause after each freed FIFO, for the thread to take up the next event (measured: µs). */
const FREE_PAUSE_MS = 5;
/**
 * Looks in a row that find the thread held opening the same path, no FIFO any more (removed
 * or renamed meanwhile), before it counts as held for good. In a row, and the same path: a
 * look can fall just as the thread is let through (by this thread, or by the FIFO guard's
 * worker: fifo_guard.ts) and read what it does next.
 */
const GONE_LOOKS = 3;

/**
 * Frees the watcher thread from each FIFO it waits on in turn (several made at once hold
 * it one after the other), adding each opened FIFO to `freed` for the caller to close once
 * the watchers are gone. False when the thread waits on a FIFO that is not there any more
 * (removed, or renamed, while the thread opened it), which nothing can free: held for good.
 * True otherwise, even where FIFOs made one after the other hold it again as soon as it is
 * let through (the caller's next look, or the guard, frees it then): taken for held for good,
 * such a stream, the thread held again after a look found it free, stopped a watch by itself,
 * and left its watchers to a close that nothing guarded any more (stress hunt, 2026-12-04).
 */
export function freeWatcher(freed: Deno.FsFile[]): boolean {
  let gone: string | undefined;
  let looks = 0;
  for (let round = 0; round < FREE_ROUNDS && watcherHeld(); round++) {
    const fifo = openHeldFifo();
    if (fifo) {
      freed.push(fifo);
      looks = 0;
    } else {
      // Looked at again first: the thread may have been let through meanwhile.
      const path = heldPath();
      looks = path !== undefined && path === gone ? looks + 1 : 1;
      gone = path;
      if (gone !== undefined && looks >= GONE_LOOKS) return false;
    }
    sleepSync(FREE_PAUSE_MS); // a synchronous pause: the thread goes on
  }
  return true;
}

/** The FIFO a watcher thread waits to open, if one does (Linux). */
export function heldFifo(): string | undefined {
  if (Deno.build.os !== "linux") return undefined;
  for (const task of heldTasks()) {
    const path = pathBeingOpened(task);
    if (path !== undefined && isFifo(path)) return path;
  }
  return undefined;
}

/**
 * The path a held watcher thread is opening, FIFO or not (one removed or renamed while the
 * thread opened it is no FIFO any more), if one is held and the path can be read (Linux).
 */
export function heldPath(): string | undefined {
  if (Deno.build.os !== "linux") return undefined;
  for (const task of heldTasks()) {
    const path = pathBeingOpened(task);
    if (path !== undefined) return path;
  }
  return undefined;
}

/**
 * The FIFO a watcher thread waits to open, opened to read and write (Linux opens a FIFO so
 * at once, as both of its ends): the thread's open completes. Close it after the watchers.
 */
export function openHeldFifo(): Deno.FsFile | undefined {
  const path = heldFifo();
  if (path === undefined) return undefined;
  try {
    return Deno.openSync(path, { read: true, write: true });
  } catch {
    return undefined; // gone or replaced meanwhile: the open fails, or completed by itself
  }
}

/**
 * What each thread of this process, by id, was named at the last looks: a thread keeps its
 * name once it has set it, so a name read at two looks in a row is taken as known and not
 * read again (an idle session looks every 2 s, and this process has a dozen threads; a
 * thread just made may not have set its name yet at the first). Ids no longer listed are
 * forgotten, so an id the kernel gives a new thread later is read anew.
 */
const threadNames = new Map<string, { comm: string; known: boolean }>();

/** The ids of the watcher threads waiting for a FIFO's other end. */
function heldTasks(): string[] {
  const held: string[] = [];
  try {
    const listed = new Set<string>();
    for (const { name } of Deno.readDirSync("/proc/self/task")) {
      listed.add(name);
      if (!isWatcherThread(name)) continue;
      if (readProc(`/proc/self/task/${name}/wchan`) === FIFO_WAIT) held.push(name);
    }
    for (const id of threadNames.keys()) if (!listed.has(id)) threadNames.delete(id);
  } catch {
    // No /proc (a container without it): nothing can be found.
  }
  return held;
}

function isWatcherThread(id: string): boolean {
  const was = threadNames.get(id);
  if (was?.known) return WATCHER_THREAD.test(was.comm);
  const comm = readProc(`/proc/self/task/${id}/comm`);
  if (comm === undefined) return false; // gone meanwhile
  threadNames.set(id, { comm, known: was?.comm === comm });
  return WATCHER_THREAD.test(comm);
}

/** The path a thread's open call names, read from its arguments; undefined if not known. */
function pathBeingOpened(task: string): string | undefined {
  // "257 0xffffffffffffff9c 0x7f14a0001234 0x80000 ...": the call's number, then arguments.
  const fields = readProc(`/proc/self/task/${task}/syscall`)?.split(" ");
  const which = OPEN_CALLS[Deno.build.arch]?.[Number(fields?.[0])];
  if (fields === undefined || which === undefined) return undefined;
  const address = Number(fields[1 + which]);
  if (!Number.isSafeInteger(address) || address === 0) return undefined;
  try {
    using mem = Deno.openSync("/proc/self/mem", { read: true });
    mem.seekSync(address, Deno.SeekMode.Start);
    const buf = new Uint8Array(PATH_MAX);
    const n = mem.readSync(buf) ?? 0;
    const end = buf.subarray(0, n).indexOf(0);
    return end > 0 ? new TextDecoder().decode(buf.subarray(0, end)) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `path` is a FIFO, or a symlink to one: Deno's thread follows a symlink (one in a
 * source, to a FIFO anywhere, held it as well), and so does the open that frees it. Taken
 * for no FIFO before, such a symlink stopped a watch as held for good (stress hunt).
 */
function isFifo(path: string): boolean {
  try {
    return Deno.statSync(path).isFifo === true;
  } catch {
    return false;
  }
}

function readProc(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path).trim();
  } catch {
    return undefined;
  }
}

// Whether a Worker's end frees what Deno's watcher keeps of folders gone:
// `deno run -A bench/watchfs_worker_leak.ts [--rounds N]` (Linux: it reads /proc/self). Each
// part is run twice, with Deno.watchFs called on the main thread, then in a Worker made for
// the round and terminated at its end (as a watch would renew its watchers), from
// Deno.watchFs alone (no part of the tool); watchfs_leak.ts has the main thread's figures.
//
//   1. Memory: per round a recursive watcher opened on a folder, 2,500 folders (each with a
//      folder in it, names of 150 characters) made and removed below it, the watcher closed
//      (main thread) or its worker ended: RSS, threads and descriptors after each round,
//      against the same rounds with no watcher (a worker that watches nothing).
//   2. A source taken out: a watcher on two folders of 6 subfolders each (25 folders), one
//      subfolder of the second removed, the watcher closed (or its worker ended), then one
//      opened on the first alone (13 folders): the kernel's watches after the close, and with
//      the first alone, each round.
//   3. A worker held: its watcher's thread waiting to open a FIFO made in the folder it
//      follows, the worker closing the watcher (which waits on that thread, for good), then
//      terminated: how long `terminate()` and the worker's end take, and whether the main
//      thread goes on (a timer fires).

import { join } from "node:path";
import { inotifyWatches } from "../src/watch/watch_count.ts";
import { parseArgs } from "node:util";

const { values } = parseArgs({ args: Deno.args, options: { rounds: { type: "string" } } });
/** Rounds of each part: 8 show a climb of 40,000 folders' worth. */
const ROUNDS = Number(values.rounds ?? 8);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const status = (key: string) =>
  Number(new RegExp(`${key}:\\s+(\\d+)`).exec(Deno.readTextFileSync("/proc/self/status"))?.[1]);
const rssMiB = () => status("VmRSS") / 1024;
const count = (dir: string) => [...Deno.readDirSync(dir)].length;
const figures = () =>
  `RSS ${rssMiB().toFixed(1)} MiB, ${status("Threads")} threads, ` +
  `${count("/proc/self/fd")} fds, ${watches()} watches`;

/** The inotify watches this process holds (the `inotify wd:` lines of its fdinfo). */
const watches = () => inotifyWatches() ?? 0;

/**
 * A watcher on `paths` (none: a worker that watches nothing) on the main thread or in a
 * worker; `end()` closes it, or terminates the worker, and resolves once its reading ended.
 */
async function watcher(
  paths: string[],
  inWorker: boolean,
): Promise<{ end(): Promise<void>; worker?: Worker }> {
  if (!inWorker) {
    const w = Deno.watchFs(paths);
    const reading = (async () => {
      for await (const _ of w) { /* events are not the point */ }
    })();
    await sleep(200);
    return {
      async end() {
        w.close();
        await reading;
      },
    };
  }
  const code = `
    self.onmessage = async (e) => {
      if (e.data.length === 0) return self.postMessage("open");
      const w = Deno.watchFs(e.data);
      self.postMessage("open");
      for await (const _ of w) {}
    };`;
  const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  const open = new Promise((resolve) => worker.onmessage = resolve);
  worker.postMessage(paths);
  await open;
  await sleep(200);
  return {
    worker,
    async end() {
      worker.terminate();
      URL.revokeObjectURL(url);
      await sleep(300); // its thread ends by itself
    },
  };
}

async function memory(dir: string, watched: boolean, inWorker: boolean): Promise<void> {
  const root = join(dir, `m${watched ? "w" : "p"}${inWorker ? "t" : "m"}`);
  Deno.mkdirSync(root);
  const long = "x".repeat(150);
  for (let round = 1; round <= ROUNDS; round++) {
    const w = watched || inWorker ? await watcher(watched ? [root] : [], inWorker) : undefined;
    for (let i = 0; i < 2500; i++) {
      Deno.mkdirSync(join(root, `${long}${round}_${i}`, long), { recursive: true });
    }
    await sleep(300);
    for (let i = 0; i < 2500; i++) {
      Deno.removeSync(join(root, `${long}${round}_${i}`), { recursive: true });
    }
    await sleep(500);
    await w?.end();
    console.log(`   ${round * 5000} folders made and removed: ${figures()}`);
  }
}

async function sourceTakenOut(dir: string, inWorker: boolean): Promise<void> {
  for (let round = 1; round <= ROUNDS; round++) {
    const [a, b] = [join(dir, `a${round}${inWorker}`), join(dir, `b${round}${inWorker}`)];
    for (const s of [a, b]) {
      for (let i = 0; i < 6; i++) Deno.mkdirSync(join(s, `d${i}`, "e"), { recursive: true });
    }
    const before = watches();
    const both = await watcher([a, b], inWorker);
    const open = watches() - before;
    Deno.removeSync(join(b, "d0"), { recursive: true });
    await sleep(200);
    await both.end();
    const closed = watches() - before;
    const first = await watcher([a], inWorker);
    const alone = watches() - before;
    await first.end();
    console.log(
      `   round ${round}: both open ${open} (25 folders, then 23); closed ${closed}; ` +
        `the first alone ${alone} (13 folders); ${figures()}`,
    );
  }
}

async function held(dir: string): Promise<void> {
  const root = join(dir, "held");
  Deno.mkdirSync(root);
  const code = `
    self.onmessage = async (e) => {
      if (e.data === "close") { w.close(); self.postMessage("closed"); return; }
      globalThis.w = Deno.watchFs(e.data);
      self.postMessage("open");
      for await (const _ of w) {}
    };`;
  const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  let said = new Promise((resolve) => worker.onmessage = resolve);
  worker.postMessage(root);
  await said;
  await sleep(200);
  const fifo = join(root, "fifo");
  new Deno.Command("mkfifo", { args: [fifo] }).outputSync();
  await sleep(300);
  const wchan = [...Deno.readDirSync("/proc/self/task")].map((t) => {
    try {
      const comm = Deno.readTextFileSync(`/proc/self/task/${t.name}/comm`).trim();
      return `${comm}:${Deno.readTextFileSync(`/proc/self/task/${t.name}/wchan`)}`;
    } catch {
      return "";
    }
  }).filter((s) => s.startsWith("notify"));
  said = new Promise((resolve) => worker.onmessage = resolve);
  worker.postMessage("close");
  const closed = await Promise.race([said.then(() => true), sleep(1000).then(() => false)]);
  const t0 = performance.now();
  worker.terminate();
  const terminateMs = performance.now() - t0;
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  await sleep(500);
  clearInterval(timer);
  console.log(
    `   watcher threads ${wchan.join(", ")}; the worker's close ${
      closed ? "returned" : "still waiting after 1 s"
    }; terminate() took ${terminateMs.toFixed(1)} ms; ${ticks} ticks of a 10 ms timer in ` +
      `the 500 ms after; ${figures()}`,
  );
  URL.revokeObjectURL(url);
  // Lets the held thread through, so that the process can end however Deno ends threads.
  using _ = Deno.openSync(fifo, { read: true, write: true });
  await sleep(100);
}

const dir = await Deno.makeTempDir({ prefix: "watchfs-worker-leak-" });
try {
  console.log(`at the start: ${figures()}`);
  for (const inWorker of [false, true]) {
    const where = inWorker ? "in a worker ended each round" : "on the main thread";
    console.log(`1. memory, no watcher (${inWorker ? "a worker each round" : "none"}):`);
    await memory(dir, false, inWorker);
    console.log(`1. memory, a recursive watcher ${where}:`);
    await memory(dir, true, inWorker);
  }
  for (const inWorker of [false, true]) {
    console.log(`2. a source taken out, ${inWorker ? "in a worker" : "on the main thread"}:`);
    await sourceTakenOut(dir, inWorker);
  }
  console.log("3. a worker whose watcher is held by a FIFO, terminated:");
  await held(dir);
  console.log(`at the end: ${figures()}`);
} finally {
  Deno.removeSync(dir, { recursive: true });
}

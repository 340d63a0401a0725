// What Deno's own watcher keeps of folders gone: `deno run -A bench/watchfs_leak.ts`. Two
// figures, each from Deno.watchFs alone (no part of the tool), for the watch soak
// (watch_soak.ts) to be read against (Linux: it reads /proc/self):
//
//   1. Memory: one recursive watcher left open on a folder in which ROUNDS × 2,500 folders
//      (each with a folder in it, names of 150 characters) are made and removed; RSS after each
//      round, against the same rounds with no watcher.
//   2. Watches: a recursive watcher on two folders, one subfolder of the second removed, the
//      watcher closed, then one opened on the first alone (the second taken out of a watch's
//      config): the kernel's watches against the folders of the first.
//
// Deno shares one watcher among all the Deno.watchFs of a thread (an OpState), never dropped; a
// Worker has its own, dropped with the worker (3.: the count before and after its end, less
// those part 2 left in the main thread).

import { join } from "node:path";
import { inotifyWatches } from "../src/watch/watch_count.ts";

const ROUNDS = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMiB = () =>
  Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))?.[1] ?? 0) / 1024;

/** The inotify watches this process holds (the `inotify wd:` lines of its fdinfo). */
const watches = () => inotifyWatches() ?? 0;

async function drain(w: Deno.FsWatcher) {
  for await (const _ of w) { /* events are not the point */ }
}

async function memory(dir: string, watched: boolean): Promise<string[]> {
  const root = join(dir, watched ? "watched" : "plain");
  Deno.mkdirSync(root);
  const w = watched ? Deno.watchFs(root) : undefined;
  const reading = w ? drain(w) : undefined;
  await sleep(200);
  const long = "x".repeat(150);
  const rows: string[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (let i = 0; i < 2500; i++) {
      Deno.mkdirSync(join(root, `${long}${round}_${i}`, long), { recursive: true });
    }
    await sleep(300);
    for (let i = 0; i < 2500; i++) {
      Deno.removeSync(join(root, `${long}${round}_${i}`), { recursive: true });
    }
    await sleep(500);
    rows.push(`${round * 5000} folders made and removed: RSS ${rssMiB().toFixed(1)} MiB`);
  }
  w?.close();
  await reading;
  return rows;
}

async function leftWatches(dir: string): Promise<string> {
  const [a, b] = [join(dir, "a"), join(dir, "b")];
  for (const s of [a, b]) {
    for (let i = 0; i < 6; i++) Deno.mkdirSync(join(s, `d${i}`, "e"), { recursive: true });
  }
  let w = Deno.watchFs([a, b]);
  let reading = drain(w);
  await sleep(200);
  Deno.removeSync(join(b, "d0"), { recursive: true });
  await sleep(200);
  w.close();
  await reading;
  const afterClose = watches();
  w = Deno.watchFs([a]);
  reading = drain(w);
  await sleep(200);
  const line = `closed with none open: ${afterClose} watches; then '${a}' alone: ${watches()} ` +
    `watches for its 13 folders`;
  w.close();
  await reading;
  return line;
}

/** Part 2 again in a Worker of its own: the watches the process holds once it is ended. */
async function inWorker(dir: string): Promise<string> {
  const root = join(dir, "w");
  for (let i = 0; i < 6; i++) Deno.mkdirSync(join(root, `d${i}`, "e"), { recursive: true });
  const code = `
    const w = Deno.watchFs(${JSON.stringify(root)});
    (async () => { for await (const _ of w) {} })();
    setTimeout(() => {
      Deno.removeSync(${JSON.stringify(join(root, "d0"))}, { recursive: true });
      setTimeout(() => { w.close(); self.postMessage("closed"); }, 200);
    }, 200);`;
  const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  await new Promise((resolve) => worker.onmessage = resolve);
  const before = watches();
  worker.terminate();
  await sleep(500);
  URL.revokeObjectURL(url);
  return `${before} watches left by its close, ${watches()} once it ended`;
}

const dir = await Deno.makeTempDir({ prefix: "watchfs-leak-" });
try {
  console.log("1. memory, no watcher:");
  for (const r of await memory(dir, false)) console.log(`   ${r}`);
  console.log("1. memory, one recursive watcher open:");
  for (const r of await memory(dir, true)) console.log(`   ${r}`);
  console.log(`2. ${await leftWatches(dir)}`);
  console.log(`   after all closed: ${watches()} watches held by this thread's watcher`);
  console.log(`3. the same in a Worker, then terminated: ${await inWorker(dir)}`);
} finally {
  Deno.removeSync(dir, { recursive: true });
}

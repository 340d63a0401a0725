/**
 * Unit tests of watcher_host.ts on real folders: the worker's watchers hand events on in
 * order, fail as Deno's do, and give back every kernel watch once closed (Deno's own, on one
 * thread, keeps some after a folder was removed below it); where no worker can be made,
 * Deno's are used on this thread.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { poll } from "../../tests/helpers.ts";
import { hostWatchers } from "./watcher_host.ts";

/**
 * The kernel watches this process holds on the folders whose inodes are given (a test's
 * own): the process's whole count would take in the watchers of the test files run beside
 * this one (`deno test --parallel`).
 */
function watchesOn(inodes: Set<number>): number {
  let n = 0;
  for (const fd of Deno.readDirSync("/proc/self/fdinfo")) {
    let info: string;
    try {
      info = Deno.readTextFileSync(`/proc/self/fdinfo/${fd.name}`);
    } catch {
      continue; // closed meanwhile
    }
    for (const [, ino] of info.matchAll(/^inotify wd:[0-9a-f]+ ino:([0-9a-f]+) /gm)) {
      if (inodes.has(Number(BigInt(`0x${ino}`)))) n++;
    }
  }
  return n;
}

/** The inodes of `root` and every folder below it. */
function folderInodes(root: string): Set<number> {
  const inodes = new Set([Deno.statSync(root).ino!]);
  for (const e of Deno.readDirSync(root)) {
    if (e.isDirectory) { for (const ino of folderInodes(join(root, e.name))) inodes.add(ino); }
  }
  return inodes;
}

/** The watcher's events until one names `last`, read as they come. */
async function eventsUntil(w: Deno.FsWatcher, last: string): Promise<Deno.FsEvent[]> {
  const seen: Deno.FsEvent[] = [];
  for await (const event of w) {
    seen.push(event);
    if (event.paths.includes(last)) break;
  }
  return seen;
}

Deno.test("watcher host: events of a recursive watch come in order, and its close ends them", async () => {
  const dir = Deno.makeTempDirSync();
  const host = hostWatchers();
  try {
    Deno.mkdirSync(join(dir, "sub"));
    const w = host.watchFs(dir);
    const names = ["a", "b", "c", "sub/d"].map((n) => join(dir, n));
    const reading = eventsUntil(w, names[3]);
    for (const name of names) Deno.writeTextFileSync(name, name);
    const created = (await reading).filter((e) => e.kind === "create").flatMap((e) => e.paths);
    assert.deepEqual(created, names);
    w.close();
    const rest = await Array.fromAsync(w); // ends once the worker closed it
    assert.ok(rest.every((e) => !e.paths.includes(join(dir, "later"))));
  } finally {
    host.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("watcher host: an opening fails as Deno's does, of the same class", () => {
  const dir = Deno.makeTempDirSync();
  const host = hostWatchers();
  try {
    assert.throws(() => host.watchFs(join(dir, "missing")), Deno.errors.NotFound);
    const w = host.watchFs(dir, { recursive: false }); // the host still opens the next
    w.close();
  } finally {
    host.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "watcher host: once its watchers are closed, no kernel watch is left, folders removed below them or not",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const dir = Deno.makeTempDirSync();
    const host = hostWatchers();
    try {
      const [a, b] = [join(dir, "a"), join(dir, "b")];
      for (const s of [a, b]) {
        for (let i = 0; i < 6; i++) Deno.mkdirSync(join(s, `d${i}`, "e"), { recursive: true });
      }
      const inodes = new Set([...folderInodes(a), ...folderInodes(b)]);
      assert.equal(inodes.size, 26);
      for (let round = 0; round < 3; round++) {
        const w = host.watchFs([a, b]);
        const reading = Array.fromAsync(w);
        assert.equal(watchesOn(inodes), 26 - 2 * round); // each folder, once
        // Deno's watcher on one thread kept watches of other folders once one was removed.
        Deno.removeSync(join(b, `d${round}`), { recursive: true });
        await poll("the removal's events", () => watchesOn(inodes) === 24 - 2 * round);
        w.close();
        await reading;
        await poll("every watch given back", () => watchesOn(inodes) === 0, 10_000);
      }
    } finally {
      host.close();
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test("watcher host: where no worker can be made, Deno's watchers are used on this thread", async () => {
  const dir = Deno.makeTempDirSync();
  const real = globalThis.Worker;
  globalThis.Worker = class {
    constructor() {
      throw new Deno.errors.WouldBlock("Resource temporarily unavailable (os error 11)");
    }
  } as unknown as typeof Worker;
  const host = hostWatchers();
  try {
    const w = host.watchFs(dir);
    const reading = eventsUntil(w, join(dir, "a"));
    Deno.writeTextFileSync(join(dir, "a"), "a");
    assert.ok((await reading).length > 0);
    w.close();
  } finally {
    globalThis.Worker = real;
    host.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

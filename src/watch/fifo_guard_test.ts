/**
 * The FIFO guard frees this thread from a watch closed while Deno's watcher thread is held
 * opening a FIFO, and ends the process, saying why, where nothing can free it. Each case
 * runs in a process of its own (a held process cannot be a test's): a small program that
 * holds its own watcher thread, then closes the watch with the guard on, or not.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type ChildOutcome, runChildProgram } from "./test_util.ts";

/** Generous: the thread takes the event up within milliseconds, the guard within 10 ms. */
const DEADLINE_MS = 30_000;

/**
 * Arguments: a folder, then `guard` or `bare`, then `remove` to remove the FIFO once it
 * holds the thread (held for good). Prints `ended` once the watch's close has ended.
 */
const PROGRAM = `
import { join } from "node:path";
import { startGuard } from ${JSON.stringify(new URL("./fifo_guard.ts", import.meta.url).href)};
import { heldFifo, heldPath } from ${
  JSON.stringify(new URL("./held_open.ts", import.meta.url).href)
};
const [dir, how, remove] = Deno.args;
const guard = startGuard(() => ({ logFile: join(dir, "log"), code: 3 }));
const watcher = Deno.watchFs(join(dir, "src"));
const loop = (async () => { for await (const _ of watcher) { /* not looked at */ } })();
const fifo = join(dir, "src", "q");
const made = new Deno.Command("mkfifo", { args: [fifo] }).outputSync();
if (made.code !== 0) throw new Error("mkfifo failed");
while (heldFifo() !== fifo) await new Promise((r) => setTimeout(r, 10));
if (remove === "remove") {
  Deno.removeSync(fifo);
  while (heldPath() !== fifo) await new Promise((r) => setTimeout(r, 10));
}
console.log("held");
const off = how === "guard" ? guard.on() : () => Promise.resolve();
watcher.close();
await loop; // the watch ends once its read has: Deno waits for its watcher thread then
await off();
guard.close();
console.log("ended");
`;

/** The program's outcome (its code undefined where it still ran after `waitMs`), its log. */
interface Outcome extends ChildOutcome {
  log: string;
}

async function runProgram(how: "guard" | "bare", remove: boolean, waitMs: number) {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(join(dir, "src"));
    const program = join(dir, "program.ts");
    Deno.writeTextFileSync(program, PROGRAM);
    const out = await runChildProgram(program, [dir, how, remove ? "remove" : "keep"], waitMs);
    let log = "";
    try {
      log = Deno.readTextFileSync(join(dir, "log"));
    } catch { /* none written */ }
    return { ...out, log } satisfies Outcome;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test({
  name: "fifo guard: a watch closed while Deno's watcher is held by a FIFO ends, the guard on",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const r = await runProgram("guard", false, DEADLINE_MS);
    assert.equal(r.code, 0, `the close hung, or failed: ${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /held\nended/);
  },
});

Deno.test({
  name: "fifo guard: without it, the same close holds the process for good (Deno 2.9.6; if " +
    "this fails, Deno no longer waits there, and the guard may go)",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const r = await runProgram("bare", false, 3000);
    assert.equal(r.code, undefined, `it ended: ${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /held/);
    assert.doesNotMatch(r.stdout, /ended/);
  },
});

Deno.test({
  name: "fifo guard: a FIFO removed while it held Deno's watcher holds the close for good: the " +
    "guard says so in the log and on stderr, and ends the process with the code it was given",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const r = await runProgram("guard", true, DEADLINE_MS);
    assert.equal(r.code, 3, `${r.stdout}\n${r.stderr}`); // FFI permitted (-A): _exit(3)
    assert.doesNotMatch(r.stdout, /ended/);
    const said = /WARNING: Watch stopped at once: Deno's watcher waits to open '.*\/src\/q'/;
    assert.match(r.stderr, said);
    assert.match(r.log, said);
  },
});

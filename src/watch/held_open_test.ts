/**
 * Deno's watcher thread held opening a FIFO is found, freed, and the watcher then ends.
 * Each case runs in a process of its own: `heldFifo` looks at every watcher thread of the
 * process (/proc/self/task), so in the test process it saw those of test files running
 * beside this one (`--parallel`: one process), and their watches' own freeing (the FIFO
 * guard, `dropWatchers`) could let this one's thread through, or hold it again, meanwhile.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runChildProgram } from "./test_util.ts";

/** Generous: the thread takes the event up within milliseconds. */
const DEADLINE_MS = 30_000;

/**
 * Arguments: a folder holding `watched/` and `elsewhere/`, then `fifo` (a FIFO made in the
 * watched folder) or `link` (a symlink there to a FIFO elsewhere). Watches the folder,
 * makes the FIFO, waits, polling, until the watcher thread is held opening it, frees it,
 * and closes the watcher: freed, the watcher's close completes; the FIFO is closed once it
 * has. Prints `freed` then.
 */
const PROGRAM = `
import assert from "node:assert/strict";
import { join } from "node:path";
import { heldFifo, openHeldFifo } from ${
  JSON.stringify(new URL("./held_open.ts", import.meta.url).href)
};
const [dir, how] = Deno.args;
const watched = join(dir, "watched");
const watcher = Deno.watchFs(watched);
const loop = (async () => { for await (const _ of watcher) { /* not looked at */ } })();
assert.equal(heldFifo(), undefined, "nothing is held before a FIFO appears");
const mkfifo = (path) =>
  assert.equal(new Deno.Command("mkfifo", { args: [path] }).outputSync().code, 0);
let path = join(watched, "p");
if (how === "fifo") mkfifo(path);
else {
  const fifo = join(dir, "elsewhere", "p");
  mkfifo(fifo);
  path = join(watched, "link");
  Deno.symlinkSync(fifo, path);
}
const started = performance.now();
while (heldFifo() !== path) {
  assert.ok(performance.now() - started < ${DEADLINE_MS}, "the thread was never held by " + path);
  await new Promise((r) => setTimeout(r, 20));
}
{
  using _freed = openHeldFifo();
  watcher.close();
  await loop;
}
assert.equal(heldFifo(), undefined);
console.log("freed");
`;

/** Runs PROGRAM for `how`; fails if it fails, or still runs past the deadline (killed). */
async function heldAndFreed(how: "fifo" | "link"): Promise<void> {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(join(dir, "watched"));
    Deno.mkdirSync(join(dir, "elsewhere"));
    const program = join(dir, "program.js");
    Deno.writeTextFileSync(program, PROGRAM);
    const out = await runChildProgram(program, [dir, how], 2 * DEADLINE_MS);
    const said = `${out.stdout}\n${out.stderr}`;
    assert.notEqual(out.code, undefined, `the watcher's close hung: ${said}`);
    assert.equal(out.code, 0, said);
    assert.match(out.stdout, /^freed$/m);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test({
  name: "heldFifo finds the watcher thread waiting to open a FIFO; openHeldFifo frees it",
  ignore: Deno.build.os !== "linux",
  fn: () => heldAndFreed("fifo"),
});

Deno.test({
  name: "heldFifo finds the watcher thread held by a symlink to a FIFO (anywhere); it is freed so",
  ignore: Deno.build.os !== "linux",
  fn: () => heldAndFreed("link"),
});

/** Deno's watcher thread held opening a FIFO is found, freed, and the watcher then ends. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { heldFifo, openHeldFifo } from "./held_open.ts";

/** Generous: the thread takes the event up within milliseconds. */
const DEADLINE_MS = 30_000;

/** A watcher on `dir` whose events are read (and not looked at), and its reading loop. */
function watching(dir: string): { watcher: Deno.FsWatcher; loop: Promise<void> } {
  const watcher = Deno.watchFs(dir);
  const loop = (async () => {
    for await (const _ of watcher) { /* events are not looked at */ }
  })();
  return { watcher, loop };
}

/**
 * Waits, polling, until the watcher thread is held opening `path`, frees it, and closes the
 * watcher: freed, the watcher's close completes; the FIFO is closed once it has.
 */
async function freeAndClose(
  { watcher, loop }: { watcher: Deno.FsWatcher; loop: Promise<void> },
  path: string,
): Promise<void> {
  const started = performance.now();
  while (heldFifo() !== path) {
    assert.ok(performance.now() - started < DEADLINE_MS, `the thread was never held by '${path}'`);
    await new Promise((r) => setTimeout(r, 20));
  }
  using _freed = openHeldFifo();
  watcher.close();
  await loop;
  assert.equal(heldFifo(), undefined);
}

Deno.test({
  name: "heldFifo finds the watcher thread waiting to open a FIFO; openHeldFifo frees it",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const dir = Deno.makeTempDirSync();
    try {
      const watch = watching(dir);
      assert.equal(heldFifo(), undefined, "nothing is held before a FIFO appears");
      const fifo = join(dir, "p");
      assert.equal(new Deno.Command("mkfifo", { args: [fifo] }).outputSync().code, 0);
      await freeAndClose(watch, fifo);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "heldFifo finds the watcher thread held by a symlink to a FIFO (anywhere); it is freed so",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const dir = Deno.makeTempDirSync();
    const elsewhere = Deno.makeTempDirSync();
    try {
      const watch = watching(dir);
      const fifo = join(elsewhere, "p");
      assert.equal(new Deno.Command("mkfifo", { args: [fifo] }).outputSync().code, 0);
      const link = join(dir, "link");
      Deno.symlinkSync(fifo, link);
      await freeAndClose(watch, link);
    } finally {
      Deno.removeSync(dir, { recursive: true });
      Deno.removeSync(elsewhere, { recursive: true });
    }
  },
});

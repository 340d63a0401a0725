/**
 * A file replaced by a FIFO, or by a symlink to one, between the walk and its read. An
 * open of a FIFO waits for a writer, so such a run used to hang for good, holding the
 * lock; now the file is opened without waiting and without following a symlink: it is
 * reported as replaced, the rest is stored, and the next run goes on; so is a socket,
 * whose open fails. A stored copy replaced by a FIFO (or a folder) holds up neither
 * `verify`, `restore`, an algorithm change's reading of it, nor the archiving of a new
 * version: it is left alone, and the copy goes beside it. The run is held at a pause point
 * (BACKUP_TOOL_PAUSE) while the first changed file is read: an incremental run has walked
 * the folder by then (a first backup reads each file as the walk meets it).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, poll, writeTree } from "../helpers.ts";
import { backedUp, DEADLINE_MS, readOrUndefined, WatchProcess } from "../watch_helpers.ts";
import { killAndWait, pausedRun, runTool } from "./util.ts";

const MiB = 1 << 20;
/** Generous: a hang is what is tested; a run of three files takes well under a second. */
const FINISH_MS = 30_000;

/** The child's output, or a failure naming the hang once FINISH_MS pass. */
async function finished(child: Deno.ChildProcess, what: string) {
  const timer = setTimeout(() => killAndWait(child), FINISH_MS);
  try {
    const out = await child.output();
    assert.ok(out.signal === null, `${what}: the run hung and was killed`);
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

function mkfifo(...paths: string[]): void {
  const r = new Deno.Command("mkfifo", { args: paths }).outputSync();
  assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
}

type Swap = "fifo" | "symlink" | "socket";
const SWAP_NAMES: Record<Swap, string> = {
  fifo: "FIFO",
  symlink: "symlink to a FIFO",
  socket: "socket (whose open fails: ENXIO)",
};

/** Swaps `b.txt` for a FIFO, a symlink to one, or a listening socket while `a.bin` is read. */
async function runWithSwap(fx: ReturnType<typeof makeFixture>, how: Swap) {
  const b = join(fx.source, "b.txt");
  await using paused = await pausedRun(["run", "--config", fx.config], "reading:1", fx.dir);
  const { child, resume } = paused;
  Deno.removeSync(b);
  using _listener = how === "socket" ? Deno.listen({ transport: "unix", path: b }) : undefined;
  if (how === "fifo") mkfifo(b);
  if (how === "symlink") {
    mkfifo(join(fx.dir, "pipe"));
    Deno.symlinkSync(join(fx.dir, "pipe"), b);
  }
  resume();
  return await finished(child, how);
}

for (const how of ["fifo", "symlink", "socket"] as const) {
  Deno.test({
    name: `a changed file replaced by a ${SWAP_NAMES[how]} ` +
      "before the run reads it: reported, the rest stored, the next run finishes",
    ignore: Deno.build.os === "windows",
    fn: async () => {
      // Two reads of a.bin (1 MiB each): the pause falls after the first.
      using fx = makeFixture({ "a.bin": new Uint8Array(2 * MiB).fill(7), "b.txt": "b\n" });
      assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
      Deno.writeFileSync(join(fx.source, "a.bin"), new Uint8Array(2 * MiB).fill(8));
      Deno.writeTextFileSync(join(fx.source, "b.txt"), "b, longer\n");
      const r = await runWithSwap(fx, how);
      assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, /source\/b\.txt: .*replaced/);
      assert.equal(Deno.readFileSync(join(fx.backup, "a.bin"))[0], 8);
      assert.equal(Deno.readTextFileSync(join(fx.backup, "b.txt")), "b\n", "the last copy stays");
      // The next run sees the FIFO or symlink for what it is, and finishes.
      const next = await runTool(["run", "--config", fx.config], { timeoutMs: FINISH_MS });
      assert.ok(next.code === 0 || next.code === 1, next.stderr);
    },
  });
}

Deno.test({
  name: "verify names a stored copy replaced by a FIFO as missing, without waiting on it",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    using fx = makeFixture({ "b.txt": "b\n" });
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
    Deno.removeSync(join(fx.backup, "b.txt"));
    mkfifo(join(fx.backup, "b.txt"));
    const r = await runTool(["verify", "--config", fx.config], { timeoutMs: FINISH_MS });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /MISSING: b\.txt/);
  },
});

Deno.test({
  name: "restore takes a stored copy replaced by a FIFO for missing, without waiting on it",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    using fx = makeFixture({ "b.txt": "b\n", "c.txt": "c\n" });
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
    Deno.removeSync(join(fx.backup, "b.txt"));
    mkfifo(join(fx.backup, "b.txt"));
    const out = join(fx.dir, "out");
    const r = await runTool(["restore", "--to", out, "--config", fx.config], {
      timeoutMs: FINISH_MS,
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /b\.txt.*missing/);
    assert.equal(Deno.readTextFileSync(join(out, "c.txt")), "c\n");
  },
});

Deno.test({
  name: "a stored copy replaced by a FIFO, its file then changed: the FIFO is left alone, the " +
    "old version recorded as lost, the new content stored beside it, and the next run is clean",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    using fx = makeFixture({ "a.txt": "hello\n", "b.txt": "other\n" });
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
    Deno.removeSync(join(fx.backup, "a.txt"));
    mkfifo(join(fx.backup, "a.txt"));
    Deno.writeTextFileSync(join(fx.source, "a.txt"), "changed\n");
    const r = await runTool(["run", "--config", fx.config]);
    assert.equal(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /ERROR/);
    assert.match(r.stderr, /'a\.txt' holds something else .*backed up at 'a\.txt\.~2'/);
    assert.ok(Deno.lstatSync(join(fx.backup, "a.txt")).isFifo, "the FIFO is left in place");
    assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt.~2")), "changed\n");
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
  },
});

for (const what of ["symlink", "FIFO", "folder"] as const) {
  Deno.test({
    name: `after a hash algorithm change, a stored copy replaced by a ${what} is neither ` +
      "followed nor read: the file is copied again beside it, and the next run is clean",
    ignore: Deno.build.os === "windows",
    fn: async () => {
      using fx = makeFixture({ "a.txt": "hello\n", "b.txt": "other\n" });
      assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
      const text = Deno.readTextFileSync(fx.config).replace(
        /\}\s*$/,
        ', "hash_algorithm": "sha512"}',
      );
      Deno.writeTextFileSync(fx.config, text);
      const copy = join(fx.backup, "a.txt");
      Deno.removeSync(copy);
      if (what === "symlink") Deno.symlinkSync(join(fx.source, "b.txt"), copy);
      else if (what === "FIFO") mkfifo(copy);
      else Deno.mkdirSync(copy);
      const r = await runTool(["run", "--config", fx.config]);
      assert.equal(r.code, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /ERROR/);
      assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt.~2")), "hello\n");
      assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
    },
  });
}

Deno.test({
  name: "watch: a FIFO made in a source folder neither stops its events nor holds up its end",
  ignore: Deno.build.os !== "linux", // Deno's inotify watcher opens the paths events name
  fn: async () => {
    // No periodic rescan: events alone must bring the new files in.
    using fx = makeFixture({ "a.txt": "a\n" }, { watch: { debounce_ms: 200, rescan_interval: 0 } });
    await using w = new WatchProcess(fx);
    await w.ready();
    // Several at once: the thread is held by each in turn.
    mkfifo(join(fx.source, "p1"), join(fx.source, "p2"), join(fx.source, "p3"));
    writeTree(fx.source, { "n.txt": "after the FIFOs\n" });
    await backedUp(fx.backup, "n.txt", "after the FIFOs\n");
    assert.match(w.stderr, /watcher was held opening the FIFO '.*p1'/);
    // A FIFO made just before the stop, its event taken up while the watchers close.
    mkfifo(join(fx.source, "q"));
    writeTree(fx.source, { "m.txt": "m\n" });
    const exit = await w.stop(); // fails, the watch killed, if it does not end in time
    assert.equal(exit.code, 0, exit.stderr);
  },
});

Deno.test({
  name: "watch: a FIFO removed as soon as it is made either leaves the watch going or ends it " +
    "with exit 1 and a line saying why, never deaf and running",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" }, { watch: { debounce_ms: 200, rescan_interval: 0 } });
    await using w = new WatchProcess(fx);
    await w.ready();
    // Deno's thread may be opening it when it goes: then nothing can free that thread.
    const r = new Deno.Command("sh", {
      args: ["-c", `mkfifo '${join(fx.source, "gone")}' && rm '${join(fx.source, "gone")}'`],
    }).outputSync();
    assert.equal(r.code, 0);
    writeTree(fx.source, { "n.txt": "n\n" });
    // Not `exited()`: its own poll, left running once the file is backed up, leaked a timer.
    let ended = false;
    w.ended.then(() => ended = true);
    await poll(
      "the next file backed up, or the watch ended",
      () => ended || readOrUndefined(join(fx.backup, "n.txt")) === "n\n",
      DEADLINE_MS,
    );
    if (!ended) {
      const stopped = await w.stop();
      assert.equal(stopped.code, 0, stopped.stderr);
    } else {
      const exit = await w.exited();
      assert.equal(exit.code, 1, exit.stderr);
      assert.match(
        exit.stderr,
        /Watch stopped: Deno's watcher waits to open a FIFO it cannot be freed from/,
      );
    }
  },
});

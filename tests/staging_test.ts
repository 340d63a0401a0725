/**
 * The staging worker. When nothing is tracked in scope (a first backup), the pass hands
 * the rest of the walk to a worker that reads and stages files on a second core. Wherever
 * the hand-over happens (from the start, after one entry, after a few, never), the pass
 * must decide exactly the same: the same backup tree, the same log lines in the same
 * order, special files reported once, excluded paths left out, and a dry run planning
 * the same actions. Real folders, through the engine's entry points (the hand-over point
 * is not a CLI option); the sanitizers check that the worker is always shut down.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../src/config/config.ts";
import { backupOnce } from "../src/engine/backup.ts";
import type { PassOptions } from "../src/engine/pass_types.ts";
import {
  MAIN,
  makeFixture,
  outputWithin,
  plannedActions,
  readTree,
  REPO,
  RESTRICTED_PERMISSIONS,
  type Tree,
} from "./helpers.ts";

const TREE: Tree = {
  "a/1.txt": "one",
  "a/2.txt": "two",
  "a/b/3.txt": "three",
  "a/b/c/4.txt": "four",
  "a.txt": "top",
  "dup/1.txt": "one",
  "dup/3.txt": "three",
  "empty.txt": "",
  "skip/me.log": "excluded",
  "z/big.bin": new Uint8Array(3 << 20).map((_, i) => (i * 31) & 0xff),
  "z/last.txt": "last",
};

/** Hand-over points: never (the default threshold is far above this tree), 0, 1 and 4. */
const HANDOVERS = [undefined, 0, 1, 4];

function fixture() {
  const fx = makeFixture(TREE, { exclude: ["*.log"] });
  Deno.symlinkSync("a/1.txt", join(fx.source, "link"));
  return fx;
}

async function mkfifo(path: string): Promise<void> {
  const r = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert.ok(r.success, `mkfifo ${path}`);
}

Deno.test({
  name: "staging worker: a first backup decides the same wherever the worker takes over",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const fxs = HANDOVERS.map(fixture);
    try {
      for (const fx of fxs) await mkfifo(join(fx.source, "a/b/pipe"));
      const runs = [];
      for (const [i, fx] of fxs.entries()) {
        const r = await backupOnce(loadConfig(fx.config), { stagingAfter: HANDOVERS[i] });
        assert.equal(r.exitCode, 0, JSON.stringify(r.errors));
        runs.push({ counts: r.counts, tree: readTree(fx.backup), log: fx.lastLog() });
      }
      const [inline, ...staged] = runs;
      assert.deepEqual(inline.counts, {
        backup: 9,
        modified: 0,
        duplicate: 2,
        skip: 0,
        delete: 0,
        exclude: 0,
        prune: 0,
        promote: 0,
        failed: 0,
        special: 1,
      });
      assert.equal(inline.tree["_duplicates/dup/1.txt"], "one");
      assert.equal(inline.tree["skip/me.log"], undefined);
      assert.equal(inline.log.filter((l) => l.includes("pipe")).length, 1, "FIFO reported once");
      assert.equal(new Set(inline.log).size, inline.log.length, "every line once");
      for (const [i, run] of staged.entries()) {
        const at = `worker after ${HANDOVERS[i + 1]}`;
        assert.deepEqual(run.counts, inline.counts, at);
        assert.deepEqual(run.tree, inline.tree, at);
        assert.deepEqual(run.log.filter(notTimed), inline.log.filter(notTimed), at);
      }
      // Nothing is left staged once the worker's copies are placed.
      for (const fx of fxs) {
        assert.deepEqual([...Deno.readDirSync(join(fx.backup, ".backup-tool/tmp"))], []);
      }
    } finally {
      for (const fx of fxs) fx[Symbol.dispose]();
    }
  },
});

Deno.test("staging worker: handed over wherever this thread got to while it got ready, the same backup", async () => {
  // Past STAGING_AFTER (128) entries the worker is spawned, and this thread walks on until
  // it is ready: the hand-over point depends on timing, the outcome must not.
  const tree: Tree = Object.fromEntries(
    Array.from({ length: 900 }, (_, i) => [`d${i % 7}/e${i % 5}/f${i}.txt`, `file ${i % 850}`]),
  );
  using walkedOn = makeFixture(tree);
  using alone = makeFixture(tree);
  const a = await backupOnce(loadConfig(walkedOn.config));
  const b = await backupOnce(loadConfig(alone.config), { stagingAfter: 1_000_000 });
  assert.equal(a.exitCode, 0, JSON.stringify(a.errors));
  assert.equal(b.exitCode, 0, JSON.stringify(b.errors));
  assert.equal(a.counts.backup, 850);
  assert.equal(a.counts.duplicate, 50);
  assert.deepEqual(a.counts, b.counts);
  assert.deepEqual(readTree(walkedOn.backup), readTree(alone.backup));
  assert.deepEqual(walkedOn.lastLog().filter(notTimed), alone.lastLog().filter(notTimed));
  assert.deepEqual([...Deno.readDirSync(join(walkedOn.backup, ".backup-tool/tmp"))], []);
});

Deno.test("staging worker: a stop is heard while the worker is held in a file's read", async () => {
  // The main thread waits for the worker's next chunk; a worker reading one large file (or
  // held, here by the pause hook, which the worker reads from the environment as it loads)
  // sends none for as long. Before, a stop waited for it: for good here, the pause's minute.
  using fx = makeFixture(BIG);
  await stoppedWhileWorkerReads(fx, { stagingAfter: 0 });
  assert.equal((await backupOnce(loadConfig(fx.config))).counts.backup, 2);
});

Deno.test("staging worker: a stop is heard while the walk worker is held reading a changed file ahead", async () => {
  using fx = makeFixture(BIG);
  assert.equal((await backupOnce(loadConfig(fx.config))).exitCode, 0);
  Deno.writeFileSync(join(fx.source, "a/big.bin"), new Uint8Array(3 << 20).fill(8));
  // walkerSplit 0: the worker walks everything, then reads what changed (read_ahead.ts).
  await stoppedWhileWorkerReads(fx, { walkerSplit: 0 });
  assert.equal((await backupOnce(loadConfig(fx.config))).counts.modified, 1);
});

/** A file of several blocks, so that a read is held between two. */
const BIG: Tree = { "a/big.bin": new Uint8Array(3 << 20).fill(7), "b.txt": "b" };

/**
 * Runs a backup whose worker is held at its first block read (the pause hook), stops it
 * there, and asserts it ends at once, stopped. The run is a child process: the hook is read
 * from the environment, and setting it in this one would reach every child that tests
 * running beside this one start (they share the process, and so its environment).
 */
async function stoppedWhileWorkerReads(
  fx: { config: string; dir: string },
  opts: PassOptions,
): Promise<void> {
  const marker = join(fx.dir, "held");
  const url = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
  const script = `
    const { loadConfig } = await import(${url("../src/config/config.ts")});
    const { backupOnce } = await import(${url("../src/engine/backup.ts")});
    const marker = ${JSON.stringify(marker)};
    const held = () => { try { Deno.statSync(marker); return true; } catch { return false; } };
    const stop = new AbortController();
    const run = backupOnce(loadConfig(${JSON.stringify(fx.config)}), {
      ...${JSON.stringify(opts)}, signal: stop.signal,
    });
    for (const end = Date.now() + 30_000; !held() && Date.now() < end;) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const asked = Date.now();
    stop.abort();
    const r = await run;
    console.log(JSON.stringify({ held: held(), stopped: r.stopped, tookMs: Date.now() - asked }));
    if (held()) Deno.removeSync(marker);`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    cwd: REPO, // for deno.json's imports
    env: { BACKUP_TOOL_PAUSE: `reading:1:${marker}` },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = await outputWithin(child, 90_000); // past the pause's own minute: a hang
  const dec = new TextDecoder();
  assert.equal(out.code, 0, `the run hung, or failed: ${dec.decode(out.stderr)}`);
  const r = JSON.parse(dec.decode(out.stdout).trim().split("\n").at(-1)!);
  assert.equal(r.held, true, "the worker was never held in its read");
  assert.ok(r.tookMs < 10_000, `the stop took ${r.tookMs} ms`);
  assert.equal(r.stopped, true);
}

Deno.test("staging worker: a dry run on a new backup root plans the same and writes nothing", async () => {
  const fxs = HANDOVERS.map(fixture);
  try {
    const plans = [];
    for (const [i, fx] of fxs.entries()) {
      const planned = await plannedActions(fx.config, { stagingAfter: HANDOVERS[i] });
      plans.push(planned.map((a) => ({ ...a, content: undefined })));
      assert.throws(() => Deno.statSync(fx.backup), Deno.errors.NotFound);
    }
    assert.equal(plans[0].length, 11);
    for (const plan of plans.slice(1)) assert.deepEqual(plan, plans[0]);
  } finally {
    for (const fx of fxs) fx[Symbol.dispose]();
  }
});

Deno.test("staging worker: without FFI, a first backup past the hand-over completes", async () => {
  // More entries than STAGING_AFTER (128), so the worker walks and stages the rest;
  // without FFI (macOS, another C library) large batches are flushed file by file.
  const tree: Tree = Object.fromEntries(
    Array.from({ length: 1300 }, (_, i) => [`d${i % 13}/f${i}.txt`, `file ${i}`]),
  );
  using fx = makeFixture(tree);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...RESTRICTED_PERMISSIONS, MAIN, "run", "--config", fx.config],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  assert.equal(out.code, 0, dec.decode(out.stderr));
  assert.match(dec.decode(out.stdout), /1300 new, 0 updated, 0 duplicate/);
  assert.deepEqual(readTree(fx.backup), readTree(fx.source));
});

Deno.test("staging worker: where no thread can be made, a run does the worker's part itself", async () => {
  // Under a limit of threads (`ulimit -u`, a container's pids limit) `new Worker` throws
  // WouldBlock: every first backup past the hand-over failed with 'Resource temporarily
  // unavailable (os error 11)', and so would every split walk (limits hunt: --nproc=7).
  using fx = fixture();
  using reference = fixture();
  const twoRuns = async (dir: { source: string; config: string }) => {
    const first = await backupOnce(loadConfig(dir.config), { stagingAfter: 1 });
    assert.equal(first.exitCode, 0, JSON.stringify(first.errors));
    assert.equal(first.counts.backup, 9);
    Deno.writeTextFileSync(join(dir.source, "z/last.txt"), "changed");
    const second = await backupOnce(loadConfig(dir.config), { walkerSplit: 0 });
    assert.equal(second.exitCode, 0, JSON.stringify(second.errors));
    assert.equal(second.counts.modified, 1);
  };
  await twoRuns(reference);
  const real = globalThis.Worker;
  globalThis.Worker = class {
    constructor() {
      throw new Deno.errors.WouldBlock("Resource temporarily unavailable (os error 11)");
    }
  } as unknown as typeof Worker;
  try {
    await twoRuns(fx);
  } finally {
    globalThis.Worker = real;
  }
  assert.deepEqual(readTree(fx.backup), readTree(reference.backup));
});

/** Log lines whose text does not depend on timing (the run's start and summary do). */
function notTimed(line: string): boolean {
  return !/^(Run started|Run complete|Backup complete|.* copied in )/.test(line);
}

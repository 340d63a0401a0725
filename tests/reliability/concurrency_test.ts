/**
 * Concurrent runs on one backup root. A run holds an exclusive lock for its whole session:
 * a second run started meanwhile exits 3 at once, changing nothing, and names the holder;
 * a lock left by a killed run is taken over by the next run, which names it in its log even
 * when runs that took it over before were killed before they logged it. The holder is
 * frozen with SIGSTOP while the second run starts, so the test never depends on how fast a
 * run is.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, writeConfig } from "../helpers.ts";
import {
  assertConverged,
  killAndWait,
  lastLogLines,
  pausedRun,
  rng,
  runTool,
  snapshot,
  spawnTool,
  suiteSeed,
} from "./util.ts";

/** Enough data that a run is still busy when it is caught holding the lock. */
function bigTree(seed: number): Record<string, Uint8Array> {
  const r = rng(seed);
  const tree: Record<string, Uint8Array> = {};
  for (let i = 0; i < 40; i++) tree[`big/${i}.bin`] = r.bytes(512 * 1024);
  for (let i = 0; i < 200; i++) tree[`small/${i}.txt`] = r.bytes(r.int(0, 2000));
  return tree;
}

/** Polls (5 ms) until the lock file names `pid`; false if the child exited first. */
async function holdsLock(child: Deno.ChildProcess, lock: string): Promise<boolean> {
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if (JSON.parse(Deno.readTextFileSync(lock)).pid === child.pid) return true;
    } catch { /* not written yet */ }
    if (exited) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error("the first run did not take the lock within 30 s");
}

Deno.test("two runs at once: one proceeds, the other exits 3 naming the holder", async () => {
  const seed = suiteSeed(0x10c4);
  using fx = makeFixture(bigTree(seed));
  const lock = join(fx.backup, ".backup-tool", "lock");
  const first = spawnTool(["run", "--quiet", "--config", fx.config], { output: "null" });
  try {
    assert.ok(await holdsLock(first, lock), `the first run finished before it was caught`);
    first.kill("SIGSTOP"); // frozen while holding the lock
    try {
      const second = await runTool(["run", "--config", fx.config], { timeoutMs: 30_000 });
      assert.equal(second.code, 3, `second run: ${second.stdout}\n${second.stderr}`);
      assert.match(second.stderr, /a run \(pid \d+ on .*\) holds/);
      assert.match(second.stderr, new RegExp(`pid ${first.pid}\\b`));
      assert.equal(second.stderr.trim().split("\n").length, 1, second.stderr);
      const plan = await runTool(["plan", "--config", fx.config], { timeoutMs: 30_000 });
      assert.ok(plan.code === 0 || plan.code === 1, `plan while locked: ${plan.stderr}`);
    } finally {
      first.kill("SIGCONT");
    }
    const status = await first.status;
    assert.equal(status.code, 0, "the lock holder completes normally");
  } finally {
    await killAndWait(first);
  }
  assertConverged(fx, [], "after the holder finished");
});

Deno.test("many runs started together: each exits 0 or 3, at least one 0, the backup converges", async () => {
  using fx = makeFixture({ "a.txt": "a", "b/c.txt": "c", "d.bin": new Uint8Array(300_000) });
  const results = await Promise.all(
    Array.from({ length: 4 }, () => runTool(["run", "--config", fx.config], { timeoutMs: 60_000 })),
  );
  const codes = results.map((r) => r.code);
  assert.ok(codes.every((c) => c === 0 || c === 3), `exit codes ${codes}`);
  assert.ok(codes.includes(0), `exit codes ${codes}`);
  for (const r of results.filter((r) => r.code === 3)) {
    assert.match(r.stderr, /a run \(pid \d+ .*\) holds/);
  }
  const again = await runTool(["run", "--config", fx.config], { timeoutMs: 30_000 });
  assert.equal(again.code, 0, again.stderr);
  assertConverged(fx, [...snapshot(fx.source).values()].map((s) => s.hash), "after the race");
});

Deno.test("a lock left by a SIGKILLed run is taken over by the next run", async () => {
  const seed = suiteSeed(0x10c5);
  using fx = makeFixture(bigTree(seed));
  const lock = join(fx.backup, ".backup-tool", "lock");
  const victim = spawnTool(["run", "--quiet", "--config", fx.config], { output: "null" });
  let pid = 0;
  try {
    assert.ok(await holdsLock(victim, lock), "the run finished before it could be killed");
    pid = victim.pid;
  } finally {
    const status = await killAndWait(victim);
    assert.equal(status.signal, "SIGKILL");
  }
  // The dead holder's record is still in the lock file; the OS released the lock itself.
  assert.equal(JSON.parse(Deno.readTextFileSync(lock)).pid, pid);
  const next = await runTool(["run", "--config", fx.config], { timeoutMs: 60_000 });
  assert.equal(next.code, 0, `${next.stdout}\n${next.stderr}`);
  const log = lastLogLines(fx.logs);
  assert.ok(
    log.some((l) => l.startsWith("LOCK: took over a stale lock") && l.includes(`"pid":${pid}`)),
    log.slice(0, 5).join("\n"),
  );
  assertConverged(fx, [], "after taking over the stale lock");
});

Deno.test("a stale lock taken over by runs killed before they logged it: the next run names every dead holder", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n" });
  const lock = join(fx.backup, ".backup-tool", "lock");
  // A first backup killed once it committed, as SIGKILL leaves it: its record in the lock.
  const first = await runTool(["run", "--config", fx.config], {
    env: { BACKUP_TOOL_FAULT: "committed:1" },
  });
  assert.equal(first.code, 137, first.stderr);
  const dead = [JSON.parse(Deno.readTextFileSync(lock)).pid]; // the latest first
  // Two runs in turn take the stale lock over and are killed before their logs say so.
  for (let i = 0; i < 2; i++) {
    await using taker = await pausedRun(["run", "--config", fx.config], "locked:1", fx.dir);
    assert.equal((await killAndWait(taker.child)).signal, "SIGKILL");
    taker.resume(); // its pause's marker removed, for the next one
    dead.unshift(taker.child.pid);
  }
  const next = await runTool(["run", "--config", fx.config]);
  assert.equal(next.code, 0, next.stderr);
  const log = lastLogLines(fx.logs);
  const named = log.filter((l) => l.startsWith("LOCK: took over a stale lock left by {"))
    .map((l) => Number(l.match(/"pid":(\d+)/)?.[1]));
  assert.deepEqual(named, dead, log.slice(0, 6).join("\n"));
  assert.equal(Deno.readTextFileSync(lock), "", "released by the run");
  const after = await runTool(["run", "--config", fx.config]);
  assert.equal(after.code, 0, after.stderr);
  assert.ok(!lastLogLines(fx.logs).some((l) => l.startsWith("LOCK:")), "logged twice");
});

Deno.test({
  name: "a backup root mounted again read-only: a second run through it exits 3 while one holds " +
    "the lock, and names the read-only root otherwise",
  ignore: Deno.build.os !== "linux" || Deno.uid() !== 0, // mount --bind needs root
  fn: async () => {
    const seed = suiteSeed(0x10c6);
    using fx = makeFixture(bigTree(seed));
    assert.equal((await runTool(["run", "--quiet", "--config", fx.config])).code, 0);
    const view = join(fx.dir, "view");
    Deno.mkdirSync(view);
    const viewConfig = join(fx.dir, "view.jsonc");
    writeConfig(viewConfig, { sources: ["./source"], backup_root: "./view", log_dir: "./logs" });
    const mount = (...args: string[]) => new Deno.Command("mount", { args }).outputSync().code;
    assert.equal(mount("--bind", fx.backup, view), 0);
    try {
      assert.equal(mount("-o", "remount,ro,bind", view), 0);
      Deno.writeFileSync(join(fx.source, "big/0.bin"), rng(seed + 1).bytes(512 * 1024));
      const lock = join(fx.backup, ".backup-tool", "lock");
      const first = spawnTool(["run", "--quiet", "--config", fx.config], { output: "null" });
      try {
        assert.ok(await holdsLock(first, lock), "the first run finished before it was caught");
        first.kill("SIGSTOP");
        try {
          for (const command of [["run"], ["verify", "--repair"]]) {
            const r = await runTool([...command, "--config", viewConfig], { timeoutMs: 30_000 });
            assert.equal(r.code, 3, `${command}: ${r.stdout}\n${r.stderr}`);
            assert.match(r.stderr, new RegExp(`a run \\(pid ${first.pid} .*\\) holds`));
          }
        } finally {
          first.kill("SIGCONT");
        }
        assert.equal((await first.status).code, 0);
      } finally {
        await killAndWait(first);
      }
      const alone = await runTool(["run", "--config", viewConfig], { timeoutMs: 30_000 });
      // Nothing changed: a configuration problem (exit 2), one line.
      assert.equal(alone.code, 2, alone.stdout + alone.stderr);
      assert.match(
        alone.stderr,
        /^Cannot lock backup root: cannot open .* to write: Read-only file system .*: its disk is mounted read-only \(.*\): mount it read-write, then run again$/m,
      );
    } finally {
      new Deno.Command("umount", { args: [view] }).outputSync();
    }
    assertConverged(fx, [], "after the read-only attempts");
  },
});

Deno.test({
  name:
    "the lock file removed by hand during a run: the run goes on (its folder's lock holds), a second run is refused",
  ignore: Deno.build.os === "windows", // an open file cannot be removed there
  fn: async () => {
    const tree: Record<string, string> = {};
    for (let i = 0; i < 300; i++) tree[`d${i % 3}/f${i}.txt`] = `${i}\n`;
    using fx = makeFixture(tree);
    await using paused = await pausedRun(["run", "--config", fx.config], "folder:2", fx.dir);
    const { child, resume } = paused;
    Deno.removeSync(join(fx.backup, ".backup-tool", "lock"));
    const second = await runTool(["run", "--config", fx.config]);
    assert.equal(second.code, 3, second.stderr);
    assert.match(
      second.stderr,
      /another process holds .* locked \(a run or watch session whose lock file was removed/,
    );
    resume();
    const out = await child.output();
    const stderr = new TextDecoder().decode(out.stderr);
    // Before, it stopped saying the backup root was removed or replaced (exit 1).
    assert.equal(out.code, 0, stderr);
    assert.equal(Deno.readTextFileSync(join(fx.backup, "d1", "f1.txt")), "1\n");
  },
});

Deno.test({
  name: "a killed run's record left in the lock file while another process holds the lock " +
    "(flock -n lock cp -a …): no command names the dead run, or a process its pid now names",
  ignore: Deno.build.os !== "linux", // who holds a lock is read from /proc/locks
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n" });
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
    Deno.writeTextFileSync(join(fx.source, "a.txt"), "a2\n");
    // Killed after its first commit: its record stays in the lock file, its row unfinished.
    const killed = await runTool(["run", "--config", fx.config], {
      env: { BACKUP_TOOL_FAULT: "committed:1" },
    });
    assert.equal(killed.code, 137, killed.stderr);
    const lock = join(fx.backup, ".backup-tool", "lock");
    const dead = JSON.parse(Deno.readTextFileSync(lock));
    // Its pid now names another live process (pid 1), or no process at all.
    for (const pid of [dead.pid, 1]) {
      Deno.writeTextFileSync(lock, JSON.stringify({ ...dead, pid }) + "\n");
      // This test holds the lock, as `flock -n lock cp -a backup /mnt/spare/` would.
      using held = Deno.openSync(lock, { read: true });
      held.lockSync(true);
      const named = new RegExp(`pid ${pid}\\b.*(holds|is changing)`);
      for (const command of [["run"], ["verify", "--repair"]]) {
        const r = await runTool([...command, "--config", fx.config]);
        assert.equal(r.code, 3, `${command}: ${r.stdout}\n${r.stderr}`);
        assert.doesNotMatch(r.stderr, named, `${command} named pid ${pid}:\n${r.stderr}`);
        assert.match(
          r.stderr,
          new RegExp(
            `^Cannot lock backup root: another process holds '.*lock', not a run \\(pid ${pid} ` +
              ".*, which its record names \\(it ended without clearing it\\): find it with 'lsof ",
          ),
        );
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      }
      const verify = await runTool(["verify", "--config", fx.config]);
      assert.doesNotMatch(verify.stderr, named, `verify named pid ${pid}`);
      assert.match(verify.stderr, /is changing the backup now/);
      const history = await runTool(["history", "--json", "--config", fx.config]);
      assert.doesNotMatch(history.stderr, named, `history named pid ${pid}`);
      const runs = JSON.parse(history.stdout).runs;
      assert.equal(runs.at(-1).outcome, "interrupted", "the killed run shown as running");
      held.unlockSync();
    }
    // Free again: the next run takes the lock over and logs the run that was killed.
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
    assert.ok(lastLogLines(fx.logs).some((l) => l.startsWith("LOCK: took over a stale lock")));
  },
});

/**
 * End-to-end tests of `run --quiet` (a scheduled job's run): what it still says, on stderr,
 * so that the job's mail or journal carries what needs a human, and what it leaves out.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type Fixture,
  makeFixture,
  poll,
  readTree,
  runCli,
  toolCommand,
  writeConfig,
  writeTree,
} from "./helpers.ts";

const LEFT = /^Note: the state still tracks files of 'beta' \(1 file\), no longer in the config/;

Deno.test("run --quiet says once that a source is no longer in the config, and again when it leaves anew", async () => {
  using fx = makeFixture({});
  const alpha = join(fx.dir, "alpha");
  const beta = join(fx.dir, "beta");
  writeTree(alpha, { "a.txt": "a" });
  writeTree(beta, { "b.txt": "b" });
  const config = (sources: string[]) =>
    writeConfig(fx.config, { sources, backup_root: "./backup", log_dir: "./logs" });
  config(["./alpha", "./beta"]);
  assert.equal((await fx.cli("run", "-q")).code, 0);

  config(["./alpha"]); // beta removed, or its folder renamed: its files are no longer followed
  const removed = await fx.cli("run", "-q");
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(removed.stdout, "");
  assert.match(removed.stderr, LEFT);
  assert.match(removed.stderr, /a source folder renamed is a new source/);

  // Said: the next quiet runs stay quiet (the log and a run without -q go on saying it).
  const again = await fx.cli("run", "-q");
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout + again.stderr, "");
  assert.ok(fx.lastLog().some((l) => l.startsWith("NOTE: the state still tracks files of 'beta'")));
  const loud = await fx.cli("run");
  assert.match(loud.stdout, /Note: the state still tracks files of 'beta'/);
  assert.equal((await fx.cli("run", "-q")).stderr, "");

  // Back in the config and left out again: said again.
  config(["./alpha", "./beta"]);
  assert.equal((await fx.cli("run", "-q")).stderr, "");
  config(["./alpha"]);
  assert.match((await fx.cli("run", "-q")).stderr, LEFT);
});

Deno.test("run --quiet says that a source's folder changed", async () => {
  using fx = makeFixture({ "a.txt": "a" });
  assert.equal((await fx.cli("run", "-q")).code, 0);
  const moved = join(fx.dir, "moved");
  Deno.renameSync(fx.source, moved);
  writeConfig(fx.config, {
    sources: [{ path: "./moved", name: "source" }],
    backup_root: "./backup",
    log_dir: "./logs",
  });
  const r = await fx.cli("run", "-q");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^Note: source 'source' was backed up from '[^']*source' last time/);
  // Said once: the state now knows the new folder.
  assert.equal((await fx.cli("run", "-q")).stderr, "");
});

/**
 * A run killed (SIGKILL: the out-of-memory killer, a power cut) while it works, with what
 * it wrote on stderr before that: a scheduled job's mail gets only that.
 */
async function killedRun(fx: Fixture): Promise<{ pid: number; stderr: string }> {
  const paused = join(fx.dir, "paused");
  const { cmd, args } = toolCommand(["run", "-q", "--config", fx.config]);
  const child = new Deno.Command(cmd, {
    args,
    env: { BACKUP_TOOL_PAUSE: `applying:1:${paused}` },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const pid = await poll("the run to pause", () => {
    try {
      return Number(Deno.readTextFileSync(paused));
    } catch {
      return undefined;
    }
  });
  assert.equal(pid, child.pid);
  child.kill("SIGKILL");
  const out = await child.output();
  assert.equal(out.signal, "SIGKILL");
  Deno.removeSync(paused);
  return { pid, stderr: new TextDecoder().decode(out.stderr) };
}

const killedNote = (pid: number) =>
  new RegExp(
    `^Note: a run \\(pid ${pid} on [^,]+, started [^)]+\\) did not finish: it was killed ` +
      "\\(SIGKILL, the out-of-memory killer\\) or the machine stopped",
  );

Deno.test("run --quiet says that the run before it was killed, once", async () => {
  using fx = makeFixture({ "a.txt": "a" });
  assert.equal((await fx.cli("run", "-q")).code, 0);
  writeTree(fx.source, { "b.txt": "b" });
  const { pid } = await killedRun(fx);

  const next = await fx.cli("run", "-q");
  assert.equal(next.code, 0, next.stderr);
  assert.equal(next.stdout, "");
  assert.match(next.stderr, killedNote(pid));
  assert.match(next.stderr, /journalctl -k/);
  assert.equal(next.stderr.split("\n").filter((l) => l !== "").length, 1, next.stderr);
  const loud = await fx.cli("run");
  assert.doesNotMatch(loud.stdout + loud.stderr, /did not finish/); // said once
  assert.equal(readTree(fx.backup)["b.txt"], "b");
});

Deno.test("run --quiet says a killed run's lock was taken over as it takes it: killed too, it has said so", async () => {
  using fx = makeFixture({ "a.txt": "a" });
  assert.equal((await fx.cli("run", "-q")).code, 0);
  writeTree(fx.source, { "b.txt": "b" });
  const first = await killedRun(fx);
  // Killed at the same point again (a job the out-of-memory killer ends every hour): what
  // it said before is all its mail gets.
  const second = await killedRun(fx);
  assert.match(second.stderr, killedNote(first.pid));

  const next = await fx.cli("run", "-q");
  assert.equal(next.code, 0, next.stderr);
  assert.match(next.stderr, killedNote(second.pid));
  assert.doesNotMatch(next.stderr, new RegExp(`pid ${first.pid} `)); // said once
  assert.equal(next.stderr.split("\n").filter((l) => l !== "").length, 1, next.stderr);
});

Deno.test("run --quiet: two configs sharing a backup root, run in turn, say each other's source once", async () => {
  using fx = makeFixture({});
  writeTree(join(fx.dir, "alpha"), { "a.txt": "a" });
  writeTree(join(fx.dir, "beta"), { "b.txt": "b" });
  const configs = ["alpha", "beta"].map((name) => {
    const file = join(fx.dir, `${name}.jsonc`);
    writeConfig(file, { sources: [`./${name}`], backup_root: "./backup", log_dir: "./logs" });
    return file;
  });
  const run = (config: string) => runCli(["run", "-q", "--config", config]);
  assert.equal((await run(configs[0])).stderr, "");
  assert.match((await run(configs[1])).stderr, /^Note: the state still tracks files of 'alpha'/);
  assert.match((await run(configs[0])).stderr, /^Note: the state still tracks files of 'beta'/);
  // Each job has said it: an hourly job's mail stays empty from here on.
  for (let round = 0; round < 2; round++) {
    for (const config of configs) {
      const r = await run(config);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout + r.stderr, "");
    }
  }
});

/**
 * `run` stopped by SIGTERM (a service stopped, a job timed out) or Ctrl-C: it finishes and
 * commits the batch in progress, says so on stdout and in its log, exits 128 + the
 * signal's number, and the next run does the rest. The run is paused mid-walk
 * (BACKUP_TOOL_PAUSE) so that the signal lands at a known moment. `restore` likewise puts
 * the files being flushed in place, leaves no temporary file, and a rerun finishes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, readTree, writeTree } from "../helpers.ts";
import { runTool, signalledAt } from "./util.ts";

for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
  Deno.test({
    name:
      `run stopped by ${signal}: the batch in progress is committed, the next run does the rest`,
    ignore: Deno.build.os === "windows",
    fn: async () => {
      const tree: Record<string, string> = {};
      for (let d = 0; d < 4; d++) {
        for (let f = 0; f < 500; f++) tree[`d${d}/f${f}.txt`] = `v1 ${d}/${f}\n`;
      }
      using fx = makeFixture(tree);
      assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
      writeTree(fx.source, Object.fromEntries(Object.keys(tree).map((p) => [p, `v2 ${p}\n`])));
      const args = ["run", "--config", fx.config];
      const out = await signalledAt(args, "folder:3", fx.dir, { signal });
      const { stdout, stderr } = out;
      assert.equal(out.code, code, `${stdout}\n${stderr}`);
      assert.match(stderr, new RegExp(`Stopping after the batch in progress \\(${signal}\\)`));
      assert.match(stdout, /Backup stopped before it finished: 0 new, (\d+) updated/);
      const updated = Number(/(\d+) updated/.exec(stdout)![1]);
      assert.ok(updated > 0 && updated < 2000, stdout);
      const logs = [...Deno.readDirSync(fx.logs)].map((e) => e.name).sort();
      const last = Deno.readTextFileSync(join(fx.logs, logs.at(-1)!)).trimEnd().split("\n").at(-1);
      assert.match(last!, /Run stopped before it finished \(a stop signal\)/);

      const next = await runTool(["run", "--config", fx.config]);
      assert.equal(next.code, 0, next.stderr);
      assert.match(next.stdout, new RegExp(`${2000 - updated} updated`));
      assert.deepEqual(readTree(fx.backup, [".backup-tool", "versions"]), readTree(fx.source));
    },
  });
}

Deno.test({
  name: "run --json stopped by SIGTERM: the document's exitCode is the process's, with stopped",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const tree: Record<string, string> = {};
    for (let d = 0; d < 4; d++) {
      for (let f = 0; f < 300; f++) tree[`d${d}/f${f}.txt`] = `${d}/${f}\n`;
    }
    using fx = makeFixture(tree);
    const args = ["run", "--json", "--config", fx.config];
    const out = await signalledAt(args, "folder:2", fx.dir);
    const stdout = out.stdout;
    assert.equal(out.code, 143, stdout);
    const doc = JSON.parse(stdout);
    assert.equal(doc.exitCode, 143);
    assert.equal(doc.ok, false);
    assert.equal(doc.stopped, true);
    assert.ok(doc.counts.backup > 0 && doc.counts.backup < 1200, stdout);
    const done = JSON.parse((await runTool(args)).stdout);
    assert.deepEqual([done.exitCode, done.stopped], [0, undefined]);
  },
});

/**
 * The run held at `at`, sent SIGTERM there, and held on past the turn interval (250 ms,
 * event_turn.ts), so that its first turn after the pause hears the signal; its stdout,
 * once it exited 143.
 */
async function termWhilePaused(args: string[], at: string, dir: string): Promise<string> {
  const { code, stdout } = await signalledAt(args, at, dir, { holdMs: 400 });
  assert.equal(code, 143, stdout);
  return stdout;
}

Deno.test({
  name: "run --rehash (synchronous reads only) still hears SIGTERM at a batch boundary",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    // Enough files for several turns of the event loop (one each 250 ms) after the pause:
    // a turn lets a signal in almost always, not always (event_turn.ts).
    const tree: Record<string, string> = {};
    for (let d = 0; d < 4; d++) {
      for (let f = 0; f < 2500; f++) tree[`d${d}/f${f}.txt`] = `${d}/${f}\n`;
    }
    using fx = makeFixture(tree);
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
    const args = ["run", "--rehash", "--config", fx.config];
    const stdout = await termWhilePaused(args, "folder:2", fx.dir);
    assert.match(
      stdout,
      /Backup stopped before it finished: 0 new, 0 updated, 0 duplicate, \d+ unch/,
    );
    assert.ok(!/10000 unchanged/.test(stdout), stdout);
  },
});

Deno.test({
  name: "run --force stopped by SIGTERM during a mass deletion stops between its batches",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const tree: Record<string, string> = {};
    for (let d = 0; d < 4; d++) {
      for (let f = 0; f < (d === 0 ? 100 : 4000); f++) tree[`d${d}/f${f}.txt`] = `${d}/${f}\n`;
    }
    using fx = makeFixture(tree);
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
    for (const d of ["d1", "d2", "d3"]) Deno.removeSync(join(fx.source, d), { recursive: true });
    // Held in the walk, before the deletions are planned (the files left fill no batch that
    // would hear the signal first): their moves are synchronous calls, so only a turn of
    // the event loop between their batches hears it.
    const args = ["run", "--force", "--config", fx.config];
    const stdout = await termWhilePaused(args, "folder:2", fx.dir);
    const done = /Backup stopped before it finished: .* (\d+) deleted/.exec(stdout);
    assert.ok(done, stdout);
    const deleted = Number(done[1]);
    assert.ok(deleted > 0 && deleted < 12000, stdout);

    const next = await runTool(args);
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stdout, new RegExp(`${12000 - deleted} deleted`));
    assert.equal((await runTool(["verify", "--config", fx.config])).code, 0);
    assert.deepEqual(readTree(fx.backup, [".backup-tool", "_deleted"]), readTree(fx.source));
  },
});

Deno.test({
  name: "run stopped by SIGTERM while it reads one large file gives that file up at once",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a" });
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
    // 128 MiB: read in 1 MiB blocks, held after the second, about a quarter of a second
    // of reading left, in which the event loop gets its turns (event_turn.ts).
    Deno.writeFileSync(join(fx.source, "big.img"), new Uint8Array(128 << 20).fill(7));
    const stdout = await termWhilePaused(["run", "--config", fx.config], "reading:2", fx.dir);
    // Before, the whole file was read and stored first (a disk image: minutes, past a
    // service manager's stop timeout, then killed).
    assert.match(
      stdout,
      /Backup stopped before it finished: 0 new, 0 updated, 0 duplicate, 1 unch/,
    );
    assert.deepEqual(readTree(fx.backup, [".backup-tool"]), { "a.txt": "a" });
    assert.deepEqual([...Deno.readDirSync(join(fx.backup, ".backup-tool", "tmp"))], []);
    const next = await runTool(["run", "--config", fx.config]);
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stdout, /1 new/);
  },
});

Deno.test({
  name:
    "restore stopped by SIGINT: the files flushed are in place, no temporary file is left, a rerun finishes",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const tree: Record<string, string> = {};
    for (let i = 0; i < 2000; i++) tree[`d${i % 3}/f${i}.txt`] = `file ${i}\n`;
    using fx = makeFixture(tree);
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
    const out = join(fx.dir, "out");
    const args = ["restore", "--to", out, "--config", fx.config];
    // Paused before the 700th file: the first batch (512) is being flushed meanwhile.
    const result = await signalledAt(args, "restoring:700", fx.dir, { signal: "SIGINT" });
    const { stdout, stderr } = result;
    assert.equal(result.code, 130, `${stdout}\n${stderr}`);
    assert.match(stderr, /Stopping after the batch in progress \(SIGINT\)/);
    const done = /Restore stopped before it finished: (\d+) restored/.exec(stdout);
    assert.ok(done, stdout);
    const restored = Number(done[1]);
    assert.ok(restored >= 512 && restored < 2000, stdout);
    const files = readTree(out);
    assert.equal(Object.keys(files).length, restored);
    for (const [rel, text] of Object.entries(files)) assert.equal(text, tree[rel], rel);

    const again = await runTool(args);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`${2000 - restored} restored, ${restored} up to date`));
    assert.deepEqual(readTree(out), readTree(fx.source)); // no temporary file anywhere
  },
});

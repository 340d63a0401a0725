/**
 * `run` sent SIGTERM during a batch says it stopped only where it left work undone: during
 * its last batch, with no promotions or retention after it, it has done everything, and
 * says so (exit 0, `Run complete`, history "finished"); during an earlier batch, or with
 * promotions still to do, it stopped (exit 143, the stop line, history "stopped"), and the
 * next run does the rest. Each run is held at a batch's `applying` pause (fault.ts), the
 * signal taken, then let go. A watch session's first pass likewise: stopped during its
 * last batch, it went through, and the session is recorded as whole.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture, poll, readTree, signalTaken } from "../helpers.ts";
import { WatchProcess } from "../watch_helpers.ts";
import { exists, runTool, signalledAt } from "./util.ts";

interface Ended {
  code: number;
  stdout: string;
  stderr: string;
  /** The last line of the run's log, without its time. */
  last: string;
  /** The run's outcome as `history` gives it. */
  outcome: string;
}

/** A run held at `at`, sent SIGTERM there, let go once the signal is taken; how it ended. */
async function termedAt(fx: Fixture, at: string): Promise<Ended> {
  const { code, stdout, stderr } = await signalledAt(["run", "--config", fx.config], at, fx.dir);
  assert.match(stderr, /Stopping after the batch in progress \(SIGTERM\)/);
  const logs = [...Deno.readDirSync(fx.logs)].map((e) => e.name).sort();
  const text = Deno.readTextFileSync(join(fx.logs, logs.at(-1)!));
  const last = text.trimEnd().split("\n").at(-1)!.replace(/^\S+ /, "");
  const history = await fx.cli("history", "--json");
  assert.equal(history.code, 0, history.stderr);
  const outcome = JSON.parse(history.stdout).runs.at(-1).outcome;
  return { code, stdout, stderr, last, outcome };
}

Deno.test({
  name: "run sent SIGTERM during its last batch, nothing after it, is complete: exit 0",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const tree = { "a.txt": "a\n", "b.txt": "bee\n", "sub/c.txt": "sea\n" };
    using fx = makeFixture(tree);
    const ended = await termedAt(fx, "applying:1"); // its one batch
    const said = `${ended.stdout}\n${ended.stderr}`;
    assert.equal(ended.code, 0, said);
    assert.match(ended.stdout, /Backup complete: 3 new/, said);
    assert.equal(ended.last, "Run complete");
    assert.equal(ended.outcome, "finished");
    assert.deepEqual(readTree(fx.backup, [".backup-tool"]), tree);
    const next = await runTool(["run", "--config", fx.config]);
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stdout, /0 new, 0 updated, 0 duplicate, 3 unchanged/);
  },
});

Deno.test({
  name: "run sent SIGTERM during a batch before its last stopped: exit 143, the rest next run",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const tree: Record<string, string> = {};
    for (let i = 0; i < 1500; i++) tree[`d${i % 3}/f${i}.txt`] = `file ${i}\n`;
    using fx = makeFixture(tree);
    const ended = await termedAt(fx, "applying:1"); // the first of three batches (512 files)
    assert.equal(ended.code, 143, `${ended.stdout}\n${ended.stderr}`);
    assert.match(ended.stdout, /Backup stopped before it finished: (\d+) new/);
    const stored = Number(/(\d+) new/.exec(ended.stdout)![1]);
    assert.ok(stored > 0 && stored < 1500, ended.stdout);
    assert.match(ended.last, /^Run stopped before it finished \(a stop signal\)/);
    assert.equal(ended.outcome, "stopped");
    const next = await runTool(["run", "--config", fx.config]);
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stdout, new RegExp(`${1500 - stored} new`));
    assert.deepEqual(readTree(fx.backup, [".backup-tool"]), tree);
  },
});

Deno.test({
  name: "run sent SIGTERM during its last batch, a promotion after it, stopped: exit 143",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    // b.txt is stored as a duplicate of a.txt; a.txt deleted, it is promoted after the batch
    // that archives the deletion (which stores a new file too: its flush waits on the disk,
    // and the signal is heard then).
    using fx = makeFixture({ "a.txt": "same\n", "b.txt": "same\n" });
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
    Deno.removeSync(join(fx.source, "a.txt"));
    Deno.writeTextFileSync(join(fx.source, "c.txt"), "sea\n");
    const ended = await termedAt(fx, "applying:1");
    assert.equal(ended.code, 143, `${ended.stdout}\n${ended.stderr}`);
    assert.match(ended.stdout, /Backup stopped before it finished: 1 new, .* 1 deleted/);
    assert.match(ended.last, /^Run stopped before it finished \(a stop signal\)/);
    assert.equal(ended.outcome, "stopped");
    const next = await runTool(["run", "--config", fx.config]);
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stdout, /1 duplicate\(s\) promoted to their own path/);
    assert.deepEqual(readTree(fx.backup, [".backup-tool", "_deleted"]), {
      "b.txt": "same\n",
      "c.txt": "sea\n",
    });
  },
});

Deno.test({
  name: "watch sent SIGTERM during its first pass's last batch: the pass went through",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const tree = { "a.txt": "a\n", "b.txt": "bee\n" };
    using fx = makeFixture(tree, { watch: { debounce_ms: 200, rescan_interval: 0 } });
    const marker = join(fx.dir, "paused");
    await using w = new WatchProcess(fx, [], { BACKUP_TOOL_PAUSE: `applying:1:${marker}` });
    await poll("the first pass's batch to be held", () => exists(marker));
    const stopping = w.stop("SIGTERM");
    await signalTaken(w.pid, "SIGTERM");
    Deno.removeSync(marker);
    const exit = await stopping;
    assert.equal(exit.code, 0, exit.stderr);
    assert.match(exit.stdout, /full pass \(start\): 2 new, 0 updated, 0 deleted\n/);
    assert.doesNotMatch(exit.stdout, /stopped before it finished/);
    const log = fx.lastLog();
    assert.ok(!log.some((l) => l.startsWith("FIRST PASS stopped")), log.join("\n"));
    const history = await fx.cli("history", "--json");
    assert.equal(JSON.parse(history.stdout).runs.at(-1).outcome, "finished", history.stdout);
    assert.deepEqual(readTree(fx.backup, [".backup-tool"]), tree);
  },
});

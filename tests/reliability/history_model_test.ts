/**
 * Model-based history test. A small source tree (20–60 files, a few symlinks, nested
 * folders) goes through a seeded random sequence of rounds; each round applies 1–6
 * mutations (create — sometimes empty, sometimes a duplicate or an earlier content —,
 * modify — a few hot files often, sometimes back to one of their own earlier contents —,
 * touch, chmod, delete, re-create a deleted path, rename a file (sometimes onto another),
 * rename a folder — sometimes the biggest —, a file replaced by a folder of its name and
 * back, a file replaced by a symlink and back, symlinks created, retargeted and deleted,
 * a duplicate's original deleted or modified), then `run` (`--force` when the deletions
 * could trip the mass-deletion guard). The model is the exact tree after each round (path
 * → kind, digest, mode and mtime of files, target of symlinks) and the wall-clock moment
 * right after the run returned.
 *
 * After every round the backup must have converged (checked independently of the tool).
 * After the last round, for every recorded moment, `restore --at` must give that tree
 * exactly: bytes, modes and mtimes (the mtime and mode a content had when it was last
 * current: docs/restore.md's known limit), symlinks with their targets, nothing more; so must a
 * few restores of one folder or file, and of the moment just before the next run. With a
 * small `max_versions_per_file` a path may instead be reported as pruned (exit 1), but
 * only for a content retention was allowed to drop, and never restored with wrong bytes.
 * Then `verify` is clean, one more run is a no-op, and `history` of some paths lists the
 * contents the model saw, in order, with times between the right runs and the last mtime.
 *
 * The source and its mutations are in history_model_source.ts, the model's trees and their
 * comparison in history_model_tree.ts, the restores and the quiet end (shared with
 * watch_model_test.ts) in model_checks.ts.
 *
 * Mtimes are distinct minutes in the past (as restore_helpers.ts's `put` does), so no
 * change hides behind a same-second timestamp and no sleep waits out the racy window.
 * RELIABILITY_SEED=<n> replays a seed; HISTORY_MODEL_ROUNDS=<n> sets the round count;
 * HISTORY_MODEL_DEEP=1 adds `verify` after every run and `history` of every path;
 * HISTORY_MODEL_KEEP=<dir> keeps a failing case's folders (source, backup, logs) there.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture } from "../helpers.ts";
import { assertConverged, countsOf, rng, runTool, suiteSeed } from "./util.ts";
import { Source } from "./history_model_source.ts";
import { contentsOf, snapshotTree } from "./history_model_tree.ts";
import { assertQuietEnd, iso, type Moment, restoreProblems } from "./model_checks.ts";

interface Variant {
  name: string;
  seed: number;
  rounds: number;
  maxVersions: number;
  maxDeletePercent: number;
  /** Weight of the mutation that modifies one of a few hot files (others: 1–4). */
  churn: number;
}

/** HISTORY_MODEL_KEEP=DIR: a failing case's folders are copied there to look at. */
function keep(fx: Fixture): void {
  const to = Deno.env.get("HISTORY_MODEL_KEEP");
  if (to) new Deno.Command("cp", { args: ["-a", fx.dir, to] }).outputSync();
}

async function cli(fx: Fixture, ...args: string[]) {
  return await runTool([...args, "--config", fx.config], { timeoutMs: 60_000 });
}

async function historyModel(v: Variant): Promise<void> {
  const r = rng(v.seed);
  const replay = `seed ${v.seed} (RELIABILITY_SEED=${v.seed} replays it)`;
  using fx = makeFixture({}, {
    retention: { max_versions_per_file: v.maxVersions },
    safety: { max_delete_percent: v.maxDeletePercent },
    log_retention: 1000, // every run's log, for HISTORY_MODEL_KEEP
  });
  const src = new Source(fx.source, r, v.churn);
  const journal: string[] = src.seed().map((l) => `round 0: ${l}`);
  const moments: Moment[] = [];
  const contentsEver = new Set<string>();
  let forced = 0;
  const kinds = new Map<string, number>();
  const fail = (what: string): never => {
    keep(fx);
    throw new Error(`${v.name}, ${replay}: ${what}\nmutations:\n  ${journal.join("\n  ")}`);
  };
  try {
    for (let round = 0; round < v.rounds; round++) {
      if (round > 0) {
        const n = r.int(1, 6);
        for (let i = 0; i < n; i++) {
          const [kind, did] = src.mutate();
          kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
          journal.push(`round ${round}: ${did}`);
        }
      }
      const tree = snapshotTree(fx.source);
      // The guard counts tracked files gone from the source: force when it could trip.
      const prev = moments[moments.length - 1]?.tree ?? new Map();
      const gone = [...prev.keys()].filter((p) => !tree.has(p)).length;
      const force = gone * 100 > (v.maxDeletePercent - 10) * prev.size || r.next() < 0.1;
      if (force) forced++;
      if (moments.length > 0) moments[moments.length - 1].before = Date.now();
      const run = await cli(fx, "run", "--json", ...(force ? ["--force"] : []));
      journal.push(`round ${round}: run${force ? " --force" : ""} (${gone} gone)`);
      const time = Date.now();
      if (run.code !== 0) {
        fail(`round ${round}: run exited ${run.code}\n${run.stdout}\n${run.stderr}`);
      }
      assert.equal(countsOf(run).failed, 0);
      moments.push({ time, tree });
      for (const e of tree.values()) contentsEver.add(e.hash);
      const current = [...tree.values()].map((e) => e.hash);
      try {
        assertConverged(fx, v.maxVersions >= v.rounds ? contentsEver : current, `round ${round}`);
      } catch (e) {
        fail((e as Error).message);
      }
      if (DEEP) {
        const verify = await cli(fx, "verify", "--json");
        if (verify.code !== 0) fail(`round ${round}: verify\n${verify.stdout}\n${verify.stderr}`);
      }
    }

    // Every moment, restored as of its time (and a few as of just before the next run).
    const restored = await restoreProblems(moments, {
      cli: (...args) => cli(fx, ...args),
      dir: fx.dir,
      r,
      maxVersions: v.maxVersions,
    });
    if (restored.problems.length > 0) {
      fail(`restore differs from the model:\n  ${restored.problems.join("\n  ")}`);
    }
    const { pruned } = restored;
    if (v.maxVersions >= v.rounds) assert.equal(pruned, 0, `nothing may be pruned, ${replay}`);

    // Before the first run, nothing.
    const none = await cli(
      fx,
      "restore",
      "--at",
      iso(moments[0].time - 60_000),
      "--to",
      join(fx.dir, "none"),
    );
    assert.equal(none.code, 1, `restore before the first run, ${replay}: ${none.stderr}`);
    assert.match(none.stderr, /the backup holds no files as of/);

    // verify is clean, and the next run is a no-op.
    await assertQuietEnd((...args) => cli(fx, ...args), moments[moments.length - 1].tree, replay);

    // history of some paths: the model's contents, in order, between the right runs.
    const trees = moments.map((m) => m.tree);
    const everyPath = [...new Set(trees.flatMap((t) => [...t.keys()]))].sort();
    const byChanges = [...everyPath].sort((a, b) =>
      contentsOf(trees, b).length - contentsOf(trees, a).length
    );
    const chosen = DEEP ? everyPath : [
      ...new Set([...byChanges.slice(0, 3), ...[0, 1, 2, 3].map(() => r.pick(everyPath))]),
    ];
    for (const path of chosen) {
      const h = await cli(fx, "history", path, "--json");
      assert.equal(h.code, 0, `history ${path}, ${replay}: ${h.stderr}`);
      const versions = JSON.parse(h.stdout).versions as {
        version: number;
        kind: string;
        hash: string;
        mtime: string;
        becameCurrent: string;
        replaced: string | null;
        location: string;
      }[];
      const model = contentsOf(trees, path);
      const show = (x: { kind: string; hash: string }[]) =>
        x.map((e) => `${e.kind}:${e.hash.slice(0, 10)}`).join(", ");
      if (show(versions) !== show(model.map((m) => m.entry))) {
        fail(
          `history ${path}: [${show(versions)}], the model saw [${
            show(model.map((m) => m.entry))
          }]`,
        );
      }
      const lines: string[] = [];
      versions.forEach((e, i) => {
        const m = model[i];
        const from = Date.parse(e.becameCurrent);
        const to = e.replaced === null ? Infinity : Date.parse(e.replaced);
        if (e.version !== i + 1) lines.push(`v${e.version} is content ${i + 1}`);
        if (
          !(from <= moments[m.first].time && (m.first === 0 || from > moments[m.first - 1].time))
        ) {
          lines.push(
            `v${e.version} became current ${e.becameCurrent}, seen first after run ` +
              `${m.first} (${iso(moments[m.first].time)})`,
          );
        }
        const stillCurrent = m.last === moments.length - 1;
        if (
          stillCurrent
            ? to !== Infinity
            : !(to > moments[m.last].time && to <= moments[m.last + 1].time)
        ) {
          lines.push(`v${e.version} replaced ${e.replaced}, seen last after run ${m.last}`);
        }
        if (m.entry.kind === "file" && Date.parse(e.mtime) !== m.entry.mtimeMs) {
          lines.push(`v${e.version} mtime ${e.mtime}, last seen ${iso(m.entry.mtimeMs)}`);
        }
        const mayPrune = i < versions.length - 1 - v.maxVersions;
        if (e.location === "pruned" ? !mayPrune : e.location === "lost") {
          lines.push(`v${e.version} location ${e.location}`);
        }
      });
      if (lines.length > 0) fail(`history ${path}:\n  ${lines.join("\n  ")}`);
    }
    console.log(
      `  ${v.name}, ${replay}: ${v.rounds} rounds (${forced} forced), ${restored.restores} restores ` +
        `(${pruned} pruned paths), mutations: ${
          [...kinds].sort().map(([k, n]) => `${k} ${n}`).join(", ")
        }`,
    );
  } catch (e) {
    if (e instanceof Error && !e.message.includes("mutations:")) {
      e.message += `\n${v.name}, ${replay}\nmutations:\n  ${journal.join("\n  ")}`;
    }
    throw e;
  }
}

/** HISTORY_MODEL_DEEP=1: verify after every run, and the history of every path. */
const DEEP = Deno.env.get("HISTORY_MODEL_DEEP") === "1";
const ROUNDS = Number(Deno.env.get("HISTORY_MODEL_ROUNDS") ?? 0);

Deno.test("history model: every run's moment restores exactly (no retention pruning)", async () => {
  await historyModel({
    name: "max_versions_per_file 50",
    seed: suiteSeed(22),
    rounds: ROUNDS || 25,
    maxVersions: 50,
    maxDeletePercent: 50,
    churn: 2,
  });
});

Deno.test("history model: with retention 2, every path matches or is reported pruned", async () => {
  await historyModel({
    name: "max_versions_per_file 2",
    seed: suiteSeed(22),
    rounds: ROUNDS || 16,
    maxVersions: 2,
    maxDeletePercent: 100,
    churn: 6, // enough versions of a few files for retention to prune
  });
});

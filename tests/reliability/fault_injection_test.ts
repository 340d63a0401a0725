/**
 * Deterministic crash injection. For each operation kind, a fixture is run clean once,
 * mutated so the next run performs that operation, and saved as a template. Then, for
 * every fault point and every occurrence n of it (n = 1, 2, ... until the run no longer
 * reaches the n-th occurrence), a copy of the template is run with
 * BACKUP_TOOL_FAULT=<point>:<n> (the process exits 137 there, like SIGKILL), then run
 * clean, then checked: the backup equals the source, every content captured before is
 * still stored, the state and the files agree (no partial or stray file at a final name),
 * no intent and no temp file is left, and one more run is a pure no-op. So every step
 * boundary of every operation is proven, not just the ones a random kill happens to hit.
 * The last scenario does every operation in one run (and a file replaced by a folder, a
 * folder by a file, a file modified into a duplicate, an original modified so that its
 * duplicate is promoted, a metadata refresh), so batches that
 * mix them (deletions and the entries that replace them share one; retention follows in
 * its own), are crashed too.
 *
 * A second test crashes the recovery itself: journal a batch (fault at `journaled`), then
 * crash the next run inside its recovery at each file step, then run clean. A third
 * crashes a run whose applied batches wait to be committed together: every one of their
 * intents is recovered, in order.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Tree, writeConfig, writeTree } from "../helpers.ts";
import {
  assertConverged,
  cloneDir,
  countsOf,
  lastLogLines,
  pool,
  readState,
  runTool,
  sha256,
  snapshot,
} from "./util.ts";

const POINTS = [
  "staged",
  "journaled",
  "linked",
  "archived",
  "placed",
  "deleted",
  "promoted",
  "pruned",
  "executed",
  "logged",
  "committed",
] as const;
type Point = typeof POINTS[number];

/** Points between the journal write and the commit: a crash there leaves an intent. */
const LEAVES_INTENT: Point[] = POINTS.filter((p) => p !== "staged" && p !== "committed");

const KEEP: Tree = {
  "keep/1.txt": "keep one\n",
  "keep/2.txt": "keep two\n",
  "keep/3.txt": "keep three\n",
  "keep/sub/4.txt": "keep four\n",
  "keep/empty": "",
};

interface Scenario {
  name: string;
  tree: Tree;
  /** Extra setup of the source (symlinks). */
  setup?: (src: string) => void;
  config?: Record<string, unknown>;
  /** Source edits, each followed by a clean run, before the template is saved. */
  before?: ((src: string) => void)[];
  /** The edit that makes the next run perform the operation. */
  mutate: (src: string) => void;
  /** Points the operation must reach (the fault fires at n = 1). */
  reaches: Point[];
  /** Contents legitimately removed by retention in the faulted run. */
  pruned?: string[];
}

const write = (src: string, rel: string, text: string) =>
  Deno.writeTextFileSync(join(src, ...rel.split("/")), text);
const BATCH: Point[] = ["staged", "journaled", "executed", "logged", "committed"];

const SCENARIOS: Scenario[] = [
  {
    name: "backup of a new file",
    tree: KEEP,
    mutate: (src) => writeTree(src, { "new/deep/n.txt": "brand new\n", "n2.txt": "second new" }),
    reaches: [...BATCH, "linked", "placed"],
  },
  {
    name: "modified file (archive old copy, place new)",
    tree: { ...KEEP, "m.txt": "old content\n" },
    mutate: (src) => write(src, "m.txt", "new content, longer than before\n"),
    reaches: [...BATCH, "linked", "archived", "placed"],
  },
  {
    name: "deleted file (move to _deleted/)",
    tree: { ...KEEP, "gone/g.txt": "soon deleted\n" },
    mutate: (src) => Deno.removeSync(join(src, "gone"), { recursive: true }),
    reaches: [...BATCH, "linked", "deleted"],
  },
  {
    name: "retention prune",
    tree: { ...KEEP, "p.txt": "p v1\n" },
    config: { retention: { max_versions_per_file: 1 } },
    before: [(src) => write(src, "p.txt", "p v2\n")],
    mutate: (src) => write(src, "p.txt", "p v3\n"),
    reaches: [...BATCH, "archived", "placed", "pruned"],
    pruned: [sha256("p v1\n")],
  },
  {
    name: "new duplicate",
    tree: { ...KEEP, "orig.txt": "shared content\n" },
    mutate: (src) => writeTree(src, { "copy/dup.txt": "shared content\n" }),
    reaches: [...BATCH, "placed"],
  },
  {
    name: "promotion (an original deleted: its first duplicate moves to its own path)",
    tree: { ...KEEP, "a/orig.txt": "shared content\n", "b/dup.txt": "shared content\n" },
    mutate: (src) => Deno.removeSync(join(src, "a"), { recursive: true }),
    reaches: [...BATCH, "linked", "deleted", "promoted"],
  },
  {
    name: "everything at once (new, modified, deleted, duplicate, replaced, pruned, symlinks)",
    tree: {
      ...KEEP,
      "m.txt": "m old\n",
      "gone.txt": "to delete\n",
      "p.txt": "p v1\n",
      "dir/x.txt": "x becomes a folder\n",
      "d.txt": "own content\n",
      "o.txt": "o's content, held by od.txt too\n",
      "od.txt": "o's content, held by od.txt too\n",
      "t.sh": "#!/bin/sh\n",
    },
    setup: (src) => {
      Deno.symlinkSync("nowhere", join(src, "dangling.lnk"));
      Deno.symlinkSync("keep/1.txt", join(src, "becomes-file"));
      Deno.symlinkSync("keep/2.txt", join(src, "becomes-link"));
      Deno.removeSync(join(src, "becomes-link"));
      write(src, "becomes-link", "a file that becomes a symlink\n");
    },
    config: { retention: { max_versions_per_file: 1 } },
    before: [(src) => write(src, "p.txt", "p v2\n")],
    mutate: (src) => {
      // Symlinks: a dangling one retargeted, one replaced by a file, a file by one.
      Deno.removeSync(join(src, "dangling.lnk"));
      Deno.symlinkSync("still/nowhere", join(src, "dangling.lnk"));
      Deno.removeSync(join(src, "becomes-file"));
      write(src, "becomes-file", "was a symlink\n");
      Deno.removeSync(join(src, "becomes-link"));
      Deno.symlinkSync("keep/3.txt", join(src, "becomes-link"));
      write(src, "m.txt", "m new\n");
      Deno.removeSync(join(src, "gone.txt"));
      write(src, "p.txt", "p v3\n");
      writeTree(src, { "n.txt": "new one\n", "dup.txt": "keep one\n" });
      // A file replaced by a folder of the same name, and a folder by a file.
      Deno.removeSync(join(src, "dir"), { recursive: true });
      writeTree(src, { "dir": "dir is now a file\n", "keep/empty2": "" });
      // Modified into a duplicate of another file (archive, then place in _duplicates/).
      write(src, "d.txt", "keep two\n");
      // An original modified: its duplicate is promoted to its own path.
      write(src, "o.txt", "o changed\n");
      // Same content, new mode and mtime: a metadata refresh.
      const later = new Date(Date.now() + 3_600_000);
      Deno.chmodSync(join(src, "t.sh"), 0o755);
      Deno.utimeSync(join(src, "t.sh"), later, later);
    },
    // Every point but `linked`, reached by each of its many moves (the scenarios above
    // crash at each of theirs).
    reaches: POINTS.filter((p) => p !== "linked"),
    pruned: [sha256("p v1\n")],
  },
];

interface Template {
  dir: string;
  /** Contents captured by the completed setup runs (minus what retention may drop). */
  mustKeep: Set<string>;
}

async function cleanRun(cfg: string, context: string): Promise<Record<string, number>> {
  const r = await runTool(["run", "--json", "--config", cfg], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, `${context}: clean run exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return countsOf(r);
}

async function makeTemplate(s: Scenario, parent: string): Promise<Template> {
  const dir = join(parent, "template");
  const src = join(dir, "source");
  Deno.mkdirSync(src, { recursive: true });
  writeTree(src, s.tree);
  s.setup?.(src);
  writeConfig(join(dir, "config.jsonc"), {
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    ...s.config,
  });
  const mustKeep = new Set<string>();
  const capture = () => {
    for (const v of snapshot(src).values()) mustKeep.add(v.hash);
  };
  await cleanRun(join(dir, "config.jsonc"), `${s.name}: setup`);
  capture();
  for (const edit of s.before ?? []) {
    edit(src);
    await cleanRun(join(dir, "config.jsonc"), `${s.name}: setup`);
    capture();
  }
  s.mutate(src);
  for (const h of s.pruned ?? []) mustKeep.delete(h);
  return { dir, mustKeep };
}

interface Outcome {
  point: Point;
  /** How many occurrences of the point were crashed at (and recovered from). */
  crashes: number;
}

/**
 * The most occurrences of one point a scenario may reach: the largest reaches 11 (`placed`);
 * the margin lets a scenario grow by a few files without the test calling it endless.
 */
const MAX_OCCURRENCES = 24;

/** Crashes at every occurrence of `point` in turn; checks recovery after each. */
async function crashAtEveryOccurrence(
  s: Scenario,
  t: Template,
  parent: string,
  point: Point,
): Promise<Outcome> {
  for (let n = 1; n <= MAX_OCCURRENCES; n++) {
    const context = `${s.name}, fault ${point}:${n}`;
    const dir = join(parent, `${point}-${n}`);
    await cloneDir(t.dir, dir);
    const cfg = join(dir, "config.jsonc");
    const fx = { source: join(dir, "source"), backup: join(dir, "backup") };
    try {
      const faulted = await runTool(["run", "--json", "--config", cfg], {
        env: { BACKUP_TOOL_FAULT: `${point}:${n}` },
        timeoutMs: 30_000,
      });
      if (faulted.code === 0) {
        // The run reaches this point fewer than n times: it completed normally.
        assertConverged(fx, t.mustKeep, `${context} (not reached, normal run)`);
        if (s.reaches.includes(point) && n === 1) {
          assert.fail(`${context}: the operation never reached '${point}'`);
        }
        return { point, crashes: n - 1 };
      }
      assert.equal(faulted.code, 137, `${context}: exit ${faulted.code}\n${faulted.stderr}`);
      const pending = readState(fx.backup).intents;
      if (LEAVES_INTENT.includes(point)) {
        // Batches of only plain skips are not journaled; every other batch is.
        assert.ok(pending <= 1, `${context}: ${pending} intents`);
      }
      const counts = await cleanRun(cfg, `${context}: recovery run`);
      assert.equal(counts.failed, 0, `${context}: recovery run reported failures`);
      const log = lastLogLines(join(dir, "logs"));
      if (pending > 0) {
        assert.ok(
          log.some((l) => l.startsWith("RECOVER: completed")),
          `${context}: an intent was pending but the next run logged no RECOVER line:\n` +
            log.join("\n"),
        );
      }
      assertConverged(fx, t.mustKeep, `${context}: after recovery`);
      const again = await cleanRun(cfg, `${context}: no-op run`);
      for (const k of ["backup", "modified", "duplicate", "delete", "prune", "promote", "failed"]) {
        assert.equal(again[k], 0, `${context}: the run after recovery was not a no-op: ${k}`);
      }
      assertConverged(fx, t.mustKeep, `${context}: after the no-op run`);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  }
  throw new Error(`${s.name}: '${point}' still reached after ${MAX_OCCURRENCES} occurrences`);
}

for (const s of SCENARIOS) {
  Deno.test(`crash at every step boundary: ${s.name}`, async () => {
    const parent = Deno.makeTempDirSync({ prefix: "bt-fault-" });
    try {
      const t = await makeTemplate(s, parent);
      // Points the operation does not reach are covered by the "everything" scenario.
      const outcomes = await pool(
        POINTS.filter((p) => s.reaches.includes(p)),
        2,
        (point) => crashAtEveryOccurrence(s, t, parent, point),
      );
      for (const o of outcomes) assert.ok(o.crashes >= 1, `${s.name}: ${o.point}`);
      console.log(
        `  ${s.name}: crashes recovered per point: ` +
          outcomes.map((o) => `${o.point}×${o.crashes}`).join(", "),
      );
    } finally {
      Deno.removeSync(parent, { recursive: true });
    }
  });
}

/**
 * The file steps that recovery itself performs, and which batch of the "everything" run to
 * journal (1 deletions and entries, 2 retention) so that its recovery performs them.
 */
const RECOVERY_STEPS: [Point, number][] = [
  ["logged", 1],
  ["deleted", 1],
  ["archived", 1],
  ["placed", 1],
  ["promoted", 2],
  ["pruned", 2],
];

Deno.test("a crash during recovery is itself recovered", async () => {
  const s = SCENARIOS[SCENARIOS.length - 1];
  const parent = Deno.makeTempDirSync({ prefix: "bt-fault-rec-" });
  try {
    const t = await makeTemplate(s, parent);
    let crashedInRecovery = 0;
    for (const [point, batch] of RECOVERY_STEPS) {
      for (let n = 1; n <= 2; n++) {
        // Each case journals a batch and dies before its file steps.
        // (Made afresh per case: an intent names its staged files by absolute path.)
        const dir = join(parent, `${point}-${n}`);
        await cloneDir(t.dir, dir);
        const cfg = join(dir, "config.jsonc");
        const fx = { source: join(dir, "source"), backup: join(dir, "backup") };
        const context = `recovery interrupted at ${point}:${n}`;
        try {
          const first = await runTool(["run", "--config", cfg], {
            env: { BACKUP_TOOL_FAULT: `journaled:${batch}` },
            timeoutMs: 30_000,
          });
          assert.equal(first.code, 137, first.stderr);
          const [intentId] = readState(fx.backup).intentIds;
          assert.ok(intentId !== undefined, "no intent was journaled");
          const r = await runTool(["run", "--config", cfg], {
            env: { BACKUP_TOOL_FAULT: `${point}:${n}` },
            timeoutMs: 30_000,
          });
          if (r.code === 0) {
            // The recovery got past every point it reaches: the crash before it must have.
            assert.ok(n > 1, `${context}: the recovery never reached '${point}'`);
            assertConverged(fx, t.mustKeep, context);
            break;
          }
          assert.equal(r.code, 137, `${context}: ${r.stderr}`);
          // The journaled intent still pending: the crash was inside its recovery.
          const inRecovery = readState(fx.backup).intentIds.includes(intentId);
          if (inRecovery) crashedInRecovery++;
          else if (n === 1) assert.fail(`${context}: the recovery never reached '${point}'`);
          await cleanRun(cfg, context);
          assertConverged(fx, t.mustKeep, context);
          const again = await cleanRun(cfg, `${context}: no-op`);
          assert.equal(again.backup + again.modified + again.delete + again.prune, 0, context);
        } finally {
          Deno.removeSync(dir, { recursive: true });
        }
      }
    }
    assert.ok(crashedInRecovery > 0, "no crash landed inside a recovery");
  } finally {
    Deno.removeSync(parent, { recursive: true });
  }
});

Deno.test("recovery after the backup root moved (disk remounted elsewhere) keeps every byte", async () => {
  // A crash after the journal write, then the backup disk comes back at another path
  // (the config names it relatively, or the user edits backup_root). The journal's staged
  // copies are not where it says; recovery must not take an action as done because its
  // target exists: for a modified file the target still holds the OLD bytes.
  const parent = Deno.makeTempDirSync({ prefix: "bt-fault-move-" });
  try {
    const before = join(parent, "mounted-here");
    const src = join(before, "source");
    Deno.mkdirSync(src, { recursive: true });
    writeTree(src, { ...KEEP, "m.txt": "old bytes\n" });
    writeConfig(join(before, "config.jsonc"), {
      sources: ["./source"],
      backup_root: "./backup",
      log_dir: "./logs",
    });
    await cleanRun(join(before, "config.jsonc"), "setup");
    write(src, "m.txt", "new bytes, which must reach the backup\n");
    const crashed = await runTool(["run", "--config", join(before, "config.jsonc")], {
      env: { BACKUP_TOOL_FAULT: "journaled:1" },
      timeoutMs: 30_000,
    });
    assert.equal(crashed.code, 137, crashed.stderr);
    const after = join(parent, "mounted-there");
    Deno.renameSync(before, after);
    const fx = { source: join(after, "source"), backup: join(after, "backup") };
    await cleanRun(join(after, "config.jsonc"), "run after the move");
    await cleanRun(join(after, "config.jsonc"), "second run after the move");
    assertConverged(fx, [sha256("old bytes\n")], "after recovery at the new path");
  } finally {
    Deno.removeSync(parent, { recursive: true });
  }
});

Deno.test("a crash with several applied batches waiting for one commit: all are recovered", async () => {
  // 1,300 new files: three batches of up to 512 staged files, committed together.
  const many: Tree = {};
  for (let i = 0; i < 1_300; i++) many[`many/d${i % 13}/f${i}.txt`] = `file ${i}\n`;
  const s: Scenario = {
    name: "many new files",
    tree: KEEP,
    mutate: (src) => writeTree(src, many),
    reaches: [],
  };
  const parent = Deno.makeTempDirSync({ prefix: "bt-fault-many-" });
  try {
    const t = await makeTemplate(s, parent);
    for (const n of [2, 3]) {
      const context = `executed:${n}`;
      const dir = join(parent, `executed-${n}`);
      await cloneDir(t.dir, dir);
      const cfg = join(dir, "config.jsonc");
      const fx = { source: join(dir, "source"), backup: join(dir, "backup") };
      const faulted = await runTool(["run", "--config", cfg], {
        env: { BACKUP_TOOL_FAULT: context },
        timeoutMs: 60_000,
      });
      assert.equal(faulted.code, 137, `${context}: ${faulted.stderr}`);
      assert.equal(readState(fx.backup).intents, n, `${context}: intents waiting`);
      const counts = await cleanRun(cfg, context);
      assert.equal(counts.failed, 0, context);
      const recovered = lastLogLines(join(dir, "logs"))
        .filter((l) => l.startsWith("RECOVER: completed"));
      assert.equal(recovered.length, n, recovered.join("\n"));
      assertConverged(fx, t.mustKeep, `${context}: after recovery`);
      const again = await cleanRun(cfg, `${context}: no-op run`);
      assert.equal(again.backup + again.modified + again.duplicate + again.delete, 0, context);
    }
  } finally {
    Deno.removeSync(parent, { recursive: true });
  }
});

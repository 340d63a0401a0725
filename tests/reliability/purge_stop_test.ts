/**
 * `purge --yes` over more than one of retention's batches (1,024 copies each), stopped:
 * by SIGTERM or SIGINT while it is held before its first or its second batch is applied
 * (BACKUP_TOOL_PAUSE `applying`), it finishes that batch, and no other, exits 143 or 130
 * and logs each copy it deleted (a signal during its last batch stops nothing: it says
 * complete, exit 0); and killed (BACKUP_TOOL_FAULT) at each step boundary of
 * a prune batch, in its first batch and its last. Either way the same purge again, then a run, finish it:
 * `verify` is clean, every copy asked is gone, and no copy is gone without its
 * `PURGE delete:` line in a log.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, listFiles, makeFixture, writeConfig } from "../helpers.ts";
import { allLogLines, cloneDir, pool, runTool, signalledAt } from "./util.ts";

/**
 * `n` files under big/, each backed up with two contents (its latest copy and a
 * versions/ copy), then excluded: 2n copies for `purge big` to delete. The copies, by
 * their place in the backup root.
 */
async function excludedWithVersions(fx: Fixture, n: number): Promise<string[]> {
  const big = join(fx.source, "big");
  Deno.mkdirSync(big);
  const write = (v: number) => {
    for (let i = 0; i < n; i++) {
      Deno.writeFileSync(join(big, `f${i}.txt`), new TextEncoder().encode(`v${v} ${i}\n`));
    }
  };
  write(1);
  Deno.writeTextFileSync(join(fx.source, "keep.txt"), "keep\n");
  for (const step of [() => write(2), () => exclude(fx), () => {}]) {
    const r = await runTool(["run", "--config", fx.config]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    step();
  }
  const copies = stored(fx.backup).filter((f) => f !== "keep.txt");
  assert.equal(copies.length, 2 * n);
  return copies;
}

function exclude(fx: Fixture): void {
  writeConfig(fx.config, {
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    exclude: ["big/"],
  });
}

/** The files of a backup root outside its state folder. */
const stored = (backup: string) => listFiles(backup).filter((f) => !f.startsWith(".backup-tool/"));

/** The copies each log says were deleted, every log of the fixture. */
const purgedLines = (logs: string) =>
  allLogLines(logs).filter((l) => l.startsWith("PURGE delete: ")).map((l) => l.slice(14));

/**
 * The same purge again, then a run: every copy gone, each named by a log line, `verify`
 * clean, keep.txt kept.
 */
async function finishes(fx: { config: string; backup: string; logs: string }, copies: string[]) {
  const cfg = ["--config", fx.config];
  const again = await runTool(["purge", "big", "--yes", ...cfg]);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  const run = await runTool(["run", ...cfg]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.deepEqual(stored(fx.backup), ["keep.txt"]);
  const logged = new Set(purgedLines(fx.logs));
  assert.deepEqual(copies.filter((c) => !logged.has(c)), [], "a copy gone without its line");
  const verify = await runTool(["verify", ...cfg]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  const history = await runTool(["history", "big/f0.txt", ...cfg]);
  assert.equal(history.stdout.match(/purged by 'purge'/g)?.length, 2, history.stdout);
}

/**
 * Each stop: the signal, its exit code, the batch held before (BACKUP_TOOL_PAUSE
 * `applying:<n>`, its copies not yet deleted, those of the batches before it deleted and
 * logged), and the copies deleted once the purge stops, that batch finished.
 */
const STOPS = [
  { signal: "SIGTERM", code: 143, batch: 1, purged: 1024 },
  { signal: "SIGTERM", code: 143, batch: 2, purged: 2048 },
  { signal: "SIGINT", code: 130, batch: 2, purged: 2048 },
] as const;

Deno.test({
  name:
    "purge --yes sent SIGTERM before its last batch finishes: nothing is left, so it says complete (exit 0)",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    using fx = makeFixture({});
    const copies = await excludedWithVersions(fx, 600); // 1,200 copies: two batches
    const args = ["purge", "big", "--yes", "--config", fx.config];
    const out = await signalledAt(args, "applying:2", fx.dir);
    const { stdout, stderr } = out;
    // Before, 'Purge stopped before it finished: 1200 stored copies purged, 0 failed; run
    // the same purge again to delete the copies left' (exit 143), none left.
    assert.equal(out.code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /Purge complete: 1200 stored copies purged \([^)]+\), 0 failed/);
    assert.equal(
      allLogLines(fx.logs).at(-1),
      "Purge complete: 1200 copies purged, 0 failed",
    );
    assert.deepEqual(stored(fx.backup), ["keep.txt"]);
    await finishes(fx, copies);
  },
});

for (const { signal, code, batch, purged } of STOPS) {
  Deno.test({
    name: `purge --yes stopped by ${signal} before its batch ${batch} is applied: exit ${code}, ` +
      `${purged} copies deleted and logged, the same purge again finishes it`,
    ignore: Deno.build.os === "windows",
    fn: async () => {
      using fx = makeFixture({});
      const copies = await excludedWithVersions(fx, 1100); // 2,200 copies: three batches
      const args = ["purge", "big", "--yes", "--config", fx.config];
      const out = await signalledAt(args, `applying:${batch}`, fx.dir, {
        signal,
        whilePaused: () =>
          assert.equal(purgedLines(fx.logs).length, 1024 * (batch - 1), "the lines before"),
      });
      const { stdout, stderr } = out;
      assert.equal(out.code, code, `${stdout}\n${stderr}`);
      assert.match(stderr, new RegExp(`Stopping after the batch in progress \\(${signal}\\)`));
      assert.match(
        stdout,
        new RegExp(
          `Purge stopped before it finished: ${purged} stored copies purged, 0 failed; ` +
            "run the same purge again to delete the copies left",
        ),
      );
      const left = new Set(stored(fx.backup));
      const gone = copies.filter((c) => !left.has(c));
      assert.equal(gone.length, purged);
      assert.deepEqual(new Set(purgedLines(fx.logs)), new Set(gone));
      const last = allLogLines(fx.logs).at(-1)!;
      assert.equal(last, `Purge stopped before it finished: ${purged} copies purged, 0 failed`);

      await finishes(fx, copies);
    },
  });
}

/** The step boundaries of a prune batch, in its first batch (1,024 copies) and its last. */
const CRASHES = [
  "staged:1",
  "journaled:1",
  "pruned:1",
  "pruned:1024",
  "executed:1",
  "staged:2",
  "journaled:2",
  "pruned:1025",
  "pruned:1030",
  "executed:2",
  "logged:1",
  "committed:1",
];

Deno.test({
  name: "purge --yes killed at each step boundary of its batches: the same purge again finishes it",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    using fx = makeFixture({});
    const copies = await excludedWithVersions(fx, 515); // 1,030 copies: two batches
    await pool(CRASHES, 2, async (at) => {
      const dir = join(fx.dir, `case-${at.replace(":", "-")}`);
      Deno.mkdirSync(dir);
      for (const part of ["source", "backup", "logs", "config.jsonc"]) {
        await cloneDir(join(fx.dir, part), join(dir, part));
      }
      const config = join(dir, "config.jsonc");
      const backup = join(dir, "backup");
      const logs = join(dir, "logs");
      const crashed = await runTool(["purge", "big", "--yes", "--config", config], {
        env: { BACKUP_TOOL_FAULT: at },
      });
      assert.equal(crashed.code, 137, `${at}: ${crashed.stdout}${crashed.stderr}`);
      try {
        await finishes({ config, backup, logs }, copies);
      } catch (e) {
        throw new Error(`crashed at ${at}: ${e instanceof Error ? e.message : e}`);
      }
    });
  },
});

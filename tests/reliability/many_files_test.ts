/**
 * 100,000 files in one folder: the run completes (exit 0) within a generous deadline, every
 * file is tracked and stored, the next run is a pure no-op, and the durations are printed
 * so a regression is visible. Each file holds distinct text, so every one is a real copy.
 * As root the fixture lives on a tmpfs (its 200,000 files vanish with one umount, and disk
 * flushes cost nothing, so the time measured is the tool's own); elsewhere in a temp dir.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { writeConfig } from "../helpers.ts";
import {
  countsOf,
  isRoot,
  listDir,
  readState,
  rng,
  runTool,
  suiteSeed,
  tmpLeftovers,
} from "./util.ts";

const COUNT = 100_000;

async function onTmpfs(dir: string): Promise<boolean> {
  if (!isRoot()) return false;
  const out = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", "size=3g,nr_inodes=1m", "tmpfs", dir],
    stderr: "null",
  }).output();
  return out.success;
}

Deno.test("100,000 files in one folder: backed up, then a no-op run", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-100k-" });
  const mounted = await onTmpfs(dir);
  try {
    const source = join(dir, "source");
    const flat = join(source, "flat");
    Deno.mkdirSync(flat, { recursive: true });
    const config = join(dir, "config.jsonc");
    writeConfig(config, { sources: ["./source"], backup_root: "./backup", log_dir: "./logs" });
    const backup = join(dir, "backup");
    const enc = new TextEncoder();
    let t = performance.now();
    for (let i = 0; i < COUNT; i++) {
      Deno.writeFileSync(join(flat, `f${String(i).padStart(6, "0")}.txt`), enc.encode(`${i}\n`));
    }
    const created = Math.round(performance.now() - t);

    t = performance.now();
    const first = await runTool(["run", "--json", "--config", config], { timeoutMs: 240_000 });
    const firstMs = Math.round(performance.now() - t);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(countsOf(first).backup, COUNT);

    t = performance.now();
    const second = await runTool(["run", "--json", "--config", config], { timeoutMs: 120_000 });
    const secondMs = Math.round(performance.now() - t);
    assert.equal(second.code, 0, second.stderr);
    const c = countsOf(second);
    assert.equal(c.skip, COUNT);
    assert.equal(c.backup + c.modified + c.duplicate + c.delete + c.failed, 0);
    console.log(
      `  ${COUNT} files${mounted ? " (tmpfs)" : ""}: created in ${created} ms, first run ` +
        `${firstMs} ms, no-op run ${secondMs} ms`,
    );

    const state = readState(backup);
    assert.equal(state.files.length, COUNT);
    assert.equal(state.intents, 0);
    assert.deepEqual(tmpLeftovers(backup), []);
    assert.equal(listDir(join(backup, "flat")).length, COUNT);
    const r = rng(suiteSeed(100_000));
    for (let k = 0; k < 300; k++) {
      const i = r.int(0, COUNT - 1);
      const name = `f${String(i).padStart(6, "0")}.txt`;
      assert.equal(Deno.readTextFileSync(join(backup, "flat", name)), `${i}\n`, name);
    }
  } finally {
    if (mounted) await new Deno.Command("umount", { args: [dir] }).output();
    Deno.removeSync(dir, { recursive: true });
  }
});

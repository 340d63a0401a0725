/**
 * A restore while a run changes the backup: the restore picks its contents from the state,
 * then reads their copies, and a run in between may move a copy (a changed file's old
 * content to `versions/`) or prune it. The restore is paused (BACKUP_TOOL_PAUSE, see
 * src/engine/fault.ts) once it has picked the file and before it reads it, a run goes
 * through (or is killed between its file steps and its commit, as a run still going on
 * stands then), and the restore goes on: the moved copy is read where the state, or the
 * run's journal, now puts it, with no word of damage, and the pruned one is named as pruned.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture, poll } from "./helpers.ts";
import { killAndWait, runTool, spawnTool } from "./reliability/util.ts";

const fixture = () => makeFixture({ "b.txt": "B1\n" }, { retention: { max_versions_per_file: 1 } });

/** Restores with `args` into `to`, paused before it reads the file while `meanwhile` runs. */
async function restoreAround(
  fx: Fixture,
  args: string[],
  meanwhile: () => Promise<void>,
) {
  const paused = join(fx.dir, "paused");
  const to = join(fx.dir, "to");
  const child = spawnTool(["restore", ...args, "--to", to, "--config", fx.config], {
    env: { BACKUP_TOOL_PAUSE: `restoring:1:${paused}` },
  });
  try {
    await poll("the restore to pause", () => {
      try {
        return Deno.statSync(paused).isFile;
      } catch {
        return false;
      }
    });
    try {
      await meanwhile();
    } finally {
      Deno.removeSync(paused);
    }
    const out = await child.output();
    const dec = new TextDecoder();
    const text = () => Deno.readTextFileSync(join(to, "b.txt"));
    return { code: out.code, stderr: dec.decode(out.stderr), text };
  } finally {
    await killAndWait(child);
  }
}

async function changeAndRun(fx: Fixture, text: string, env: Record<string, string> = {}) {
  Deno.writeTextFileSync(join(fx.source, "b.txt"), text);
  return await runTool(["run", "--quiet", "--config", fx.config], { env });
}

Deno.test("restore while a run moves a copy to versions/: read there, with no word of damage", async () => {
  using fx = fixture();
  assert.equal((await fx.cli("run", "--quiet")).code, 0);
  const r = await restoreAround(fx, [], async () => {
    assert.equal((await changeAndRun(fx, "B2\n")).code, 0);
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.text(), "B1\n");
  assert.doesNotMatch(r.stderr, /missing or damaged|verify --repair/, r.stderr);
});

Deno.test("restore while a run has moved a copy and not yet recorded it: read where its journal says", async () => {
  using fx = fixture();
  assert.equal((await fx.cli("run", "--quiet")).code, 0);
  const r = await restoreAround(fx, [], async () => {
    // Killed after its file steps, before its commit: the copy moved, the state as before.
    const run = await changeAndRun(fx, "B2\n", { BACKUP_TOOL_FAULT: "logged:1" });
    assert.equal(run.code, 137, run.stderr);
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.text(), "B1\n");
  assert.doesNotMatch(r.stderr, /damaged|verify/, r.stderr);
});

Deno.test("restore --at while a run prunes the copy it picked: named as pruned, not missing", async () => {
  using fx = fixture();
  assert.equal((await fx.cli("run", "--quiet")).code, 0);
  assert.equal((await changeAndRun(fx, "B2\n")).code, 0); // B1 in versions/
  const runs = JSON.parse((await fx.cli("history", "--json")).stdout).runs;
  // B2 goes to versions/, and B1, past max_versions_per_file, is pruned.
  const r = await restoreAround(fx, ["--at", runs[0].endedAt], async () => {
    assert.equal((await changeAndRun(fx, "B3\n")).code, 0);
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /NOT RESTORED: source\/b\.txt \(v1\): version 1 was pruned by retention at /,
  );
  assert.doesNotMatch(r.stderr, /is missing|verify/, r.stderr);
});

Deno.test("restore --at while a run has pruned the copy it picked and not yet recorded it: named as pruned", async () => {
  using fx = fixture();
  assert.equal((await fx.cli("run", "--quiet")).code, 0);
  assert.equal((await changeAndRun(fx, "B2\n")).code, 0); // B1 in versions/
  const runs = JSON.parse((await fx.cli("history", "--json")).stdout).runs;
  const r = await restoreAround(fx, ["--at", runs[0].endedAt], async () => {
    // B2 to versions/ recorded; B1 pruned, then killed before that commit.
    const run = await changeAndRun(fx, "B3\n", { BACKUP_TOOL_FAULT: "logged:2" });
    assert.equal(run.code, 137, run.stderr);
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /NOT RESTORED: source\/b\.txt \(v1\): version 1 was pruned by retention/);
  assert.doesNotMatch(r.stderr, /is missing|verify/, r.stderr);
});

Deno.test("restore while a run moves a copy that turns out damaged where it went: that place is named, not the new content's", async () => {
  using fx = fixture();
  assert.equal((await fx.cli("run", "--quiet")).code, 0);
  const r = await restoreAround(fx, [], async () => {
    assert.equal((await changeAndRun(fx, "B2\n")).code, 0);
    const versions = join(fx.backup, "versions", "b.txt");
    for (const e of Deno.readDirSync(versions)) {
      Deno.writeTextFileSync(join(versions, e.name), "B?\n");
    }
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /NOT RESTORED: source\/b\.txt \(v1\): the stored copy '[^']*versions[^']*' does not match/,
  );
});

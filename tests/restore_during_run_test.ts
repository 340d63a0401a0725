/**
 * A restore while a run changes the backup: the restore picks its contents from the state,
 * then reads their copies, and a run in between may move a copy (a changed file's old
 * content to `versions/`) or prune it. The restore is frozen with SIGSTOP once it writes
 * its first file (a large sparse one, so that the small file after it is not read yet),
 * the run goes through, and the restore goes on: the moved copy is read where the state
 * now records it, with no word of damage, and the pruned one is named as pruned.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture, poll } from "./helpers.ts";
import { killAndWait, spawnTool } from "./reliability/util.ts";

/** A source whose first file takes the restore a while: 256 MiB of holes. */
function fixture(): Fixture {
  const fx = makeFixture({ "b.txt": "B1\n" }, { retention: { max_versions_per_file: 1 } });
  using img = Deno.openSync(join(fx.source, "a.img"), { write: true, create: true });
  img.truncateSync(256 * 1024 * 1024);
  return fx;
}

/** Whether the restore began writing into `to` (its temporary file is there). */
function writing(to: string): boolean {
  try {
    return [...Deno.readDirSync(to)].some((e) => e.name.startsWith(".backup-tool-restore-"));
  } catch {
    return false;
  }
}

/** Restores with `args` into `to`, frozen while `meanwhile` runs; its output. */
async function restoreAround(
  fx: Fixture,
  to: string,
  args: string[],
  meanwhile: () => Promise<void>,
) {
  const child = spawnTool(["restore", ...args, "--to", to, "--config", fx.config]);
  try {
    await poll("the restore to write its first file", () => writing(to));
    child.kill("SIGSTOP");
    try {
      await meanwhile();
    } finally {
      child.kill("SIGCONT");
    }
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    await killAndWait(child);
  }
}

async function changeAndRun(fx: Fixture, text: string): Promise<void> {
  Deno.writeTextFileSync(join(fx.source, "b.txt"), text);
  const r = await fx.cli("run", "--quiet");
  assert.equal(r.code, 0, r.stderr);
}

Deno.test("restore while a run moves a copy to versions/: read there, with no word of damage", async () => {
  using fx = fixture();
  assert.equal((await fx.cli("run", "--quiet")).code, 0);
  const to = join(fx.dir, "to");
  const r = await restoreAround(fx, to, [], () => changeAndRun(fx, "B2\n"));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(Deno.readTextFileSync(join(to, "b.txt")), "B1\n");
  assert.doesNotMatch(r.stderr, /missing or damaged|verify --repair/, r.stderr);
});

Deno.test("restore --at while a run prunes the copy it picked: named as pruned, not missing", async () => {
  using fx = fixture();
  assert.equal((await fx.cli("run", "--quiet")).code, 0);
  await changeAndRun(fx, "B2\n"); // B1 in versions/
  const runs = JSON.parse((await fx.cli("history", "--json")).stdout).runs;
  const at = runs[0].endedAt;
  const to = join(fx.dir, "to");
  // B2 goes to versions/, and B1, past max_versions_per_file, is pruned.
  const r = await restoreAround(fx, to, ["--at", at], () => changeAndRun(fx, "B3\n"));
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /NOT RESTORED: source\/b\.txt \(v1\): version 1 was pruned by retention at /,
  );
  assert.doesNotMatch(r.stderr, /is missing|verify/, r.stderr);
});

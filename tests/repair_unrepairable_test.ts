/**
 * End-to-end test of what `verify --repair` says of an old copy found damaged whose content
 * nothing holds any more (its file changed since): not repaired, left in place, with what
 * to do so that the monthly verify stops naming it, which is then done by hand and holds.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture } from "./helpers.ts";
import { runTool } from "./reliability/util.ts";

Deno.test("verify --repair of a damaged old version nothing holds: left in place, with the way to record it lost", async () => {
  using fx = makeFixture({ "a.txt": "one\n" });
  assert.equal((await fx.cli("run")).code, 0);
  Deno.writeTextFileSync(join(fx.source, "a.txt"), "two\n");
  assert.equal((await fx.cli("run")).code, 0);
  const copy = join(fx.backup, "versions/a.txt/v1.bak");
  const info = Deno.statSync(copy);
  Deno.writeTextFileSync(copy, "onf\n"); // bit rot: same size, time put back
  Deno.utimeSync(copy, info.atime!, info.mtime!);

  const r = await fx.cli("verify", "--repair");
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const line = r.stderr.split("\n").find((l) =>
    l.startsWith("NOT REPAIRED: versions/a.txt/v1.bak")
  );
  assert.ok(line, r.stderr);
  assert.match(
    line,
    /no file in the sources nor any other copy in the backup holds this content now/,
  );
  assert.match(
    line,
    /the damaged copy stays where it is and every verify names it: .*move it out of the backup root.*then run 'verify --forget-missing --config \S+' to record it as lost/,
  );
  assert.ok(fx.lastLog().some((l) => l === line), fx.lastLog().join("\n"));
  assert.equal(Deno.readTextFileSync(copy), "onf\n");
  assert.equal((await fx.cli("verify")).code, 1);

  // What it says to do, done: the copy is recorded as lost, and verify passes again.
  Deno.renameSync(copy, join(fx.dir, "v1.bak.damaged"));
  const forget = await fx.cli("verify", "--forget-missing", "--force");
  assert.equal(forget.code, 0, forget.stdout + forget.stderr);
  assert.match(forget.stdout, /FORGOTTEN: versions\/a.txt\/v1.bak \(source\/a.txt v1\)/);
  const verify = await fx.cli("verify");
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});

Deno.test("verify --repair that takes over a killed run's lock says so at once, as run does, and finishes its journaled work", async () => {
  using fx = makeFixture({ "a.txt": "one\n" });
  assert.equal((await fx.cli("run")).code, 0);
  Deno.writeTextFileSync(join(fx.source, "a.txt"), "two\n");
  const killed = await runTool(["run", "--config", fx.config], {
    env: { BACKUP_TOOL_FAULT: "journaled:1" },
  });
  assert.equal(killed.code, 137, killed.stderr);

  const r = await fx.cli("verify", "--repair");
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    /^Note: a run \(pid \d+ on .*\) did not finish: it was killed .*this verify took the lock over/m,
  );
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "two\n");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "versions/a.txt/v1.bak")), "one\n");
});

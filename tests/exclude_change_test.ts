/**
 * An `exclude` added to the config after files were backed up: what a run (and the plan
 * before it) says about the copies it leaves in place, through the real CLI.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fingerprint, type Fixture, makeFixture, writeConfig } from "./helpers.ts";

/** `*.tmp` added to the fixture's config's exclude patterns. */
function excludeTmp(fx: Fixture): void {
  writeConfig(fx.config, {
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    exclude: ["*.tmp"],
  });
}

Deno.test("run: a file newly excluded whose copy is missing is warned about, not said kept", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "x.tmp": "kept\n", "y.tmp": "lost\n" });
  assert.equal((await fx.cli("run")).code, 0);
  Deno.removeSync(join(fx.backup, "y.tmp")); // removed by hand, or a disk fault
  excludeTmp(fx);
  const r = await fx.cli("run");
  // From now on no run copies y.tmp again: said once, now, while the file can repair it.
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /source\/y\.tmp: Its copy 'y\.tmp' was missing .*verify --repair/);
  const log = fx.lastLog();
  assert.ok(
    log.includes("EXCLUDED: source/y.tmp (now excluded; its copy backup/y.tmp is missing)"),
  );
  assert.ok(log.includes("EXCLUDED: source/x.tmp (now excluded; its copy stays at backup/x.tmp)"));
  assert.equal((await fx.cli("verify", "--repair")).code, 0, "repaired from the source");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "y.tmp")), "lost\n");
  assert.equal((await fx.cli("run")).code, 0, "said once");
});

Deno.test("run: a newly excluded file whose copy's place holds no copy (a folder, a symlink on the way) is warned about too", async () => {
  using fx = makeFixture({ "x.tmp": "x\n", "d/y.tmp": "y\n" });
  assert.equal((await fx.cli("run")).code, 0);
  // Its place taken by a folder; a folder on the way swapped for a symlink elsewhere.
  Deno.removeSync(join(fx.backup, "x.tmp"));
  Deno.mkdirSync(join(fx.backup, "x.tmp"));
  const elsewhere = join(fx.dir, "elsewhere");
  Deno.mkdirSync(elsewhere);
  Deno.renameSync(join(fx.backup, "d"), join(fx.dir, "d.away"));
  Deno.symlinkSync(elsewhere, join(fx.backup, "d"));
  excludeTmp(fx);
  const r = await fx.cli("run");
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /source\/x\.tmp: Its copy 'x\.tmp' was missing/);
  assert.match(r.stderr, /source\/d\/y\.tmp: Its copy 'd\/y\.tmp' was missing/);
  const log = fx.lastLog();
  assert.ok(!log.some((l) => l.includes("its copy stays at")), log.join("\n"));
});

Deno.test("plan: a file newly excluded whose copy is missing is said as the run will say it, exit 1", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "x.tmp": "kept\n", "y.tmp": "lost\n" });
  assert.equal((await fx.cli("run")).code, 0);
  Deno.removeSync(join(fx.backup, "y.tmp"));
  excludeTmp(fx);
  const before = fingerprint(fx.dir);
  const plan = await fx.cli("plan");
  assert.equal(plan.code, 1, plan.stdout + plan.stderr);
  assert.ok(
    plan.stdout.includes("EXCLUDED: source/y.tmp (now excluded; its copy backup/y.tmp is missing)"),
    plan.stdout,
  );
  assert.ok(
    plan.stdout.includes("EXCLUDED: source/x.tmp (now excluded; its copy stays at backup/x.tmp)"),
  );
  const warning = /source\/y\.tmp: Its copy 'y\.tmp' was missing .*verify --repair/;
  assert.match(plan.stderr, warning);
  const json = JSON.parse((await fx.cli("plan", "--json")).stdout);
  assert.deepEqual(json.warnings.map((w: { path: string }) => w.path), ["source/y.tmp"]);
  assert.deepEqual(fingerprint(fx.dir), before, "the plan changed nothing");
  const run = await fx.cli("run");
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, warning);
});

/**
 * `retention.keep_deleted_days` with the clock moved (deleted_guard.ts): through the real
 * CLI, each run's clock set ahead of the system's by BACKUP_TOOL_CLOCK_AHEAD (fault.ts), as
 * a clock set wrong, or days of a schedule, would move it. A weekly schedule prunes each
 * week unasked; a run two months after the last, or a clock a year ahead, keeps every
 * `_deleted/` copy, says why on stderr (with --quiet too), in its log, in `plan` and in
 * `--json` (exit 1, as the deletion guard's held-back case), asks again at the next run,
 * and `run --force` prunes. A watch session holds them back at its full passes alike, its
 * remedy to stop it and `run --force`. A run with the clock set right after a held one
 * vouches for its clock, not for the times it recorded just after the held run's; and a run
 * made ahead with nothing to prune vouches for nothing once a later run's clock shows it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, listFiles, makeFixture, runCli, writeConfig } from "./helpers.ts";
import { WatchProcess } from "./watch_helpers.ts";

const DAY = 86_400_000;

/** The CLI with its clock `days` ahead of the system's. */
function cliAt(fx: Fixture, days: number, ...args: string[]) {
  const env = { BACKUP_TOOL_CLOCK_AHEAD: String(days * DAY) };
  return runCli([...args, "--config", fx.config], { env });
}

/** The copies in the backup root's _deleted/. */
const deletedCopies = (fx: Fixture) => listFiles(join(fx.backup, "_deleted"));

async function okAt(fx: Fixture, days: number, ...args: string[]) {
  const r = await cliAt(fx, days, "run", "--json", ...args);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return JSON.parse(r.stdout);
}

Deno.test("keep_deleted_days: a clock a year ahead keeps every _deleted/ copy, says so in run, plan and --json, asks again, and --force prunes", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n", "keep.txt": "k\n" }, {
    retention: { keep_deleted_days: 30 },
    safety: { max_delete_percent: 100 },
  });
  await okAt(fx, 0);
  for (const name of ["a.txt", "b.txt", "c.txt"]) Deno.removeSync(join(fx.source, name));
  await okAt(fx, 0);
  await okAt(fx, 1); // a daily schedule
  assert.equal(deletedCopies(fx).length, 3);

  // A year ahead: the plan says the prunes are held back, and why.
  const plan = await cliAt(fx, 366, "plan");
  assert.equal(plan.code, 1, plan.stdout + plan.stderr);
  const said =
    /WARNING: 3 copy\(ies\) of deleted files in _deleted\/ were not pruned \(retention\.keep_deleted_days 30\): the clock \((\S+)\) is 365 day\(s\) after the latest run this backup recorded \((\S+)\), more than 30 day\(s\), so a clock set ahead may be what made them due; check the system clock; if the date is right, run again with --force/;
  const wouldSay =
    /WARNING: 3 copy\(ies\) of deleted files in _deleted\/ a run would not prune \(retention\.keep_deleted_days 30\): the clock \(\S+\) is 365 day\(s\) after the latest run .*; check the system clock; if the date is right, 'run --force --config \S+' prunes them/;
  assert.match(plan.stderr, wouldSay); // where the deletion guard's reason goes too
  assert.match(plan.stdout, / 0 pruned/);
  const planJson = await cliAt(fx, 366, "plan", "--json");
  assert.equal(planJson.code, 1, planJson.stderr);
  const planned = JSON.parse(planJson.stdout);
  assert.equal(planned.clockGuard.copies, 3);
  assert.equal(planned.actions.filter((a: { type: string }) => a.type === "prune").length, 0);

  // The run keeps every copy, exits 1 and says why, quiet or not, in its log too.
  const run = await cliAt(fx, 366, "run", "--quiet");
  assert.equal(run.code, 1, run.stdout + run.stderr);
  const [, clock, latest] = run.stderr.match(said) ?? [];
  assert.ok(clock, run.stderr);
  assert.ok(Date.parse(clock) - Date.parse(latest) > 365 * DAY);
  assert.ok(fx.lastLog().some((l) => said.test(l)), fx.lastLog().join("\n"));
  assert.equal(deletedCopies(fx).length, 3);

  // A day later, the clock still ahead: the held run's time vouches for nothing.
  const again = await cliAt(fx, 367, "run", "--json");
  assert.equal(again.code, 1, again.stderr);
  const doc = JSON.parse(again.stdout);
  assert.equal(doc.ok, false);
  assert.equal(doc.counts.prune, 0);
  assert.equal(doc.clockGuard.copies, 3);
  assert.match(doc.clockGuard.message, /run again with --force$/);
  assert.ok(Date.parse(doc.clockGuard.clock) - Date.parse(doc.clockGuard.latestRun) > 365 * DAY);
  assert.equal(deletedCopies(fx).length, 3);

  // The date is right: --force prunes them.
  const forced = await okAt(fx, 367, "--force");
  assert.equal(forced.counts.prune, 3);
  assert.equal(forced.clockGuard, undefined);
  assert.deepEqual(deletedCopies(fx), []);
});

Deno.test("keep_deleted_days: a weekly schedule prunes each week unasked, two months off asks once, --force prunes", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n", "keep.txt": "k\n" }, {
    retention: { keep_deleted_days: 7 },
    safety: { max_delete_percent: 100 },
  });
  await okAt(fx, 0);
  Deno.removeSync(join(fx.source, "a.txt"));
  await okAt(fx, 7);
  Deno.removeSync(join(fx.source, "b.txt"));
  // Each week prunes every copy the week before made (keep_deleted_days 7), as it did.
  const week2 = await okAt(fx, 14);
  assert.equal(week2.counts.prune, 1);
  assert.equal(week2.clockGuard, undefined);
  assert.deepEqual(deletedCopies(fx).length, 1);
  Deno.removeSync(join(fx.source, "c.txt"));
  const week3 = await okAt(fx, 21);
  assert.equal(week3.counts.prune, 1);
  assert.deepEqual(deletedCopies(fx).length, 1);

  // Left off for two months: asked, nothing pruned.
  const late = await cliAt(fx, 81, "run", "--json");
  assert.equal(late.code, 1, late.stderr);
  const doc = JSON.parse(late.stdout);
  assert.equal(doc.clockGuard.copies, 1);
  assert.equal(doc.counts.prune, 0);
  assert.match(late.stderr, /WARNING: 1 copy\(ies\) of deleted files .* is 60 day\(s\) after/);
  assert.deepEqual(deletedCopies(fx).length, 1);
  const forced = await okAt(fx, 81, "--force");
  assert.equal(forced.counts.prune, 1);
  assert.deepEqual(deletedCopies(fx), []);
  // And the next week goes on unasked.
  await okAt(fx, 88);
});

Deno.test("keep_deleted_days: a watch session with the clock a year ahead keeps every _deleted/ copy, says to stop it and run --force, and vouches for no later run", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n", "keep.txt": "k\n" }, {
    retention: { keep_deleted_days: 30 },
    safety: { max_delete_percent: 100 },
  });
  await okAt(fx, 0);
  for (const name of ["a.txt", "b.txt"]) Deno.removeSync(join(fx.source, name));
  await okAt(fx, 0);
  await okAt(fx, 1);
  {
    await using watch = new WatchProcess(fx, [], {
      BACKUP_TOOL_CLOCK_AHEAD: String(366 * DAY),
    });
    await watch.ready();
    const exit = await watch.stop();
    assert.equal(exit.code, 0, exit.stderr);
    assert.match(
      exit.stderr,
      /WARNING: 2 copy\(ies\) of deleted files in _deleted\/ were not pruned \(retention\.keep_deleted_days 30\): the clock \(\S+\) is 365 day\(s\) after the latest run .*; check the system clock; if the date is right, stop the watch and run 'run --force --config \S+' once/,
    );
  }
  assert.equal(deletedCopies(fx).length, 2);
  // The session's times vouch for nothing: a run with the clock still ahead asks too.
  const run = await cliAt(fx, 366, "run", "--json");
  assert.equal(run.code, 1, run.stderr);
  assert.equal(JSON.parse(run.stdout).clockGuard.copies, 2);
  const forced = await okAt(fx, 366, "--force");
  assert.equal(forced.counts.prune, 2);
  assert.deepEqual(deletedCopies(fx), []);
});

Deno.test("keep_deleted_days: a verify --repair and a run killed with the clock a year ahead vouch for no later run's clock", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n", "keep.txt": "k\n" }, {
    retention: { keep_deleted_days: 30 },
    safety: { max_delete_percent: 100 },
  });
  await okAt(fx, 0);
  for (const name of ["a.txt", "b.txt"]) Deno.removeSync(join(fx.source, name));
  await okAt(fx, 0);
  await okAt(fx, 1);
  // A weekly `verify --repair`, its clock a year ahead: it never asks the clock guard.
  const repair = await cliAt(fx, 366, "verify", "--repair");
  assert.equal(repair.code, 0, repair.stdout + repair.stderr);
  const after = await cliAt(fx, 367, "run", "--json");
  assert.equal(after.code, 1, after.stdout + after.stderr);
  assert.equal(JSON.parse(after.stdout).clockGuard.copies, 2);
  assert.equal(deletedCopies(fx).length, 2);
  // A run killed before its retention (power lost) never asked it either.
  Deno.writeTextFileSync(join(fx.source, "new.txt"), "n\n");
  const killed = await runCli(["run", "--config", fx.config], {
    env: { BACKUP_TOOL_CLOCK_AHEAD: String(368 * DAY), BACKUP_TOOL_FAULT: "staged:1" },
  });
  assert.equal(killed.code, 137, killed.stdout + killed.stderr);
  const next = await cliAt(fx, 369, "run", "--json");
  assert.equal(next.code, 1, next.stdout + next.stderr);
  assert.equal(JSON.parse(next.stdout).clockGuard.copies, 2);
  assert.equal(deletedCopies(fx).length, 2);
  assert.equal((await okAt(fx, 369, "--force")).counts.prune, 2);
});

Deno.test("keep_deleted_days: where every run so far was cut short (a first backup killed each night), their times stand for the clock", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n", "keep.txt": "k\n" }, {
    retention: { keep_deleted_days: 30 },
    safety: { max_delete_percent: 100 },
  });
  const killed = async (days: number) => {
    const r = await runCli(["run", "--config", fx.config], {
      env: { BACKUP_TOOL_CLOCK_AHEAD: String(days * DAY), BACKUP_TOOL_FAULT: "committed:1" },
    });
    assert.equal(r.code, 137, r.stdout + r.stderr);
  };
  await killed(0);
  for (const name of ["a.txt", "b.txt"]) Deno.removeSync(join(fx.source, name));
  await killed(1);
  assert.equal(deletedCopies(fx).length, 2);
  const ahead = await cliAt(fx, 366, "run", "--json");
  assert.equal(ahead.code, 1, ahead.stdout + ahead.stderr);
  assert.equal(JSON.parse(ahead.stdout).clockGuard.copies, 2);
  assert.equal(deletedCopies(fx).length, 2);
});

Deno.test("keep_deleted_days: a watch killed after its full pass vouches for that pass's clock (a power cut after weeks of watching asks nothing)", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n", "keep.txt": "k\n" }, {
    retention: { keep_deleted_days: 60 },
    safety: { max_delete_percent: 100 },
  });
  await okAt(fx, 0);
  for (const name of ["a.txt", "b.txt"]) Deno.removeSync(join(fx.source, name));
  await okAt(fx, 1);
  // Watching on day 40 (nothing due yet: its full pass vouches for the clock), then killed.
  {
    await using watch = new WatchProcess(fx, [], {
      BACKUP_TOOL_CLOCK_AHEAD: String(40 * DAY),
    });
    await watch.ready();
    const exit = await watch.stop("SIGKILL");
    assert.equal(exit.signal, "SIGKILL");
  }
  // Day 70: the copies deleted on day 1 are due, 30 days after the watch's pass: pruned.
  const late = await okAt(fx, 70);
  assert.equal(late.counts.prune, 2);
  assert.equal(late.clockGuard, undefined);
});

Deno.test("keep_deleted_days: a config sharing its backup root prunes only its own sources' _deleted/ copies, not another config's kept for good", async () => {
  using fx = makeFixture({ "a.txt": "a\n" }, { retention: { keep_deleted_days: 1 } });
  // A second job on the same backup root: its own source, its deleted files kept for good.
  const other = join(fx.dir, "other");
  Deno.mkdirSync(other);
  Deno.writeTextFileSync(join(other, "b.txt"), "b\n");
  Deno.writeTextFileSync(join(other, "keep.txt"), "k\n");
  const otherConfig = join(fx.dir, "other.jsonc");
  writeConfig(otherConfig, {
    sources: ["./other"],
    backup_root: "./backup",
    log_dir: "./logs",
    safety: { max_delete_percent: 100 },
  });
  const otherAt = (days: number) =>
    runCli(["run", "--config", otherConfig], {
      env: { BACKUP_TOOL_CLOCK_AHEAD: String(days * DAY) },
    });
  assert.equal((await cliAt(fx, 0, "run")).code, 0);
  assert.equal((await otherAt(0)).code, 0);
  Deno.removeSync(join(other, "b.txt"));
  assert.equal((await otherAt(0)).code, 0);
  assert.deepEqual(deletedCopies(fx), ["_sources/other/b.txt"]);
  // Daily runs of each: the first job's keep_deleted_days 1 is not the other's.
  for (const day of [1, 2, 3]) {
    const r = await cliAt(fx, day, "run");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((await otherAt(day)).code, 0);
  }
  assert.deepEqual(deletedCopies(fx), ["_sources/other/b.txt"]);
  const forced = await cliAt(fx, 4, "run", "--force", "--json");
  assert.equal(JSON.parse(forced.stdout).counts.prune, 0, forced.stdout);
  assert.deepEqual(deletedCopies(fx), ["_sources/other/b.txt"]);
});

Deno.test("keep_deleted_days: a run with the right clock after one held back vouches at its clock, not at the times it recorded after the clock ahead", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "keep.txt": "k\n" }, {
    retention: { keep_deleted_days: 1 },
    safety: { max_delete_percent: 100 },
  });
  await okAt(fx, 0);
  Deno.removeSync(join(fx.source, "a.txt"));
  await okAt(fx, 0);
  // Booted with the clock 45 days ahead: held back.
  assert.equal((await cliAt(fx, 45, "run", "-q")).code, 1);
  // The clock set right: nothing due, and its times recorded just after the held run's.
  const right = await okAt(fx, 0);
  assert.match(right.notice, /is behind the latest time this backup recorded/);
  // The clock 45 days ahead again: still held back, the copy kept.
  const again = await cliAt(fx, 45, "run", "--json");
  assert.equal(again.code, 1, again.stdout + again.stderr);
  assert.equal(JSON.parse(again.stdout).clockGuard.copies, 1);
  assert.equal(deletedCopies(fx).length, 1);
});

Deno.test("keep_deleted_days: a run made with the clock ahead, nothing to prune then, vouches for nothing once a later run's clock shows it was ahead", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "keep.txt": "k\n" }, {
    retention: { keep_deleted_days: 1 },
    safety: { max_delete_percent: 100 },
  });
  await okAt(fx, 0);
  await okAt(fx, 45); // the clock 45 days ahead at boot: no copy in _deleted/ yet
  await okAt(fx, 0); // set right: its times recorded just after the run ahead
  Deno.removeSync(join(fx.source, "a.txt"));
  await okAt(fx, 0);
  // The clock 80 days ahead: the copy deleted just now is kept, and it asks.
  const ahead = await cliAt(fx, 80, "run", "--json");
  assert.equal(ahead.code, 1, ahead.stdout + ahead.stderr);
  assert.equal(JSON.parse(ahead.stdout).clockGuard.copies, 1);
  assert.equal(deletedCopies(fx).length, 1);
});

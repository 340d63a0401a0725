/**
 * A clock set back between two runs (a dead clock battery, a wrong manual setting): the
 * times recorded stay in order, so `restore --at` still reaches what the earlier run saw
 * and `history` never shows a version replaced before it became current; the run says so.
 * The first run is made in the future (Date.now moved forward, in process); the second
 * runs with the real clock, through the CLI. `diff --since` a time recorded ahead of the
 * clock compares, as `restore --at` it restores.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../src/config/config.ts";
import { backupOnce } from "../src/engine/backup.ts";
import { makeFixture, readTree, writeTree } from "./helpers.ts";
import { runTool } from "./reliability/util.ts";

const HOUR = 3_600_000;

Deno.test("a clock set back between runs: restore --at still reaches the earlier run", async () => {
  using fx = makeFixture({ "f.txt": "content A", "doomed.txt": "doomed" });
  const realNow = Date.now;
  let first;
  try {
    Date.now = () => realNow() + HOUR; // the first run's clock is an hour ahead
    first = await backupOnce(loadConfig(fx.config));
  } finally {
    Date.now = realNow;
  }
  assert.equal(first.exitCode, 0);
  const v1 = JSON.parse((await fx.cli("history", "f.txt", "--json")).stdout).versions[0];

  writeTree(fx.source, { "f.txt": "content B" });
  Deno.removeSync(join(fx.source, "doomed.txt"));
  const second = await fx.cli("run");
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /Note: the clock \(.*\) is behind the latest time this backup/);

  const out = join(fx.dir, "then");
  const restored = await fx.cli("restore", "--at", v1.becameCurrent, "--to", out);
  assert.equal(restored.code, 0, restored.stderr);
  assert.deepEqual(readTree(out), { "doomed.txt": "doomed", "f.txt": "content A" });

  const history = await fx.cli("history", "f.txt", "--json");
  assert.equal(history.code, 0, history.stderr);
  const versions = JSON.parse(history.stdout).versions;
  assert.equal(versions.length, 2);
  for (const v of versions) {
    if (v.replaced) assert.ok(v.replaced > v.becameCurrent, JSON.stringify(v));
  }
});

Deno.test("restore --at a local time under a POSIX TZ rule Deno cannot read: exit 2, nothing restored", async () => {
  using fx = makeFixture({ "f.txt": "content A" });
  assert.equal((await fx.cli("run")).code, 0);
  const out = join(fx.dir, "out");
  const args = ["restore", "--at", "2099-01-01", "--to", out, "--config", fx.config];
  const refused = await runTool(args, { env: { TZ: "IST-5:30" } });
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /^Cannot read --at '2099-01-01' as a local time: TZ 'IST-5:30'/);
  assert.throws(() => Deno.lstatSync(out), Deno.errors.NotFound);
  // With an offset, or a zone name, it restores, and says which moment it took.
  const offset = await runTool([...args.slice(0, 2), "2099-01-01T00:00+05:30", ...args.slice(3)], {
    env: { TZ: "IST-5:30" },
  });
  assert.equal(offset.code, 0, offset.stderr);
  assert.match(offset.stdout, /Restore complete \(as of 2098-12-31T18:30:00\.000Z\): 1 restored/);
  assert.deepEqual(readTree(out), { "f.txt": "content A" });
});

Deno.test("a run made with the clock ahead: restore --at after it is warned about, history says so, and a quiet run says the clock is behind", async () => {
  using fx = makeFixture({ "a.txt": "A" });
  assert.equal((await fx.cli("run")).code, 0);
  const between = new Date().toISOString();
  writeTree(fx.source, { "b.txt": "B" });
  const realNow = Date.now;
  try {
    Date.now = () => realNow() + 30 * 24 * HOUR; // a clock a month ahead at boot
    assert.equal((await backupOnce(loadConfig(fx.config))).exitCode, 0);
  } finally {
    Date.now = realNow;
  }
  writeTree(fx.source, { "d.txt": "D" });
  const quiet = await fx.cli("run", "-q");
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.stdout, "");
  assert.match(quiet.stderr, /^Note: the clock \(.*\) is behind the latest time this backup/);

  // Before the clock went wrong: in order, nothing to say.
  const first = JSON.parse((await fx.cli("history", "a.txt", "--json")).stdout).versions[0];
  const before = await fx.cli("restore", "--at", first.becameCurrent, "--to", join(fx.dir, "a"));
  assert.equal(before.code, 0, before.stderr);
  assert.equal(before.stderr, "");
  assert.deepEqual(readTree(join(fx.dir, "a")), { "a.txt": "A" });
  // After it (the hour the user remembers): what it gives is said to miss what was stored.
  for (const at of [between, new Date().toISOString()]) {
    const out = join(fx.dir, `at-${at}`);
    const restored = await fx.cli("restore", "--at", at, "--to", out);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stderr, /^WARNING: --at .*: the backup recorded times up to .* later/);
    assert.match(restored.stderr, /leave --at out to restore the latest/);
    assert.deepEqual(readTree(out), { "a.txt": "A" });
  }
  const latest = await fx.cli("restore", "--to", join(fx.dir, "latest"));
  assert.equal(latest.code, 0, latest.stderr);
  assert.deepEqual(readTree(join(fx.dir, "latest")), { "a.txt": "A", "b.txt": "B", "d.txt": "D" });

  const history = await fx.cli("history", "d.txt");
  assert.equal(history.code, 0, history.stderr);
  assert.match(
    history.stderr,
    /^Note: the backup recorded times up to .*: times after .* give the order/,
  );
});

Deno.test("diff --since a time history lists, recorded while the clock was ahead: compared, not refused as in the future", async () => {
  using fx = makeFixture({ "a.txt": "A" });
  const realNow = Date.now;
  try {
    Date.now = () => realNow() + 24 * HOUR; // a clock a day ahead at boot
    assert.equal((await backupOnce(loadConfig(fx.config))).exitCode, 0);
  } finally {
    Date.now = realNow;
  }
  writeTree(fx.source, { "a.txt": "A2", "b.txt": "B" });
  assert.equal((await fx.cli("run", "-q")).code, 0);
  // The first run's end, as history lists it: a day past the clock, yet recorded.
  const runs = JSON.parse((await fx.cli("history", "--json")).stdout).runs;
  const since = runs[0].endedAt;
  assert.ok(Date.parse(since) > Date.now(), since);
  for (const until of [[], ["--until", runs[1].endedAt]]) {
    const diff = await fx.cli("diff", "--since", since, ...until);
    assert.equal(diff.code, 0, diff.stderr);
    assert.equal(diff.stdout.split("\n").slice(0, 2).join("\n"), "M source/a.txt\n+ source/b.txt");
  }
  // Later than every time recorded, and than the clock: refused as before.
  const later = new Date(Date.parse(runs[1].endedAt) + 1).toISOString();
  const refused = await fx.cli("diff", "--since", later);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /^Invalid --since '.*': it is in the future/);
});

Deno.test("a run made with the clock ahead: diff --since or --until after it is warned about as restore --at is", async () => {
  using fx = makeFixture({ "a.txt": "A" });
  assert.equal((await fx.cli("run")).code, 0);
  const first = JSON.parse((await fx.cli("history", "--json")).stdout).runs[0].endedAt;
  const between = new Date(Date.parse(first) + 1).toISOString();
  writeTree(fx.source, { "b.txt": "B" });
  const realNow = Date.now;
  try {
    Date.now = () => realNow() + 30 * 24 * HOUR; // a clock a month ahead at boot
    assert.equal((await backupOnce(loadConfig(fx.config))).exitCode, 0);
  } finally {
    Date.now = realNow;
  }
  writeTree(fx.source, { "d.txt": "D" });
  assert.equal((await fx.cli("run", "-q")).code, 0);
  const now = new Date().toISOString();
  const restored = await fx.cli("restore", "--at", now, "--to", join(fx.dir, "out"));
  // The warning restore gives, up to its remedy, with the option diff was given (the
  // clock's now aside, a moment later).
  const said = (stderr: string, option: string) =>
    stderr.match(new RegExp(`^WARNING: ${option} (.*): (?:leave|give)`, "m"))?.[1]
      .replace(/clock \(\S+\)/, "clock (now)");
  const restoreSaid = said(restored.stderr, "--at")!;
  assert.match(restoreSaid, /the backup recorded times up to .* later than this machine's clock/);
  // Before: diff said nothing, and its b.txt and d.txt 'added' since that hour looked new.
  const until = await fx.cli("diff", "--since", first, "--until", now);
  assert.equal(until.code, 0, until.stderr);
  assert.equal(said(until.stderr, "--until"), restoreSaid);
  assert.match(
    until.stderr,
    /: leave --until out to compare with the latest, or see 'history PATH --config \S+' for a file's contents in the order they were stored\n$/,
  );
  assert.doesNotMatch(until.stderr, /--since/); // before the clock went wrong: in order
  const since = await fx.cli("diff", "--since", between);
  assert.equal(since.code, 0, since.stderr);
  assert.match(
    since.stderr,
    /^WARNING: --since \S+: the backup recorded times up to .*: give --since a time 'history --config \S+' lists, or see 'history PATH --config \S+' for a file's contents in the order they were stored\n$/,
  );
  assert.match(since.stdout, /^\+ source\/b\.txt\n\+ source\/d\.txt\n/);
  // Before every time recorded ahead, and to the latest: nothing to say.
  const inOrder = await fx.cli("diff", "--since", first);
  assert.equal(inOrder.stderr, "");
});

/**
 * A clock set back between two runs (a dead clock battery, a wrong manual setting): the
 * times recorded stay in order, so `restore --at` still reaches what the earlier run saw
 * and `history` never shows a version replaced before it became current; the run says so.
 * The first run is made in the future (Date.now moved forward, in process); the second
 * runs with the real clock, through the CLI.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../src/config/config.ts";
import { backupOnce } from "../src/engine/backup.ts";
import { makeFixture, readTree, writeTree } from "./helpers.ts";

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

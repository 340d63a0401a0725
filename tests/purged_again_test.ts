/**
 * A whole folder purged (`purge PATH --yes`), then made again and backed up: `restore --at`
 * and `ls --at` a moment in between say its files purged (and excluded, or deleted, before
 * that), not deleted, and give the time it was backed up again: an earlier one meets only
 * its purged copies. (One file so purged: ended_exclusions_test.ts.)
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture, writeConfig } from "./helpers.ts";
import { ok, put } from "./restore_helpers.ts";

const BASE = { sources: ["./source"], backup_root: "./backup", log_dir: "./logs" };

/** Each run's ENDED time (the purge's too), oldest first. */
async function endedTimes(fx: Fixture): Promise<string[]> {
  return JSON.parse(await ok(fx, "history", "--json")).runs.map((r: { endedAt: string }) =>
    r.endedAt
  );
}

/** `restore d --at` and `ls d --at` each moment: exit 1, and their stderr. */
async function saidAt(fx: Fixture, moments: string[]): Promise<string[]> {
  const said: string[] = [];
  for (const at of moments) {
    const r = await fx.cli("restore", "d", "--at", at, "--to", join(fx.dir, "then"));
    assert.equal(r.code, 1, r.stderr);
    const l = await fx.cli("ls", "d", "--at", at);
    assert.equal(l.code, 1, l.stderr);
    said.push(r.stderr, l.stderr);
  }
  return said;
}

Deno.test("a folder excluded and purged, made again and backed up: restore and ls --at a moment between say its files excluded and purged, not deleted", async () => {
  using fx = makeFixture({});
  writeConfig(fx.config, BASE);
  put(fx.source, { "a.txt": "a\n", "d/f1": "1\n", "d/f2": "2\n" });
  await ok(fx, "run");
  writeConfig(fx.config, { ...BASE, exclude: ["d/"] });
  await ok(fx, "run");
  await ok(fx, "purge", "d", "--yes");
  writeConfig(fx.config, BASE);
  put(fx.source, { "d/f1": "1 again\n" });
  await ok(fx, "run");
  const [, during, purged, again] = await endedTimes(fx);
  const [span] = JSON.parse(await ok(fx, "history", "d/f1", "--json")).exclusions;
  const backedUp = JSON.parse(await ok(fx, "history", "d/f1", "--json")).versions[1].becameCurrent;
  assert.ok(purged < backedUp && backedUp <= again, backedUp);
  for (const stderr of await saidAt(fx, [during, purged])) {
    assert.doesNotMatch(stderr, /deleted/);
    assert.ok(
      stderr.includes(
        `: its files were excluded at ${span.from} (the config left them out) and purged at ` +
          `${span.to} (backup-tool purge), then files in it were backed up again at ` +
          `${backedUp}: give that time to --at`,
      ),
      stderr,
    );
  }
});

Deno.test("a folder deleted and purged, made again and backed up: restore and ls --at a moment between say its files purged, not only deleted", async () => {
  using fx = makeFixture({});
  writeConfig(fx.config, BASE);
  // Enough other files that the deletion guard (max_delete_percent) lets the run archive d.
  put(fx.source, { "a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n", "d/f1": "1\n", "d/f2": "2\n" });
  await ok(fx, "run");
  Deno.removeSync(join(fx.source, "d"), { recursive: true });
  await ok(fx, "run");
  await ok(fx, "purge", "d", "--yes");
  put(fx.source, { "d/f1": "1 again\n" });
  await ok(fx, "run");
  const [, deleted, purged] = await endedTimes(fx);
  const h = JSON.parse(await ok(fx, "history", "d/f1", "--json"));
  const [{ prunedAt }, { becameCurrent: backedUp }] = h.versions;
  for (const stderr of await saidAt(fx, [deleted, purged])) {
    assert.ok(
      stderr.includes(
        `: its files were purged at ${prunedAt} (backup-tool purge), then files in it were ` +
          `backed up again at ${backedUp}: give that time to --at`,
      ),
      stderr,
    );
  }
});

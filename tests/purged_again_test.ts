/**
 * A whole folder purged (`purge PATH --yes`), then made again and backed up: `restore --at`
 * and `ls --at` a moment in between say its files purged (and excluded, or deleted, before
 * that), not deleted, and give the time it was backed up again: an earlier one meets only
 * its purged copies. (One file so purged: ended_exclusions_test.ts.)
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture, writeConfig } from "./helpers.ts";
import { endedTimes, ok, put } from "./restore_helpers.ts";

const BASE = { sources: ["./source"], backup_root: "./backup", log_dir: "./logs" };

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

/** The folders below `root`, as paths relative to it, sorted. */
function foldersIn(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const e of Deno.readDirSync(dir)) {
      if (!e.isDirectory) continue;
      out.push(`${rel}${e.name}`);
      walk(join(dir, e.name), `${rel}${e.name}/`);
    }
  };
  walk(root, "");
  return out.sort();
}

Deno.test("a folder excluded and purged leaves no empty skeleton: a restore of a moment when it stood makes none of its folders, and a followed folder's stay", async () => {
  using fx = makeFixture({});
  writeConfig(fx.config, BASE);
  put(fx.source, { "a.txt": "a\n", "d/f1": "1\n", "d/sub/f2": "2\n" });
  for (const f of ["d/empty", "d/sub/empty", "keep/empty"]) {
    Deno.mkdirSync(join(fx.source, f), { recursive: true });
  }
  await ok(fx, "run");
  writeConfig(fx.config, { ...BASE, exclude: ["d/"] });
  await ok(fx, "run");
  const [first] = await endedTimes(fx);
  const before = join(fx.dir, "before");
  await ok(fx, "restore", "--at", first, "--to", before);
  assert.deepEqual(foldersIn(before), [
    "d",
    "d/empty",
    "d/sub",
    "d/sub/empty",
    "keep",
    "keep/empty",
  ]);
  const purge = await ok(fx, "purge", "d", "--yes");
  assert.match(purge, /PURGE folders: source\/d \(4 folder record\(s\) no run follows forgotten/);
  // Until 2026-12-06 (evening) d's four folders were made, empty, its files purged.
  const after = join(fx.dir, "after");
  const r = await fx.cli("restore", "--at", first, "--to", after);
  assert.equal(r.code, 1, r.stderr); // its files said purged
  assert.match(r.stderr, /NOT RESTORED: source\/d\/f1 \(v1\): version 1 was purged/);
  assert.deepEqual(foldersIn(after), ["keep", "keep/empty"]);
  const log = Deno.readDirSync(join(fx.dir, "logs")).toArray().map((e) =>
    Deno.readTextFileSync(join(fx.dir, "logs", e.name))
  ).join("");
  assert.match(log, /PURGE folders: source\/d \(4 folder record/);
});

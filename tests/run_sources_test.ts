/**
 * End-to-end tests of what a run takes from its sources, through the real CLI: exclude
 * patterns (a file that becomes excluded keeps its copy; one deleted while excluded is
 * archived as deleted), a source folder renamed (its old files kept, with a note), and a
 * source found at another folder than last time, said in the log and on the console.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, readTree, runCli, writeConfig, writeTree } from "./helpers.ts";

Deno.test("exclude patterns skip files; a file that becomes excluded keeps its copy", async () => {
  using fx = makeFixture({
    "keep.txt": "k",
    "x.tmp": "t",
    "node_modules/m/index.js": "m",
    "later.log": "l",
  }, { exclude: ["*.tmp", "node_modules/"] });
  assert.equal((await fx.cli("run")).code, 0);
  assert.deepEqual(Object.keys(readTree(fx.backup)), ["keep.txt", "later.log"]);
  const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
  cfg.exclude.push("*.log");
  Deno.writeTextFileSync(fx.config, JSON.stringify(cfg));
  assert.equal((await fx.cli("run")).code, 0);
  assert.deepEqual(Object.keys(readTree(fx.backup)), ["keep.txt", "later.log"]);
  assert.ok(fx.lastLog().some((l) => l.startsWith("EXCLUDED: source/later.log")));
});

Deno.test("an excluded file deleted from the source is archived as deleted, pattern or not", async () => {
  // Enough other files that two deletions stay under the mass-deletion guard's 50%.
  const keep = Object.fromEntries([1, 2, 3, 4, 5].map((i) => [`keep${i}.txt`, `k${i}`]));
  using fx = makeFixture({ ...keep, "a.log": "a", "b.log": "b" });
  const setExclude = (exclude: string[]) => {
    const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
    Deno.writeTextFileSync(fx.config, JSON.stringify({ ...cfg, exclude }));
  };
  assert.equal((await fx.cli("run")).code, 0);
  setExclude(["*.log"]);
  assert.equal((await fx.cli("run")).code, 0); // both marked excluded, copies kept
  Deno.removeSync(join(fx.source, "a.log"));
  Deno.removeSync(join(fx.source, "b.log"));
  assert.equal((await fx.cli("run")).code, 0); // a.log and b.log gone while excluded
  setExclude([]);
  assert.equal((await fx.cli("run")).code, 0);
  assert.deepEqual(readTree(fx.backup), {
    ...keep,
    "_deleted/a.log": "a",
    "_deleted/b.log": "b",
  });
  const history = await fx.cli("history", "a.log", "--json");
  assert.equal(JSON.parse(history.stdout).versions[0].location, "deleted");
  const again = await fx.cli("run");
  assert.match(again.stdout, /0 new, 0 updated, 0 duplicate, 5 unchanged, 0 deleted/);
});

Deno.test("a source folder renamed: a note names the old source, whose files are kept, and the old name goes on", async () => {
  using fx = makeFixture({});
  const photos = join(fx.dir, "Photos");
  writeTree(photos, { "a.jpg": "a", "b.jpg": "b" });
  const config = (sources: unknown[]) =>
    writeConfig(fx.config, { sources, backup_root: "./backup", log_dir: "./logs" });
  config(["./Photos"]);
  assert.equal((await fx.cli("run")).code, 0);
  Deno.renameSync(photos, join(fx.dir, "Photos-2024"));
  config(["./Photos-2024"]);
  // The plan says so too: without it, a preview of the rename showed every file stored anew.
  const preview = JSON.parse((await fx.cli("plan", "--json")).stdout);
  assert.match(preview.notice, /the state still tracks files of 'Photos' \(2 files\)/);
  const renamed = await fx.cli("run");
  assert.equal(renamed.code, 0, renamed.stderr);
  assert.match(
    renamed.stdout,
    /Note: the state still tracks files of 'Photos' \(2 files\), no longer in the config/,
  );
  assert.ok(
    fx.lastLog().some((l) => l.startsWith("NOTE: the state still tracks files of 'Photos'")),
  );
  // Named as before, the folder is the same source again: nothing new stored, no note.
  config([{ path: "./Photos-2024", name: "Photos" }]);
  const named = await fx.cli("run");
  assert.doesNotMatch(named.stdout, /Note: the state still tracks files of 'Photos'/);
  // The same name at another folder is said too, as the folder moved it is here.
  assert.match(
    named.stdout,
    /Note: source 'Photos' was backed up from '[^']*Photos' last time, and is now '[^']*Photos-2024'/,
  );
  assert.match(named.stdout, /the state still tracks files of 'Photos-2024' \(2 files\)/);
  assert.match(named.stdout, /0 new, 0 updated, 0 duplicate, 2 unchanged/);
});

Deno.test("a source found at another folder than last time is said, in the log and on the console", async () => {
  // Two configs sharing a backup root, each naming a folder `source` (alice's, then bob's):
  // bob's files would look like modified versions of alice's, and hers deleted.
  using fx = makeFixture({ "common.txt": "alice\n", "a.txt": "a\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const bob = join(fx.dir, "bob", "source");
  writeTree(bob, { "common.txt": "bob\n" });
  const bobConfig = join(fx.dir, "bob.jsonc");
  writeConfig(bobConfig, { sources: [bob], backup_root: fx.backup, log_dir: fx.logs });
  const plan = await runCli(["plan", "--config", bobConfig]);
  const r = await runCli(["run", "--config", bobConfig]);
  const note = `source 'source' was backed up from '${fx.source}' last time, and is now ` +
    `'${bob}': its files are compared with those backed up from there`;
  for (const out of [plan, r]) {
    assert.ok(
      out.stdout.includes(`Note: ${note}`) || out.stderr.includes(note),
      out.stdout + out.stderr,
    );
  }
  assert.ok(fx.lastLog().some((l) => l.startsWith(`NOTE: ${note}`)), fx.lastLog().join("\n"));
  // Said while the folder differs from the one last backed up from, not after.
  const again = await runCli(["run", "--config", bobConfig, "--force"]);
  assert.doesNotMatch(again.stdout + again.stderr, /was backed up from/);
  assert.ok(!fx.lastLog().some((l) => l.includes("was backed up from")));
});

/**
 * Read-only commands right after a crash, before any run has finished the interrupted
 * one: the journaled batch has moved copies (archived, deleted) and placed new ones that
 * the state does not record yet. `restore` and `verify` must not call those copies damaged
 * or missing: they find them where the batch moved them, and say the run is unfinished.
 * This is the disaster case: the machine crashed during a backup and the source is gone.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, readTree, writeTree } from "../helpers.ts";
import { readState, runTool, sha256 } from "./util.ts";

Deno.test("after a crash mid-batch, restore and verify read the copies it moved, and say it is unfinished", async () => {
  using fx = makeFixture({
    "a.txt": "a old\n",
    "b.txt": "b old\n",
    "c.txt": "c, soon deleted\n",
    "dir/d.txt": "d\n",
  });
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runTool([...args, "--config", fx.config], { env });
  assert.equal((await cli(["run"])).code, 0);
  const before = readTree(fx.source);
  writeTree(fx.source, { "a.txt": "a new\n", "b.txt": "b new\n", "e.txt": "e new\n" });
  Deno.removeSync(join(fx.source, "c.txt"));
  const after = readTree(fx.source);
  const beforeCrash = new Date().toISOString();
  // Killed right after the first new copy is in place: c.txt is in _deleted/ already, a.txt
  // archived to versions/ and replaced, b.txt and e.txt not begun; nothing recorded.
  const crashed = await cli(["run"], { BACKUP_TOOL_FAULT: "placed:1" });
  assert.equal(crashed.code, 137, crashed.stderr);
  assert.equal(readState(fx.backup).intents, 1);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "a new\n");
  Deno.removeSync(fx.source, { recursive: true }); // and the source disk died

  const to = join(fx.dir, "as-recorded");
  const restore = await cli(["restore", "--to", to]);
  assert.equal(restore.code, 0, `${restore.stdout}\n${restore.stderr}`);
  const recorded = /^WARNING: the last run was interrupted before it recorded (\d+) action/
    .exec(restore.stderr);
  assert.ok(recorded, restore.stderr);
  assert.doesNotMatch(restore.stderr, /damaged|NOT RESTORED/);
  assert.deepEqual(readTree(to), before, "the backup as of the last completed run");
  // A moment before that run holds nothing it journaled: the same tree, nothing to finish.
  const earlier = join(fx.dir, "earlier");
  const at = await cli(["restore", "--at", beforeCrash, "--to", earlier]);
  assert.equal(at.code, 0, `${at.stdout}\n${at.stderr}`);
  assert.equal(at.stderr, "");
  assert.deepEqual(readTree(earlier), before);

  const verify = await cli(["verify"]);
  assert.equal(verify.code, 0, `${verify.stdout}\n${verify.stderr}`);
  assert.match(verify.stderr, /^WARNING: the last run was interrupted/);
  assert.match(verify.stdout, /all 4 stored copies present, 4 re-hashed: intact/);
  const json = JSON.parse((await cli(["verify", "--json"])).stdout);
  assert.deepEqual([json.unfinished, json.changed, json.unknown], [Number(recorded[1]), [], []]);

  // A copy the batch moved, damaged where it went, is named there, with what is there.
  const archived = join(fx.backup, "versions", "a.txt", "v1.bak");
  const kept = Deno.readFileSync(archived);
  Deno.writeTextFileSync(archived, "rot\n");
  const damaged = JSON.parse((await cli(["verify", "--json"])).stdout);
  assert.deepEqual(
    damaged.changed.map((c: { file: string; path: string }) => [c.file, c.path]),
    [["versions/a.txt/v1.bak", "source/a.txt"]],
  );
  assert.equal(damaged.changed[0].found, sha256("rot\n"));
  Deno.writeFileSync(archived, kept);

  // history shows where the batch moved the copies it moved, and nothing for the others.
  const history = await cli(["history", "a.txt"]);
  assert.match(history.stderr, /^WARNING: the last run was interrupted/);
  assert.match(
    history.stdout,
    /^v1 .*latest \(a\.txt\); moved to versions\/a\.txt\/v1\.bak by the interrupted run$/m,
  );
  const deleted = JSON.parse((await cli(["history", "c.txt", "--json"])).stdout);
  assert.deepEqual(
    deleted.versions.map((v: { storedAt: string; movedTo?: string }) => [v.storedAt, v.movedTo]),
    [["c.txt", "_deleted/c.txt"]],
  );
  const untouched = JSON.parse((await cli(["history", "b.txt", "--json"])).stdout);
  assert.equal(untouched.versions[0].movedTo, undefined, "b.txt's batch step was not begun");

  // Finishing the interrupted run (no source needed) makes what it backed up restorable.
  const repair = await cli(["verify", "--repair"]);
  assert.equal(repair.code, 0, `${repair.stdout}\n${repair.stderr}`);
  const latest = join(fx.dir, "latest");
  const again = await cli(["restore", "--to", latest]);
  assert.equal(again.code, 0, again.stderr);
  // The batch is recorded now, but the run never went on past it: said, with the moment
  // before it (here the batch was the whole run, so nothing older is mixed in).
  assert.match(again.stderr, /^WARNING: run 2 \(started \S+\) did not finish, after it recorded/);
  assert.deepEqual(readTree(latest), after);
});

Deno.test("a crash mid-transaction leaves a hot journal: restore and verify read the state as committed, changing nothing", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "d/b.txt": "b\n" });
  const cli = (...args: string[]) => runTool([...args, "--config", fx.config]);
  assert.equal((await cli("run")).code, 0);
  const db = join(fx.backup, ".backup-tool", "state.db");
  // A writer killed inside a transaction large enough to spill to the database file: what
  // a crash in the switch to or from WAL, or in a commit without WAL, leaves behind.
  const writer = `
    import { DatabaseSync } from "node:sqlite";
    const db = new DatabaseSync(${JSON.stringify(db)});
    db.exec("PRAGMA cache_size = 4; BEGIN; UPDATE copies SET hash = 'torn';");
    db.exec("CREATE TABLE filler (x); INSERT INTO filler SELECT zeroblob(4000) FROM " +
      "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) SELECT i FROM n);");
    Deno.exit(137);`;
  const killed = await new Deno.Command(Deno.execPath(), {
    args: ["eval", writer],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(killed.code, 137, new TextDecoder().decode(killed.stderr));
  const journal = `${db}-journal`;
  assert.ok(Deno.statSync(journal).size > 0, "no hot journal was left");
  const before = [Deno.readFileSync(db), Deno.readFileSync(journal)];

  const to = join(fx.dir, "restored");
  const restore = await cli("restore", "--to", to);
  assert.equal(restore.code, 0, `${restore.stdout}\n${restore.stderr}`);
  assert.deepEqual(readTree(to), readTree(fx.source));
  const verify = await cli("verify");
  assert.equal(verify.code, 0, `${verify.stdout}\n${verify.stderr}`);
  assert.match(await cli("history", "a.txt").then((r) => r.stdout), /v1/);
  assert.deepEqual([Deno.readFileSync(db), Deno.readFileSync(journal)], before, "a reader wrote");

  // The next run, a writer, rolls the journal back and goes on.
  const run = await cli("run");
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /0 new, 0 updated, 0 duplicate, 2 unchanged/);
});

Deno.test("after a crash, a copy whose place the batch gave to a folder (or a folder's to a file) is read where it went", async () => {
  using fx = makeFixture({ "b.txt": "b\n", "d/c.txt": "c\n", "k.txt": "k\n" });
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runTool([...args, "--config", fx.config], { env });
  assert.equal((await cli(["run"])).code, 0);
  const before = readTree(fx.source);
  Deno.removeSync(join(fx.source, "b.txt"));
  writeTree(fx.source, { "b.txt/inside.txt": "now a folder\n" });
  Deno.removeSync(join(fx.source, "d"), { recursive: true });
  writeTree(fx.source, { "d": "now a file\n" });
  const crashed = await cli(["run"], { BACKUP_TOOL_FAULT: "executed:1" });
  assert.equal(crashed.code, 137, crashed.stderr);
  assert.ok(Deno.statSync(join(fx.backup, "b.txt")).isDirectory, "the batch placed the folder");

  const to = join(fx.dir, "as-recorded");
  const restore = await cli(["restore", "--to", to]);
  assert.equal(restore.code, 0, `${restore.stdout}\n${restore.stderr}`);
  assert.deepEqual(readTree(to), before);
  const history = await cli(["history", "b.txt"]);
  assert.match(history.stderr, /^WARNING: the last run was interrupted/);
  assert.equal((await cli(["verify"])).code, 0);
});

Deno.test("a run killed after a commit: restore says its files are mixed with the run before, and --at before it gives that run's tree", async () => {
  // More files than a commit takes (2,048 actions, batch.ts): the first commit records
  // part of the run's work, and the kill comes right after it.
  const files = 2_100;
  const tree = (word: string) =>
    Object.fromEntries(
      Array.from(
        { length: files },
        (_, i) => [`f${String(i).padStart(4, "0")}.txt`, `${word} ${i}\n`],
      ),
    );
  using fx = makeFixture(tree("old"));
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runTool([...args, "--config", fx.config], { env });
  assert.equal((await cli(["run"])).code, 0);
  writeTree(fx.source, tree("new"));
  const crashed = await cli(["run"], { BACKUP_TOOL_FAULT: "committed:1" });
  assert.equal(crashed.code, 137, crashed.stderr);
  assert.equal(readState(fx.backup).intents, 0, "the commit dropped its batch's intent");

  const latest = join(fx.dir, "latest");
  const restore = await cli(["restore", "--to", latest]);
  assert.equal(restore.code, 0, `${restore.stdout}\n${restore.stderr}`);
  const warned =
    /^WARNING: run 2 \(started (\S+)\) did not finish, after it recorded part of its work: this restores each file as last recorded, .*restore with --at (\S+) for the backup as the last finished run left it/m
      .exec(restore.stderr);
  assert.ok(warned, restore.stderr);
  const restored = Object.values(readTree(latest));
  const newer = restored.filter((t) => t.startsWith("new")).length;
  assert.ok(newer >= 2048 && newer < files, `${newer} of ${files} as the killed run stored them`);

  const asBefore = join(fx.dir, "before");
  const at = await cli(["restore", "--at", warned[2], "--to", asBefore]);
  assert.equal(at.code, 0, `${at.stdout}\n${at.stderr}`);
  assert.doesNotMatch(at.stderr, /WARNING/, "a moment before the killed run is not mixed");
  assert.deepEqual(readTree(asBefore), tree("old"));
  const version = await cli(["restore", "f0000.txt", "--version", "1", "--to", join(fx.dir, "v")]);
  assert.doesNotMatch(version.stderr, /WARNING/, "a version asked for by number is not mixed");

  // verify --repair finishes no run; another run cut short after its commit: the moment
  // given is still the one before the first of them.
  assert.equal((await cli(["verify", "--repair"])).code, 0);
  assert.match((await cli(["restore", "--to", join(fx.dir, "l2")])).stderr, /^WARNING: run 2 /m);
  const second = await cli(["run"], { BACKUP_TOOL_FAULT: "committed:1" });
  assert.equal(second.code, 137, second.stderr);
  const twice = await cli(["restore", "--to", join(fx.dir, "l3")]);
  assert.match(twice.stderr, /^WARNING: run 4 \(started \S+\), and 1 run\(s\) before it, did not/m);
  assert.ok(twice.stderr.includes(`restore with --at ${warned[2]} for`), twice.stderr);
  const meanwhile = new Date().toISOString();

  assert.equal((await cli(["run"])).code, 0, "the next run finishes the backup");
  const after = join(fx.dir, "after");
  const again = await cli(["restore", "--to", after]);
  assert.equal(again.stderr, "");
  assert.deepEqual(readTree(after), tree("new"));
  // A moment before it, after the cut runs, still restores their mix: said as such.
  const then = await cli(["restore", "--at", meanwhile, "--to", join(fx.dir, "then")]);
  assert.match(
    then.stderr,
    /^WARNING: run 4 .* as last recorded as of \S+, as the unfinished runs/m,
  );
  assert.ok(then.stderr.includes(`--at ${warned[2]} for`), then.stderr);
  assert.doesNotMatch(then.stderr, /the next run finishes/);
});

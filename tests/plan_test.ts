/**
 * End-to-end tests of `plan`: it changes nothing on disk — every file of the backup root
 * (the state database included) and of the log folder keeps its bytes and mtime, and no
 * entry appears or disappears — and the actions it prints are the ones the next `run`
 * performs.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import {
  fingerprint,
  type Fixture,
  makeFixture,
  olderSchemaSql,
  writeConfig,
  writeTree,
} from "./helpers.ts";
import { pausedRun, runTool } from "./reliability/util.ts";

/**
 * A backup root's fingerprint as the readers keep it after a crash: whole, but where they
 * run under `deno run` without -A (`BACKUP_TOOL_PERMISSIONS=restricted`), which takes no
 * SQLite URI: there the first reader opens the state without `readonly_shm` and rewrites
 * the WAL's -shm index (open_reader.ts, as docs/how-it-works.md says), of which only the size is
 * compared.
 */
function keptByReaders(root: string): Record<string, string> {
  const files = fingerprint(root);
  const shm = ".backup-tool/state.db-shm";
  if (Deno.env.get("BACKUP_TOOL_PERMISSIONS") === "restricted" && files[shm] !== undefined) {
    files[shm] = `${files[shm].split(" ")[0]} bytes`;
  }
  return files;
}

/** A backed-up tree with every kind of pending change: new, modified, deleted, duplicate. */
async function pendingChanges(config: Record<string, unknown> = {}): Promise<Fixture> {
  const fx = makeFixture({
    "keep.txt": "keep\n",
    "mod.txt": "before\n",
    "gone.txt": "bye\n",
    "d/x.txt": "x\n",
    "d/y.txt": "y\n",
  }, { retention: { max_versions_per_file: 1 }, ...config });
  for (const text of ["before 2\n", "before 3\n"]) {
    const r = await fx.cli("run");
    assert.equal(r.code, 0, r.stderr);
    writeTree(fx.source, { "mod.txt": text });
  }
  Deno.removeSync(join(fx.source, "gone.txt"));
  writeTree(fx.source, { "new.txt": "new\n", "copy.txt": "keep\n", "d/x.txt": "x changed\n" });
  return fx;
}

Deno.test("plan leaves the backup root and the log folder byte-identical", async () => {
  using fx = await pendingChanges();
  const before = { root: fingerprint(fx.backup), logs: fingerprint(fx.logs) };
  assert.ok(before.root[".backup-tool/state.db"]);
  for (const args of [["plan"], ["plan", "--json"], ["plan", "--rehash"]]) {
    const r = await fx.cli(...args);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual({ root: fingerprint(fx.backup), logs: fingerprint(fx.logs) }, before);
  }
});

Deno.test("run --dry-run (-n) is plan: the same lines and document, nothing changed", async () => {
  using fx = await pendingChanges();
  const before = { root: fingerprint(fx.backup), logs: fingerprint(fx.logs) };
  const plan = await fx.cli("plan");
  const planJson = JSON.parse((await fx.cli("plan", "--json", "--rehash")).stdout);
  for (const args of [["run", "--dry-run"], ["run", "-n"], ["-n"]]) {
    const r = await fx.cli(...args);
    assert.equal(r.code, 0, r.stderr);
    // The same actions; the summary's last line says how long planning took.
    assert.deepEqual(r.stdout.split("\n").slice(0, -2), plan.stdout.split("\n").slice(0, -2));
    assert.match(
      r.stdout,
      /^Plan: 1 new, 2 updated, 1 duplicate, 2 unchanged, 1 deleted, 1 pruned/m,
    );
  }
  const json = JSON.parse((await fx.cli("run", "-n", "--json", "--rehash")).stdout);
  assert.equal(json.command, "plan");
  assert.deepEqual(json.counts, planJson.counts);
  assert.deepEqual(json.actions, planJson.actions);
  assert.deepEqual({ root: fingerprint(fx.backup), logs: fingerprint(fx.logs) }, before);
  // plan's own --all is not run's: refused as for run.
  const all = await fx.cli("run", "-n", "--all");
  assert.equal(all.code, 2);
  assert.match(all.stderr, /^Unknown option '--all' for 'run'/);
});

Deno.test("plan on a new backup root creates nothing", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  const r = await fx.cli("plan", "--json");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).actions.map((a: { type: string }) => a.type), ["backup"]);
  assert.deepEqual(fingerprint(fx.backup), {});
  assert.deepEqual(fingerprint(fx.logs), {});
});

Deno.test("plan --json shows exactly the actions the next run performs", async () => {
  using fx = await pendingChanges();
  const planned = await fx.cli("plan", "--json");
  assert.equal(planned.code, 0, planned.stderr);
  const plan = JSON.parse(planned.stdout);
  const human = await fx.cli("plan", "--all");
  const run = await fx.cli("run", "--json");
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(plan.counts, JSON.parse(run.stdout).counts);
  // The human plan (--all) prints the lines the run then logs, in the same order.
  const planLines = human.stdout.split("\n");
  const logLines = fx.lastLog().filter((l) => !/^Run (started|complete)/.test(l));
  assert.deepEqual(planLines.slice(0, planLines.findIndex((l) => l.startsWith("Plan:"))), logLines);
  const types = plan.actions.map((a: { type: string; path: string }) => `${a.type} ${a.path}`);
  assert.deepEqual(types.sort(), [
    "backup source/new.txt",
    "delete source/gone.txt",
    "duplicate source/copy.txt",
    "modified source/d/x.txt",
    "modified source/mod.txt",
    "prune source/mod.txt",
    "skip source/d/y.txt",
    "skip source/keep.txt",
  ]);
  for (const a of plan.actions) await assertDone(fx, a);
});

Deno.test("plan predicts the prunes of a lowered retention limit", async () => {
  using fx = makeFixture({ "f.txt": "1\n", "g.txt": "g\n" }, {
    retention: { max_versions_per_file: 3 },
  });
  for (const text of ["2\n", "3\n", "4\n", ""]) {
    assert.equal((await fx.cli("run")).code, 0);
    if (text) writeTree(fx.source, { "f.txt": text });
  }
  const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
  Deno.writeTextFileSync(
    fx.config,
    JSON.stringify({ ...cfg, retention: { max_versions_per_file: 1 } }),
  );
  const prunes = (doc: { actions: { type: string; storedAt?: string }[] }) =>
    doc.actions.filter((a) => a.type === "prune").map((a) => a.storedAt);
  const plan = JSON.parse((await fx.cli("plan", "--json")).stdout);
  assert.deepEqual(prunes(plan), ["versions/f.txt/v1.bak", "versions/f.txt/v2.bak"]);
  const run = await fx.cli("run", "--json");
  assert.equal(JSON.parse(run.stdout).counts.prune, 2);
  for (const p of prunes(plan)) await assertDone(fx, { type: "prune", storedAt: p! });
});

Deno.test("plan after an interrupted run says that the next run completes it first", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n" });
  const crashed = await runTool(["run", "--config", fx.config], {
    env: { BACKUP_TOOL_FAULT: "journaled:1" },
  });
  assert.equal(crashed.code, 137);
  const human = await fx.cli("plan");
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /Note: an interrupted run left 2 journaled action\(s\)/);
  const doc = JSON.parse((await fx.cli("plan", "--json")).stdout);
  assert.match(doc.notice, /completes before anything else/);
  const run = await fx.cli("run");
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse((await fx.cli("plan", "--json")).stdout).notice, undefined);
});

Deno.test("plan after a run of an older version was interrupted (schema 4) plans, and leaves the state as it was", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n" });
  assert.equal((await fx.cli("run")).code, 0);
  writeTree(fx.source, { "a.txt": "a2\n", "c.txt": "c\n" });
  const crashed = await runTool(["run", "--config", fx.config], {
    env: { BACKUP_TOOL_FAULT: "journaled:1" },
  });
  assert.equal(crashed.code, 137);
  // The state as a version of 2026-12-02 to 12-04 leaves it: no link identity, no xattrs
  // (its WAL checkpointed into it by this connection: a rollback journal's state, whose
  // readers make no -wal beside it).
  const db = new DatabaseSync(join(fx.backup, ".backup-tool", "state.db"));
  db.exec(`PRAGMA journal_mode = DELETE; ${olderSchemaSql(4)}`);
  db.close();
  const before = keptByReaders(fx.backup);
  const plan = await fx.cli("plan");
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /Note: an interrupted run left 2 journaled action\(s\)/);
  assert.match(plan.stdout, /Plan: 0 new, 0 updated, 0 duplicate, 3 unchanged/);
  assert.deepEqual(keptByReaders(fx.backup), before, "the state stays at schema 4");
  const run = await fx.cli("run");
  assert.equal(run.code, 0, run.stderr);
  assert.match((await fx.cli("verify")).stdout, /intact/);
});

Deno.test("plan after an interrupted run, TMPDIR a folder that is not there: the folder named, with the remedy, nothing changed", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n" });
  const crashed = await runTool(["run", "--config", fx.config], {
    env: { BACKUP_TOOL_FAULT: "journaled:1" },
  });
  assert.equal(crashed.code, 137);
  const files = () => ({ root: keptByReaders(fx.backup), logs: fingerprint(fx.logs) });
  const before = files();
  const missing = join(fx.dir, "no-such-tmp");
  const r = await runTool(["plan", "--config", fx.config], { env: { TMPDIR: missing } });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(
    r.stderr,
    `Cannot make a private copy of the state in the temporary folder '${missing}': No such ` +
      "file or directory (os error 2): set TMPDIR to a folder you can write to\n",
  );
  assert.deepEqual(files(), before);
});

Deno.test("plan, verify, history and restore after a crash leave the state folder byte-identical, SQLite's -shm index included, and read what the crashed run committed", async () => {
  using fx = makeFixture({ "a.txt": "a1\n", "b.txt": "b\n" });
  assert.equal((await fx.cli("run")).code, 0);
  writeTree(fx.source, { "a.txt": "a2\n" });
  const crashed = await runTool(["run", "--config", fx.config], {
    env: { BACKUP_TOOL_FAULT: "committed:1" }, // its batch in the WAL, never checkpointed
  });
  assert.equal(crashed.code, 137);
  assert.ok(fingerprint(fx.backup)[".backup-tool/state.db-shm"], "a WAL and its -shm left");
  const before = keptByReaders(fx.backup);
  const plan = await fx.cli("plan");
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /Plan: 0 new, 0 updated, 0 duplicate, 2 unchanged/);
  assert.equal((await fx.cli("verify")).code, 0);
  const history = JSON.parse((await fx.cli("history", "a.txt", "--json")).stdout);
  assert.equal(history.versions.length, 2, "the crashed run's commit is read from the WAL");
  const to = join(fx.dir, "r");
  assert.equal((await fx.cli("restore", "a.txt", "--version", "1", "--to", to)).code, 0);
  assert.equal(Deno.readTextFileSync(join(to, "a.txt")), "a1\n");
  assert.deepEqual(keptByReaders(fx.backup), before);

  // A WAL left without its index (removed by hand): read all the same, and one is made.
  Deno.removeSync(join(fx.backup, ".backup-tool/state.db-shm"));
  const again = await fx.cli("plan");
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Plan: 0 new, 0 updated, 0 duplicate, 2 unchanged/);
});

/** Checks on disk that a planned action happened as the plan described it. */
async function assertDone(fx: Fixture, a: Record<string, string>): Promise<void> {
  const at = (p: string) => join(fx.backup, ...p.split("/"));
  const exists = (p: string) => {
    try {
      Deno.lstatSync(at(p));
      return true;
    } catch {
      return false;
    }
  };
  switch (a.type) {
    case "backup":
    case "modified":
    case "duplicate": {
      const digest = createHash("sha256").update(Deno.readFileSync(at(a.target))).digest("hex");
      assert.equal(digest, a.hash, a.path);
      if (a.archiveTo) assert.ok(exists(a.archiveTo), a.archiveTo);
      const history = JSON.parse((await fx.cli("history", a.path, "--json")).stdout);
      assert.equal(history.versions.at(-1).storedAt, a.target);
      return;
    }
    case "delete":
      assert.ok(exists(a.to) && !exists(a.from), a.path);
      return;
    case "prune":
      assert.ok(!exists(a.storedAt), a.storedAt);
      return;
  }
}

Deno.test("plan prints one line per action, as the log writes it, a newline in a name escaped", async () => {
  // On Linux and macOS a name may hold a backslash and an n: written apart from a newline.
  const slashN: Record<string, string> = Deno.build.os === "windows" ? {} : { "B\\nC": "z" };
  using fx = makeFixture({ "B\nC": "x", ...slashN, "ok.txt": "y" });
  const plan = await fx.cli("plan", "--quiet");
  assert.equal(plan.code, 0, plan.stderr);
  const lines = plan.stdout.trim().split("\n").filter((l) => l.startsWith("BACKUP: "));
  assert.deepEqual(lines, [
    "BACKUP: source/B\\nC → backup/B\\nC",
    ...(Deno.build.os === "windows" ? [] : ["BACKUP: source/B\\\\nC → backup/B\\\\nC"]),
    "BACKUP: source/ok.txt → backup/ok.txt",
  ]);
  assert.equal((await fx.cli("run")).code, 0);
  assert.deepEqual(fx.lastLog().filter((l) => l.startsWith("BACKUP: ")), lines);
  // Unchanged files are counted, not listed; --all lists them as the log does.
  writeTree(fx.source, { "new.txt": "n" });
  const quiet = await fx.cli("plan");
  assert.deepEqual(quiet.stdout.split("\n").filter((l) => /^[A-Z ]+: /.test(l)), [
    "BACKUP: source/new.txt → backup/new.txt",
  ]);
  assert.match(quiet.stdout, /Plan: 1 new, 0 updated, 0 duplicate, \d+ unchanged/);
  // The summary's time is the plan's own, never read as a forecast of the copy's.
  assert.match(quiet.stdout, /^1 B to copy \(planned in \d+\.\d\d s\)$/m);
  const all = await fx.cli("plan", "--all", "-q");
  assert.equal((await fx.cli("run")).code, 0);
  const actionLines = (text: string[]) => text.filter((l) => /^(SKIP|BACKUP): /.test(l));
  assert.deepEqual(actionLines(all.stdout.trim().split("\n")), actionLines(fx.lastLog()));
  assert.ok(all.stdout.includes("SKIP: source/ok.txt\n"), all.stdout);
  // A file whose copy's mode the run brings up to date is listed (as the log has it).
  if (Deno.build.os !== "windows") {
    Deno.chmodSync(join(fx.source, "ok.txt"), 0o600);
    const mode = await fx.cli("plan", "-q");
    assert.deepEqual(mode.stdout.trim().split("\n"), ["SKIP: source/ok.txt"]);
  }
});

Deno.test({
  name:
    "plan --all lists a special file's SKIP SPECIAL line where the run logs it; plan alone does not",
  ignore: Deno.build.os === "windows", // no FIFOs there
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a", "z.txt": "z" });
    const made = new Deno.Command("mkfifo", { args: [join(fx.source, "m.pipe")] }).outputSync();
    assert.equal(made.code, 0);
    const all = await fx.cli("plan", "--all", "-q");
    const plain = await fx.cli("plan", "-q");
    assert.equal((await fx.cli("run")).code, 0);
    const entryLines = (text: string[]) => text.filter((l) => /^(SKIP[A-Z ]*|BACKUP): /.test(l));
    const logged = entryLines(fx.lastLog());
    assert.ok(logged.some((l) => l.startsWith("SKIP SPECIAL: source/m.pipe")), logged.join("\n"));
    assert.deepEqual(entryLines(all.stdout.trim().split("\n")), logged);
    assert.doesNotMatch(plain.stdout, /SKIP SPECIAL/);
  },
});

/** Deleting one file of two is half the tree: past the mass-deletion guard's default. */
const SAFETY_OFF = { safety: { max_delete_percent: 100 } };

Deno.test("plan predicts the promotion of a duplicate whose exclude is removed in the same run", async () => {
  for (const originalGoneFirst of [false, true]) {
    using fx = makeFixture({ "a.txt": "K\n", "b.txt": "K\n" }, SAFETY_OFF);
    const config = (exclude: string[]) =>
      writeConfig(fx.config, {
        sources: ["./source"],
        backup_root: "./backup",
        log_dir: "./logs",
        exclude,
        ...SAFETY_OFF,
      });
    assert.equal((await fx.cli("run")).code, 0); // b.txt: a duplicate of a.txt
    config(["b.txt"]);
    assert.equal((await fx.cli("run")).code, 0); // b.txt excluded, its copy kept
    Deno.removeSync(join(fx.source, "a.txt"));
    if (originalGoneFirst) assert.equal((await fx.cli("run")).code, 0);
    config([]);
    const plan = JSON.parse((await fx.cli("plan", "--json")).stdout);
    const run = await fx.cli("run", "--json");
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      JSON.parse(run.stdout).counts.promote,
      1,
      `original gone first: ${originalGoneFirst}`,
    );
    assert.deepEqual(
      plan.counts,
      JSON.parse(run.stdout).counts,
      `original gone first: ${originalGoneFirst}`,
    );
    assert.equal(Deno.readTextFileSync(join(fx.backup, "b.txt")), "K\n");
  }
});

Deno.test("plan promotes no duplicate that becomes excluded in the run its original goes, as the run does not", async () => {
  for (const third of [false, true]) {
    const tree: Record<string, string> = { "a.txt": "K\n", "b.txt": "K\n", "x.txt": "x\n" };
    if (third) tree["c.txt"] = "K\n";
    using fx = makeFixture(tree, SAFETY_OFF);
    assert.equal((await fx.cli("run")).code, 0); // b.txt (and c.txt): duplicates of a.txt
    writeConfig(fx.config, {
      sources: ["./source"],
      backup_root: "./backup",
      log_dir: "./logs",
      exclude: ["b.txt"],
      ...SAFETY_OFF,
    });
    Deno.removeSync(join(fx.source, "a.txt"));
    const plan = JSON.parse((await fx.cli("plan", "--json")).stdout);
    const run = await fx.cli("run", "--json");
    assert.equal(run.code, 0, run.stderr);
    const done = JSON.parse(run.stdout);
    assert.deepEqual(plan.counts, done.counts, `third copy: ${third}`);
    const promoted = plan.actions.filter((a: { type: string }) => a.type === "promote")
      .map((a: { path: string }) => a.path);
    assert.deepEqual(promoted, third ? ["source/c.txt"] : [], `third copy: ${third}`);
    // The run did the same: c.txt at its own path, the excluded b.txt's copy left where it was.
    if (third) assert.equal(Deno.readTextFileSync(join(fx.backup, "c.txt")), "K\n");
    assert.throws(() => Deno.lstatSync(join(fx.backup, "b.txt")), Deno.errors.NotFound);
  }
});

Deno.test("plan while a run commits the deletions it walked past: no crash, the rest planned", async () => {
  const tree: Record<string, string> = { "a/1.txt": "a1\n", "a/2.txt": "a2\n" };
  for (let i = 0; i < 20; i++) tree[`z/${i}.txt`] = `z${i}\n`;
  using fx = makeFixture(tree);
  assert.equal((await fx.cli("run")).code, 0);
  for (const f of ["1.txt", "2.txt"]) Deno.removeSync(join(fx.source, "a", f));
  writeTree(fx.source, { "z/new.txt": "new\n" });
  // Held on entering z/ (the source, a/, then z/): a/'s deletions are merged by then.
  await using plan = await pausedRun(["plan", "--config", fx.config], "folder:3", fx.dir);
  assert.equal((await fx.cli("run")).code, 0); // commits them: the state no longer has a/
  plan.resume();
  const out = await plan.child.output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
  assert.match(text, /BACKUP: source\/z\/new\.txt/);
});

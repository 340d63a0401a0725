/**
 * A run killed while retention deletes old versions. Its deletions are in the logs:
 * recovery finishes its journaled actions and logs each as that run would have (its own
 * log lost the lines it had not flushed), so every copy deleted is named in some log, and
 * a killed run's log shows at least that it started. Before any run recovers it, the
 * read-only commands (verify, history, restore, ls) take a version that run deleted for
 * pruned, not for missing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, listFiles, makeFixture, writeConfig, writeTree } from "../helpers.ts";
import { runTool, snapshot } from "./util.ts";

/** Four contents of f1, f2 and f3 (three old versions each, kept at 5), then the limit at 1. */
async function withVersions(fx: Fixture): Promise<Set<string>> {
  const config = (max: number) =>
    writeConfig(fx.config, {
      sources: ["./source"],
      backup_root: "./backup",
      log_dir: "./logs",
      retention: { max_versions_per_file: max },
    });
  config(5);
  for (const v of [1, 2, 3, 4]) {
    writeTree(fx.source, { f1: `v${v} 1\n`, f2: `v${v} 2\n`, f3: `v${v} 3\n` });
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
  }
  const before = versions(fx);
  assert.equal(before.size, 9);
  config(1);
  return before;
}

const versions = (fx: Fixture) => new Set(listFiles(join(fx.backup, "versions")));

/** A run killed right after retention deleted its first version (as SIGKILL would). */
async function killedPruning(fx: Fixture): Promise<void> {
  const killed = await runTool(["run", "--config", fx.config], {
    env: { BACKUP_TOOL_FAULT: "pruned:1" },
  });
  assert.equal(killed.code, 137, killed.stderr);
}

Deno.test("retention deletions finished by recovery are each logged", async () => {
  using fx = makeFixture({});
  const before = await withVersions(fx);
  await killedPruning(fx);
  assert.ok(fx.lastLog()[0]?.startsWith("Run started: run"), "the killed run's log says so");
  assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
  const deleted = [...before].filter((v) => !versions(fx).has(v)).map((v) => `versions/${v}`);
  assert.equal(deleted.length, 6);
  const logged = fx.logLines().filter((l) => l.startsWith("RETENTION delete: "))
    .map((l) => l.slice("RETENTION delete: ".length));
  assert.deepEqual([...new Set(logged)].sort(), deleted.sort());
  assert.ok(
    fx.logLines().some((l) => /^RECOVER: completed 6 action\(s\) of interrupted run/.test(l)),
  );
});

Deno.test("before recovery, verify, history, restore and ls take a version the killed run deleted for pruned", async () => {
  using fx = makeFixture({});
  const before = await withVersions(fx);
  await killedPruning(fx);
  const gone = [...before].filter((v) => !versions(fx).has(v));
  assert.equal(gone.length, 1);
  const [, file, version] = /^(.+)\/v(\d+)\.bak$/.exec(gone[0])!;
  const run = (...args: string[]) => runTool([...args, "--config", fx.config]);

  const verify = await run("verify");
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.doesNotMatch(verify.stdout + verify.stderr, /MISSING/);
  const history = await run("history", file);
  assert.equal(history.code, 0, history.stderr);
  assert.match(history.stdout, new RegExp(`^v${version} .* pruned by retention$`, "m"));
  const restore = await run("restore", file, "--version", version, "--to", join(fx.dir, "out"));
  assert.equal(restore.code, 1, restore.stdout + restore.stderr);
  assert.match(restore.stdout + restore.stderr, /was pruned by retention \(by the interrupted run/);
  // ls as of the moment that version was the file's: pruned, as restore --at says it.
  const runs = JSON.parse((await run("history", "--json")).stdout).runs;
  const at = runs[Number(version) - 1].endedAt;
  // The -wal and -shm the crash left included: ls reads them as they are.
  const root = snapshot(fx.backup);
  const ls = await run("ls", file, "--at", at);
  assert.equal((await run("ls", "--json")).code, 0);
  assert.deepEqual(snapshot(fx.backup), root, "ls changed nothing in the backup root");
  assert.equal(ls.code, 0, ls.stderr);
  const pruned = `PRUNED: source/${file} (v${version}): version ${version} was pruned by ` +
    "retention (by the interrupted run, which the next run records): its copy no longer exists";
  assert.equal(
    ls.stdout,
    `${pruned}\nListed 0 files, 0 B (as of ${at}); 1 not restorable ` +
      "(pruned or lost)\n",
  );
  const atRestore = await run("restore", file, "--at", at, "--to", join(fx.dir, "at"));
  assert.equal(atRestore.code, 1);
  assert.match(
    atRestore.stdout + atRestore.stderr,
    /was pruned by retention \(by the interrupted run/,
  );
});

Deno.test("a run killed right after a commit has logged every deletion and retention deletion of it", async () => {
  using fx = makeFixture({});
  const before = await withVersions(fx);
  Deno.removeSync(join(fx.source, "f3"));
  writeTree(fx.source, { f1: "v5 1\n", f2: "v5 2\n" });
  // The first commit: the pass's batch (f3 archived as deleted, f1 and f2 updated); the
  // second: retention's. Both logged before the commit, so nothing is left to recover.
  for (const n of [1, 2]) {
    const killed = await runTool(["run", "--config", fx.config], {
      env: { BACKUP_TOOL_FAULT: `committed:${n}` },
    });
    assert.equal(killed.code, 137, killed.stderr);
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
    if (n === 1) {
      Deno.removeSync(join(fx.source, "f2"));
      writeTree(fx.source, { f1: "v6 1\n" });
    }
  }
  const lines = fx.logLines();
  for (const f of ["f3", "f2"]) {
    assert.ok(lines.some((l) => l.startsWith(`ARCHIVE DELETE: backup/${f} `)), `${f}: ${lines}`);
  }
  const deleted = [...before].filter((v) => !versions(fx).has(v)).map((v) => `versions/${v}`);
  assert.ok(deleted.length > 0);
  for (const d of deleted) assert.ok(lines.includes(`RETENTION delete: ${d}`), `${d}: ${lines}`);
});

Deno.test("a recovery killed between its log lines and its commit leaves them to the next, which logs every deletion", async () => {
  using fx = makeFixture({});
  await withVersions(fx);
  Deno.removeSync(join(fx.source, "f3")); // one of three: below the deletion guard
  const run = (fault?: string) =>
    runTool(["run", "--config", fx.config], fault ? { env: { BACKUP_TOOL_FAULT: fault } } : {});
  assert.equal((await run("executed:1")).code, 137); // the deletions journaled, not committed
  assert.equal((await run("logged:1")).code, 137); // recovered and logged, not committed
  const clean = await run();
  assert.equal(clean.code, 0, clean.stderr);
  const lines = fx.logLines();
  assert.ok(lines.some((l) => l.startsWith("ARCHIVE DELETE: backup/f3 ")), lines.join("\n"));
  const recovered = lines.filter((l) => l.startsWith("RECOVER: completed"));
  assert.equal(recovered.length, 2, recovered.join("\n")); // logged twice, never lost
});

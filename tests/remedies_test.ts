/**
 * Remedies followed as written: a situation made on temporary folders, the message's remedy
 * taken literally with the real CLI, and the problem gone after it (the command it names is
 * accepted there, the next command succeeds, nothing is lost). A remedy that names a command
 * refusing the situation it is given for (circular) fails here.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  fingerprint,
  listFiles,
  makeFixture,
  poll,
  runCli,
  runProgram,
  toolCommand,
  writeConfig,
  writeTree,
} from "./helpers.ts";
import { backedUp, WatchProcess } from "./watch_helpers.ts";
import { canMountTmpfs, withTmpfs } from "./tmpfs.ts";

Deno.test("purge of a deleted file whose source folder is gone names the folder, and its remedies work: put back, or an empty folder under the source's name", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n" });
  assert.equal((await fx.cli("run")).code, 0);
  Deno.removeSync(join(fx.source, "a.txt"));
  const away = join(fx.dir, "away");
  Deno.renameSync(fx.source, away);
  const before = fingerprint(fx.backup);
  const r = await fx.cli("purge", "source/a.txt");
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    `Cannot purge 'source/a.txt': its source folder '${fx.source}' is not there (a disk not ` +
      "mounted, or the folder moved), and no run starts without it: put the folder " +
      "back (or mount its disk), run, then purge; if it is gone for good, point the source's " +
      `"path" at an empty folder, keeping "name": "source", run with --force, then purge; ` +
      "nothing was changed\n",
  );
  assert.deepEqual(fingerprint(fx.backup), before);
  assert.equal((await fx.cli("run")).code, 2); // what the old remedy ("run") met

  // The first remedy: the folder back, a run, the purge.
  Deno.renameSync(away, fx.source);
  assert.equal((await fx.cli("run")).code, 0);
  assert.equal((await fx.cli("purge", "source/a.txt", "--yes")).code, 0);
  assert.equal((await fx.cli("verify")).code, 0);

  // The second: the folder gone for good, an empty one under the source's name.
  Deno.removeSync(join(fx.source, "b.txt"));
  Deno.renameSync(fx.source, away);
  assert.match((await fx.cli("purge", "source/b.txt")).stderr, /if it is gone for good/);
  const empty = join(fx.dir, "empty");
  Deno.mkdirSync(empty);
  writeConfig(fx.config, {
    sources: [{ path: "./empty", name: "source" }],
    backup_root: "./backup",
    log_dir: "./logs",
  });
  assert.equal((await fx.cli("run", "--force")).code, 0);
  const purged = await fx.cli("purge", "source/b.txt", "--yes");
  assert.equal(purged.code, 0, purged.stderr);
  // Nothing else lost: c.txt, archived as deleted, is still there to restore.
  const to = join(fx.dir, "restored");
  assert.equal((await fx.cli("restore", "source/c.txt", "--to", to, "--version", "1")).code, 0);
  assert.equal(Deno.readTextFileSync(join(to, "c.txt")), "c\n");
});

Deno.test("watch: a source folder renamed for good: the config changed as the ERROR says is applied by the running watch, no restart", async () => {
  using fx = makeFixture({ "a.txt": "a\n" }, { watch: { debounce_ms: 200, rescan_interval: 1 } });
  await using w = new WatchProcess(fx);
  await w.ready();
  const renamed = join(fx.dir, "renamed");
  Deno.renameSync(fx.source, renamed);
  const said =
    /ERROR: source: Cannot read source '.*': it is missing \(moved away, or its disk unmounted\): (.*)$/m;
  await poll("the ERROR of the source missing", () => said.test(w.stderr), 8_000);
  assert.equal(
    said.exec(w.stderr)![1],
    "its files are kept as they are, and followed again once it is back; if it was removed " +
      "or renamed for good, change the config: the watch applies the edit as it runs",
  );
  // The remedy as written: the config changed, the watch left running.
  writeConfig(fx.config, {
    sources: [{ path: "./renamed", name: "source" }],
    backup_root: "./backup",
    log_dir: "./logs",
    watch: { debounce_ms: 200, rescan_interval: 1 },
  });
  await poll("the reload", () => /NOTE: Config '.*' reloaded/.test(w.stderr), 15_000);
  writeTree(renamed, { "b.txt": "b\n" });
  await backedUp(fx.backup, "b.txt", "b\n");
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "a\n");
});

Deno.test("verify --forget-missing refused by safety.max_delete_percent names the command that forgets them all the same, which works", async () => {
  using fx = makeFixture({ "a.txt": "a0\n" });
  for (const [i, day] of [[1, "2020-01-01"], [2, "2020-01-02"]] as const) {
    Deno.writeTextFileSync(join(fx.source, "a.txt"), `a${i}\n`);
    Deno.utimeSync(join(fx.source, "a.txt"), new Date(day), new Date(day));
    assert.equal((await fx.cli("run")).code, 0);
  }
  Deno.removeSync(join(fx.backup, "versions"), { recursive: true });
  const r = await fx.cli("verify", "--repair", "--forget-missing");
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /\nCannot forget the missing copies: 1 of the 1 stored old copies .*: check that the backup root is the right disk, mounted; if the copies were removed on purpose, run 'verify --forget-missing --force --config \S+'\n$/,
  );
  // As written.
  const forced = await fx.cli("verify", "--forget-missing", "--force");
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal((await fx.cli("verify")).code, 0);
  assert.equal((await fx.cli("run")).code, 0);
});

Deno.test("a failed verify names 'verify --repair', which repairs; an old copy removed by hand that nothing holds names 'verify --forget-missing', which records it lost", async () => {
  using fx = makeFixture({ "a.txt": "a0\n", "b.txt": "b\n" });
  for (const [i, day] of [[1, "2020-01-01"], [2, "2020-01-02"], [3, "2020-01-03"]] as const) {
    Deno.writeTextFileSync(join(fx.source, "a.txt"), `a${i}\n`);
    Deno.utimeSync(join(fx.source, "a.txt"), new Date(day), new Date(day));
    assert.equal((await fx.cli("run")).code, 0);
  }
  Deno.removeSync(join(fx.backup, "versions", "a.txt", "v1.bak")); // freed by hand
  Deno.writeTextFileSync(join(fx.backup, "b.txt"), "damaged\n");
  const verify = await fx.cli("verify");
  assert.equal(verify.code, 1);
  assert.match(
    verify.stdout,
    /^Verify failed: 1 missing, 1 changed, 0 unknown file\(s\); 3 re-hashed: run 'verify --repair --config \S+' to make the bad copies again from the sources or other stored copies$/m,
  );
  // As written: b.txt is made again; a.txt's first content, which nothing holds, is named
  // with what to do about a copy removed on purpose.
  const repair = await fx.cli("verify", "--repair");
  assert.equal(repair.code, 1);
  assert.match(repair.stdout, /^REPAIRED: b\.txt /m);
  assert.match(
    repair.stderr,
    /^NOT REPAIRED: versions\/a\.txt\/v1\.bak \(source\/a\.txt v1\): no file in the sources nor any other copy in the backup holds this content now: if it was removed on purpose \(to free space\), run 'verify --forget-missing --config \S+' to record it as lost; else put it back from another backup$/m,
  );
  assert.equal(Deno.readTextFileSync(join(fx.backup, "b.txt")), "b\n");
  const forget = await fx.cli("verify", "--forget-missing");
  assert.equal(forget.code, 0, forget.stderr);
  assert.doesNotMatch(forget.stderr, /forget-missing' to record/); // not said to itself
  const clean = await fx.cli("verify");
  assert.equal(clean.code, 0, clean.stderr);
  assert.doesNotMatch(clean.stdout, /verify --repair/); // nothing to repair, nothing said
  assert.equal((await fx.cli("run")).code, 0);
  const to = join(fx.dir, "restored");
  assert.equal((await fx.cli("restore", "source/a.txt", "--to", to, "--version", "2")).code, 0);
  assert.equal(Deno.readTextFileSync(join(to, "a.txt")), "a2\n");
});

Deno.test("plan of deletions the guard holds back says what a run would do and names 'run --force', which archives them", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n", "d/c.txt": "c\n" });
  assert.equal((await fx.cli("run")).code, 0);
  Deno.removeSync(join(fx.source, "a.txt"));
  Deno.removeSync(join(fx.source, "b.txt"));
  const plan = await fx.cli("plan");
  assert.equal(plan.code, 1);
  assert.match(
    plan.stderr,
    /^Deletions held back: 2 of 3 tracked files would be archived as deleted, more than safety\.max_delete_percent \(50%\): a run would archive none of them; if the source is mounted and the deletions are intended, 'run --force --config \S+' archives them$/m,
  );
  // The remedy as written; nothing else goes.
  assert.equal((await fx.cli("run", "--force")).code, 0);
  assert.equal((await fx.cli("plan")).code, 0);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "_deleted", "a.txt")), "a\n");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "d", "c.txt")), "c\n");
});

Deno.test({
  name:
    "a file the full backup disk cannot take is said with the remedy, once; lowering max_versions_per_file, then running again, as it says, backs it up",
  ignore: !(await canMountTmpfs()),
  fn: async () => {
    using fx = makeFixture({});
    await withTmpfs(fx.backup, "size=14m", async () => {
      const big = join(fx.source, "big.bin");
      let full;
      for (let i = 0; i < 12 && full === undefined; i++) {
        Deno.writeFileSync(big, new Uint8Array(1_000_000).fill(i + 1));
        const r = await fx.cli("run");
        if (r.code !== 0) full = r;
      }
      assert.ok(full, "the disk never filled");
      assert.equal(full.code, 1, full.stderr);
      assert.match(full.stderr, /^ERROR: source\/big\.bin: No space left on device/m);
      const remedy = full.stderr.split("\n").filter((l) => l.includes("free space"));
      assert.deepEqual(remedy, [
        "ERROR: the backup disk is full (No space left on device (os error 28)): free space on " +
        `the disk of '${fx.backup}' (a lower max_versions_per_file has the next run remove old ` +
        "versions), then run again; every copy stored before is intact",
      ]);
      writeConfig(fx.config, {
        sources: ["./source"],
        backup_root: "./backup",
        log_dir: "./logs",
        retention: { max_versions_per_file: 1 },
      });
      await fx.cli("run"); // removes the old versions (the file may fail again in it)
      const again = await fx.cli("run");
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(Deno.readFileSync(join(fx.backup, "big.bin")), Deno.readFileSync(big));
      assert.equal((await fx.cli("verify")).code, 0);
    });
  },
});

/**
 * The hint's command line as a shell runs it, after the tool's own: copied as it is said,
 * its quotes read by `sh`. `cwd`: the working folder it is run in.
 */
async function runHinted(hint: string, cwd: string) {
  const { cmd, args } = toolCommand([]);
  const tool = [cmd, ...args].map((w) => `'${w}'`).join(" ");
  return await runProgram("sh", ["-c", `${tool} ${hint}`], cwd);
}

Deno.test({
  name:
    "a hint naming a command carries --backup-root or --config as given, and works copied as said from another folder",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n" });
    assert.equal((await fx.cli("run")).code, 0);
    // A config in a folder whose name needs quoting, naming the backup by its full path.
    const other = join(fx.dir, "my $dir");
    Deno.mkdirSync(other);
    const config = join(other, "c.jsonc");
    writeConfig(config, { sources: [fx.source], backup_root: fx.backup, log_dir: fx.logs });
    // The working folder holds a config of another backup, which a bare hint would take.
    const elsewhere = join(fx.dir, "elsewhere");
    Deno.mkdirSync(elsewhere);
    writeConfig(join(elsewhere, "config.jsonc"), { sources: [fx.source], backup_root: "./b2" });
    const hintOf = (out: string) => out.match(/run '(verify --repair[^']*)' to make/)?.[1];
    for (
      const [args, expected] of [
        [["--backup-root", fx.backup], `verify --repair --backup-root ${fx.backup}`],
        [["--config", config], `verify --repair --config "${config.replace("$", "\\$")}"`],
      ] as const
    ) {
      Deno.removeSync(join(fx.backup, "a.txt"));
      const verify = await runCli(["verify", ...args], { cwd: elsewhere });
      assert.equal(verify.code, 1);
      // Before: 'verify --repair', which here took ./config.jsonc and another backup root.
      assert.equal(hintOf(verify.stdout), expected, verify.stdout);
      const repair = await runHinted(hintOf(verify.stdout)!, elsewhere);
      assert.equal(repair.code, 0, repair.stdout + repair.stderr);
      assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "a\n");
    }
    assert.ok(!listFiles(elsewhere).some((f) => f.startsWith("b2")), "the other backup root");
    // The working folder's own config: the hint, run from there, takes it too.
    Deno.removeSync(join(fx.backup, "b.txt"));
    const own = await runCli(["verify"], { cwd: fx.dir });
    assert.equal(hintOf(own.stdout), "verify --repair", own.stdout);
  },
});

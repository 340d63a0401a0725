/**
 * End-to-end tests of `init` through the real tool: the commented config it writes loads
 * and runs, folder names made usable, and every refusal (one folder given twice, sources
 * overlapping, an empty path, an existing config, a path that is or lies below a file, a
 * folder that cannot be made, a working folder removed meanwhile) exits 2 with nothing
 * written, no folder left made on the way (`restore --to` too).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEFAULTS, loadConfig } from "../src/config/config.ts";
import { MAIN, makeFixture, runCli } from "./helpers.ts";
import { assertUsage, entriesUnder, spawn, TREE } from "./cli_helpers.ts";

Deno.test("init: writes a commented config that loads, and run succeeds once the source exists", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-init-" });
  try {
    const r = await runCli(["init"], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Wrote '.*config\.jsonc'/);
    const file = join(dir, "config.jsonc");
    const text = Deno.readTextFileSync(file);
    const keys = [
      "sources",
      "backup_root",
      ...Object.keys(DEFAULTS).map((k) => k.split(".").pop()),
    ];
    for (const key of keys) {
      assert.match(text, new RegExp(`// [^\\n]+\\n(\\s*//[^\\n]*\\n)*\\s*"${key}": `), `${key}`);
    }
    // The comments say what docs/configuration.md's table does: the guard counts each source
    // too, and log_retention counts this backup root's logs alone.
    assert.match(text, /percentage of the tracked files as deleted,\n\s*\/\/ or of one source's/);
    assert.match(text, /this backup root's newest logs to keep in log_dir/);
    assert.match(text, /Logs of other backup roots\n\s*\/\/ sharing log_dir, and other files/);
    // A watch applies an edit of the config, or of a file exclude_from lists, while it runs
    // (docs/watch.md's The config), not only once started again.
    assert.doesNotMatch(text, /started again/);
    assert.match(text, /A watch applies\n\s*\/\/ an edit of one \(or of this file\) while it runs/);
    assert.throws(() => loadConfig(file), /does not exist/); // ./data is not there yet
    Deno.mkdirSync(join(dir, "data"));
    Deno.writeTextFileSync(join(dir, "data", "a.txt"), "a\n");
    const config = loadConfig(file);
    assert.equal(config.hashAlgorithm, DEFAULTS.hash_algorithm);
    assert.equal(config.maxVersionsPerFile, DEFAULTS["retention.max_versions_per_file"]);
    assert.equal(config.logRetention, DEFAULTS.log_retention);
    assert.equal(config.watch.rescanIntervalMs, DEFAULTS["watch.rescan_interval"] * 1000);
    const run = await runCli(["run"], { cwd: dir });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(Deno.readTextFileSync(join(dir, "backup", "a.txt")), "a\n");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("init: folder names that cannot name a source get a usable name, so the config loads", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-init-" });
  try {
    const folders = ["we\\ird", "a/docs", "b/Docs", "versions"];
    for (const f of folders) Deno.mkdirSync(join(dir, f), { recursive: true });
    const args = folders.flatMap((f) => ["--source", f]);
    const r = await runCli(["init", "--quiet", ...args], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const config = loadConfig(join(dir, "config.jsonc"));
    assert.deepEqual(config.sources.map((s) => s.name), [
      "we_ird",
      "docs",
      "Docs-2",
      "versions-source",
    ]);
    assert.equal(config.sources[0].path, join(Deno.realPathSync(dir), "we\\ird"));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("init: one folder given twice, one inside another, or a backup root holding a source is refused (exit 2), nothing written", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-init-" });
  try {
    Deno.mkdirSync(join(dir, "photos", "2024"), { recursive: true });
    const twice = await runCli(["init", "--source", "photos", "--source", "photos/2024/.."], {
      cwd: dir,
    });
    assert.equal(twice.code, 2, twice.stderr);
    assert.match(
      twice.stderr,
      /^Cannot init: '--source photos' and '--source photos\/2024\/\.\.' are one folder: give it once\n$/,
    );
    const nested = await runCli(["init", "--source", "photos", "--source", "photos/2024"], {
      cwd: dir,
    });
    assert.equal(nested.code, 2, nested.stderr);
    assert.match(
      nested.stderr,
      /is inside '--source photos': sources must not overlap .*; give only one of them\n$/,
    );
    // A backup root that is a source, or holds one, as every command would then refuse.
    for (const [root, why] of [["photos/2024", "is the same folder as"], ["photos", "is inside"]]) {
      const r = await runCli(["init", "--source", "photos/2024", "--backup-root", root], {
        cwd: dir,
      });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(why));
    }
    const inSource = await runCli(["init", "--source", "photos", "--backup-root", "photos/bk"], {
      cwd: dir,
    });
    assert.equal(inSource.code, 0, inSource.stderr); // skipped by every run: allowed
    Deno.removeSync(join(dir, "config.jsonc"));
    // Without --source, the config's source is ./data.
    const onDefault = await runCli(["init", "--backup-root", "data"], { cwd: dir });
    assert.equal(onDefault.code, 2, onDefault.stderr);
    assert.match(onDefault.stderr, /is the same folder as the default source/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("init: an empty DIR, --source or --backup-root (an unset variable) is refused, nothing written", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-init-" });
  try {
    const cases: [string[], RegExp][] = [
      [["init", ""], /^Empty PATH for 'init'/],
      [
        ["init", "--source", ""],
        /^Cannot init: --source needs a folder path \(an unset variable\?\)/,
      ],
      [["init", "--source", "a", "--source", ""], /--source needs a folder path/],
      [["init", "--backup-root", ""], /^Cannot init: --backup-root needs a folder path/],
      [["init", "--config", ""], /^Cannot init: --config needs a file path .*: see 'init --help'/],
    ];
    for (const [args, why] of cases) {
      assertUsage(await runCli(args, { cwd: dir }), why);
      assert.deepEqual([...Deno.readDirSync(dir)], [], `${args}: something was written`);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("init: refuses to overwrite an existing config (exit 2), file unchanged", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-init-" });
  try {
    Deno.writeTextFileSync(join(dir, "config.jsonc"), "{ mine }");
    const r = await runCli(["init", dir]);
    assertUsage(r, /Cannot init: '.*config\.jsonc' already exists and is left unchanged/);
    assert.equal(Deno.readTextFileSync(join(dir, "config.jsonc")), "{ mine }");
    Deno.renameSync(join(dir, "config.jsonc"), join(dir, "config.json"));
    assertUsage(await runCli(["init", dir]), /'.*config\.json' already exists/);
    // Another name ending so is not looked up before config.json: it shadows nothing.
    const r2 = await runCli(["init", "-q", "--config", "my-config.jsonc"], { cwd: dir });
    assert.equal(r2.code, 0, r2.stderr);
    Deno.removeSync(join(dir, "my-config.jsonc"));
    // A folder named as the config: named as a folder, not as a file to edit or delete.
    Deno.mkdirSync(join(dir, "conf"));
    assertUsage(
      await runCli(["init", "--config", "conf"], { cwd: dir }),
      /^Cannot init: '.*conf' is a folder: pass --config FILE .*conf[/\\]config\.jsonc'\)\n$/,
    );
    assert.deepEqual(Array.from(Deno.readDirSync(join(dir, "conf"))), []);
    // `-q-x`: once read as `-q -- -x`, which made a folder '-x' to write in.
    assertUsage(await runCli(["init", "-q-x"], { cwd: dir }), /^Unknown option '-q-x' for 'init'/);
    assert.deepEqual(Array.from(Deno.readDirSync(dir)).map((e) => e.name).sort(), [
      "conf",
      "config.json",
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("init DIR --source --backup-root: paths from the cwd, written relative to DIR", async () => {
  using fx = makeFixture(TREE);
  const r = await runCli(
    ["init", "conf", "--source", "source", "--backup-root", "elsewhere/bk", "-q"],
    { cwd: fx.dir },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "");
  const config = loadConfig(join(fx.dir, "conf", "config.jsonc"));
  assert.deepEqual(config.sources.map((s) => s.path), [Deno.realPathSync(fx.source)]);
  assert.equal(config.backupRoot, join(Deno.realPathSync(fx.dir), "elsewhere", "bk"));
});

Deno.test("init DIR and restore --to whose last folder cannot be made (exit 2) leave no folder made on the way", async () => {
  using fx = makeFixture(TREE);
  assert.equal((await fx.cli("run")).code, 0);
  const tooLong = "x".repeat(300); // longer than a name may be (255 bytes)
  const before = entriesUnder(fx.dir);
  const init = await runCli(["init", join(fx.dir, "new", "deeper", tooLong)]);
  assertUsage(init, /^Cannot write config '.*config\.jsonc': .*\n$/);
  assert.deepEqual(entriesUnder(fx.dir), before);
  const restore = await fx.cli("restore", "--to", join(fx.dir, "out", "deeper", tooLong));
  assertUsage(restore, /^Cannot restore into '.*': .*choose a folder you can write to\n$/);
  // The path once, not again in the "mkdir '…'" Deno appends to its reason.
  assert.ok(!restore.stderr.includes("mkdir"), restore.stderr);
  assert.deepEqual(entriesUnder(fx.dir), before);
  // A --to that is a file, or lies below one: its path said once, not twice.
  const file = join(fx.source, "one.txt");
  assertUsage(
    await fx.cli("restore", "--to", file),
    /^Cannot restore into '.*one\.txt': it is not a folder: choose a folder path\n$/,
  );
  assertUsage(
    await fx.cli("restore", "--to", join(file, "out")),
    /^Cannot restore into '.*one\.txt[/\\]out': it is not a folder \(its part '.*one\.txt' is a file\): choose a folder path\n$/,
  );
  assert.deepEqual(entriesUnder(fx.dir), before);
});

Deno.test("a working folder removed meanwhile: one line naming it, exit 2, nothing written", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-cwd-" });
  try {
    const gone = join(dir, "gone");
    const target = join(dir, "made");
    // `deno run` itself needs the folder to start (the compiled binary does not): the
    // tool's main is started in it, and the folder removed before it is called.
    const code = `
      import { main } from ${JSON.stringify(MAIN)};
      Deno.mkdirSync(${JSON.stringify(gone)});
      Deno.chdir(${JSON.stringify(gone)});
      Deno.removeSync(${JSON.stringify(gone)});
      Deno.exit(await main(["init", ${JSON.stringify(target)}]));`;
    const r = await spawn(Deno.execPath(), ["eval", code], {});
    assertUsage(
      r,
      /^Cannot read the working folder: .*: it was removed or cannot be entered; change to an existing folder \(cd\) and run the command again\n$/,
    );
    assert.deepEqual(entriesUnder(dir), []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("init: a --source or --backup-root that is a file, or lies below one, is refused (exit 2), nothing written", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-init-" });
  try {
    const file = join(dir, "notes.txt");
    Deno.writeTextFileSync(file, "a file\n");
    const target = join(dir, "conf");
    const cases: [string[], RegExp][] = [
      [
        ["--source", file],
        /^Cannot init: '--source .*notes\.txt' is not a folder: give a folder path\n$/,
      ],
      [
        ["--backup-root", join(file, "b")],
        /^Cannot init: '--backup-root .*notes\.txt[/\\]b' is not a folder \(its part '.*notes\.txt' is a file\)/,
      ],
    ];
    for (const [args, pattern] of cases) {
      assertUsage(await runCli(["init", target, ...args]), pattern);
      assert.deepEqual(entriesUnder(dir), ["notes.txt"]);
    }
    // The config itself to go below that file: the file is named, not the system's
    // "File exists (os error 17): mkdir '…'".
    const below =
      /^Cannot write config '.*notes\.txt[/\\].*config\.jsonc': '.*notes\.txt' on its way is not a folder: pass --config FILE to write elsewhere\n$/;
    for (const args of [[file], ["--config", join(file, "deeper", "config.jsonc")]]) {
      assertUsage(await runCli(["init", ...args]), below);
      assert.deepEqual(entriesUnder(dir), ["notes.txt"]);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

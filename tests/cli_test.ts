/**
 * End-to-end tests of the CLI surface through the real tool: help for every command,
 * --version, unknown commands and flags (exit 2, did-you-mean), `init`, colours and the
 * progress line (none when piped or with NO_COLOR; on a pseudo-terminal via util-linux
 * `script`, where available), `--json` purity, log rotation, a state from a newer version
 * refused by every command, and that the permissions baked into the compiled binary are
 * enough.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEFAULTS, loadConfig } from "../src/config/config.ts";
import { VERSION } from "../src/version.ts";
import { SCHEMA_VERSION } from "../src/state/schema.ts";
import { signalExitCode } from "../src/watch/signals.ts";
import { DatabaseSync } from "node:sqlite";
import { permissionFlags, REPO as SCRIPTS_REPO, v8Flags } from "../scripts/compile_all.ts";
import {
  type CliResult,
  DEAD_HOLDER_RECORD,
  fingerprint,
  loggedDeadHolderTakeover,
  MAIN,
  makeFixture,
  readTree,
  REPO,
  RESTRICTED_PERMISSIONS,
  runCli,
  toolCommand,
  writeConfig,
  writeTree,
} from "./helpers.ts";
import { exists, pausedRun } from "./reliability/util.ts";

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[/;
const TREE = { "one.txt": "hello world\n", "docs/two.txt": "another file\n" };

type Env = Record<string, string | undefined>;

/** Runs a program on pipes with `env` changes (undefined removes a variable). */
async function spawn(cmd: string, args: string[], env: Env, cwd = REPO): Promise<CliResult> {
  const vars = { ...Deno.env.toObject(), ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete vars[k];
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    env: vars as Record<string, string>,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs the tool on pipes with `env` changes. */
function runEnv(args: string[], env: Env): Promise<CliResult> {
  const { cmd, args: full } = toolCommand(args);
  return spawn(cmd, full, env);
}

function commandNames(help: string): string[] {
  const block = help.split("Commands:\n")[1].split("\n\n")[0];
  return block.split("\n").map((l) => l.trim().split(/\s+/)[0]);
}

function assertUsage(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, pattern);
  assert.equal(r.stdout, "");
}

Deno.test("help: the tool's help lists every command, with examples", async () => {
  for (const flag of ["--help", "-h", "help"]) {
    const r = await runCli([flag]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Usage: backup-tool/);
    assert.match(r.stdout, /Examples:\n {2}backup-tool/);
  }
  const names = commandNames((await runCli(["--help"])).stdout);
  for (const name of ["run", "plan", "init"]) assert.ok(names.includes(name), names.join(" "));
});

Deno.test("help: the tool's help gives history both uses, the runs and one file's contents", async () => {
  const line = (await runCli(["--help"])).stdout.split("\n").find((l) => /^ {2}history /.test(l));
  assert.match(line ?? "", /every run\b.*\bone file/, line);
});

Deno.test("help: every command has --help with Usage and an example", async () => {
  const names = commandNames((await runCli(["--help"])).stdout);
  for (const name of names) {
    const r = await runCli([name, "--help"]);
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    assert.match(r.stdout, /Usage: backup-tool/, name);
    assert.match(r.stdout, new RegExp(`Examples?:\\n {2}backup-tool ${name}`), name);
    assert.equal((await runCli([name, "-h"])).stdout, r.stdout, name);
    assert.equal((await runCli(["help", name])).stdout, r.stdout, name);
  }
});

Deno.test("help: watch names every signal that stops it and every exit code it gives", async () => {
  const help = (await runCli(["watch", "--help"])).stdout.replace(/\s+/g, " ");
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    assert.ok(help.includes(signal), signal);
    assert.ok(help.includes(String(signalExitCode(signal))), `${signal}: ${help}`);
  }
  assert.match(help, /Exit codes: 0 [^]*1 [^]*2 [^]*3 /);
});

Deno.test("--version prints the semver from src/version.ts", async () => {
  assert.match(VERSION, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/);
  for (const flag of ["--version", "-V"]) {
    const r = await runCli([flag]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `backup-tool ${VERSION}\n`);
  }
});

Deno.test("unknown commands and flags exit 2, named, with a did-you-mean", async () => {
  assertUsage(await runCli(["rn"]), /Unknown command 'rn' \(did you mean 'run'\?\)/);
  assertUsage(await runCli(["iint"]), /Unknown command 'iint' \(did you mean 'init'\?\)/);
  assertUsage(await runCli(["xyzzy"]), /^Unknown command 'xyzzy': see --help\n$/);
  // Names every object has are no commands either (once: "Constructor failed", exit 1).
  assertUsage(await runCli(["constructor"]), /^Unknown command 'constructor': see --help\n$/);
  assertUsage(await runCli(["run", "--jsn"]), /Unknown option '--jsn' .*did you mean '--json'/);
  assertUsage(await runCli(["plan", "--rehsh"]), /'--rehsh' .*did you mean '--rehash'/);
  assertUsage(await runCli(["--verison"]), /Unknown option '--verison' .*'--version'/);
  assertUsage(await runCli(["--hepl"]), /did you mean '--help'/);
  assertUsage(await runCli(["run", "-x"]), /Unknown option '-x' for 'run'/);
  assertUsage(await runCli(["run", "extra"]), /Unexpected argument 'extra' for 'run'/);
  assertUsage(
    await runCli(["run", "--config", "a.jsonc", "--config", "b.jsonc"]),
    /^Option '--config' given twice for 'run': give it once/,
  );
  assertUsage(await runCli(["restore", "--to", "x", "--to=y"]), /'--to' given twice/);
  assertUsage(await runCli(["restore", ""]), /^Empty PATH for 'restore'/);
  assertUsage(await runCli(["history", ""]), /^Empty PATH for 'history'/);
  assertUsage(await runCli(["plan", "extra"]), /Unexpected argument 'extra' for 'plan'/);
  assertUsage(await runCli(["init", "a", "b"]), /more than one folder/);
  // An option that means nothing to its command is refused, not ignored.
  assertUsage(await runCli(["history", "a.txt", "-q"]), /^Unknown option '-q' for 'history'/);
  assertUsage(await runCli(["init", "--json"]), /^Unknown option '--json' for 'init'/);
  assertUsage(
    await runCli(["verify", "--sample", "-1"]),
    /^Invalid value for '--sample' of 'verify': '-1' looks like an option: .*'--sample=-1'/,
  );
  // A value flag last on the line, or a value given to a flag that takes none: said in the
  // tool's words, not node:util's ("Option '--to <value>' argument missing").
  assertUsage(
    await runCli(["restore", "--to"]),
    /^Missing value for '--to' of 'restore': write '--to DIR': see 'restore --help'\n$/,
  );
  assertUsage(
    await runCli(["run", "--config"]),
    /^Missing value for '--config' of 'run': write '--config FILE': see 'run --help'\n$/,
  );
  assertUsage(
    await runCli(["plan", "--json=yes"]),
    /^Invalid value for '--json' of 'plan': it takes none: write '--json' alone: see 'plan --help'\n$/,
  );
  // `-q=1` is no `-q`, `-=` and `-1`: the word given is named, not a '-=' never typed.
  assertUsage(await runCli(["restore", "-q=1"]), /^Unknown option '-q=1' for 'restore'/);
  // A PATH starting with a dash: the way to give it is said.
  assertUsage(
    await runCli(["restore", "-a.txt"]),
    /^Unknown option '-a' for 'restore' \(did you mean '--at'\?; a PATH starting with '-' goes after '--'\)/,
  );
  // Options before the command: said so, with the line to write.
  assertUsage(
    await runCli(["--config=x.jsonc", "plan"]),
    /^Options go after the command: 'backup-tool plan \[OPTIONS\]': see 'plan --help'/,
  );
  assertUsage(
    await runCli(["--source", "x", "init"]),
    /^Options go after the command: 'backup-tool init/,
  );
  // A config named like a command is no command.
  assertUsage(
    await runCli(["--config", "plan", "--bogus"]),
    /^Unknown option '--bogus' for 'run': see 'run --help'\n$/,
  );
  assertUsage(await runCli(["help", "run", "extra"]), /^Too many words for 'help': 'run extra'/);
  // Asked for help, the help is given, whatever else is wrong with the line.
  for (const args of [["run", "--help", "--bogus"], ["watch", "-h", "--bogus"]]) {
    const r = await runCli(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Usage: backup-tool ${args[0]} `));
  }
});

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
    // The comments say what the README's table does: the guard counts each source too, and
    // log_retention counts this backup root's logs alone.
    assert.match(text, /percentage of the tracked files as deleted,\n\s*\/\/ or of one source's/);
    assert.match(text, /this backup root's newest logs to keep in log_dir/);
    assert.match(text, /Logs of other backup roots\n\s*\/\/ sharing log_dir, and other files/);
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

Deno.test({
  name:
    "--config naming a FIFO, a device, a folder or a huge file is refused at once (exit 2); a broken config.jsonc is not passed over",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const dir = Deno.makeTempDirSync({ prefix: "bt-cfg-" });
    try {
      const fifo = join(dir, "ff");
      assert.ok((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
      Deno.mkdirSync(join(dir, "folder"));
      const big = join(dir, "big.jsonc");
      Deno.writeTextFileSync(big, " ".repeat((1 << 20) + 1));
      const cases: [string, RegExp][] = [
        [fifo, /it is not a regular file/], // before, it waited for a writer for ever
        ["/dev/zero", /it is not a regular file/], // before, it read until memory ran out
        [join(dir, "folder"), /it is a folder/],
        [big, /larger than any config/],
      ];
      for (const [config, why] of cases) {
        assertUsage(await runCli(["plan", "--config", config], { cwd: dir }), why);
      }
      // A pipe the shell passes (`--config <(generate)`, `/dev/stdin`) is read, its relative
      // paths taken from the working folder (they went under /dev: /dev/bk, /dev/logs).
      const valid = join(dir, "valid.jsonc");
      Deno.writeTextFileSync(valid, JSON.stringify({ sources: ["src"], backup_root: "bk" }));
      writeTree(join(dir, "src"), { "a.txt": "a\n" });
      const piped = await new Deno.Command("bash", {
        args: [
          "-c",
          `cat '${valid}' | "$@"`,
          "_",
          ...toolArgs(["run", "-q", "--config", "/dev/stdin"]),
        ],
        cwd: dir,
      }).output();
      assert.equal(piped.code, 0, new TextDecoder().decode(piped.stderr));
      assert.equal(Deno.readTextFileSync(join(dir, "bk", "a.txt")), "a\n");
      assert.ok(Deno.statSync(join(dir, "logs")).isDirectory);
      // The default lookup takes config.jsonc when it is there at all, broken or not.
      Deno.writeTextFileSync(join(dir, "config.json"), "{}");
      Deno.mkdirSync(join(dir, "config.jsonc"));
      assertUsage(await runCli(["plan"], { cwd: dir }), /config\.jsonc': it is a folder/);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
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

Deno.test("output: no ANSI escapes on pipes, with or without NO_COLOR", async () => {
  using fx = makeFixture(TREE);
  for (const NO_COLOR of [undefined, "1", ""]) {
    for (const args of [["run"], ["plan"], ["rn"], ["--help"]]) {
      const r = await runEnv([...args, "--config", fx.config], { NO_COLOR });
      assert.doesNotMatch(r.stdout + r.stderr, ANSI, `${args} NO_COLOR=${NO_COLOR}`);
    }
  }
});

Deno.test("--json: stdout is exactly one JSON document; errors go to stderr", async () => {
  using fx = makeFixture(TREE);
  const run = await fx.cli("run", "--json");
  assert.equal(run.code, 0, run.stderr);
  const doc = JSON.parse(run.stdout);
  assert.equal(doc.command, "run");
  assert.equal(doc.ok, true);
  assert.equal(doc.counts.backup, 2);
  assert.equal(typeof doc.logFile, "string");
  assert.equal(doc.actions, undefined);
  Deno.writeTextFileSync(join(fx.source, "three.txt"), "three\n");
  const plan = await fx.cli("plan", "--json");
  assert.equal(plan.code, 0, plan.stderr);
  const planned = JSON.parse(plan.stdout);
  assert.equal(planned.command, "plan");
  assert.deepEqual(
    planned.actions.map((a: { type: string; path: string }) => `${a.type} ${a.path}`),
    ["skip source/docs/two.txt", "skip source/one.txt", "backup source/three.txt"],
  );
  const bad = await runCli(["run", "--json", "--config", join(fx.dir, "missing.jsonc")]);
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout, "");
  assert.match(bad.stderr, /Cannot read config/);
});

Deno.test("a state written by a newer version: every command refuses it by name, untouched", async () => {
  using fx = makeFixture(TREE);
  assert.equal((await fx.cli("run")).code, 0);
  const db = join(fx.backup, ".backup-tool", "state.db");
  const state = new DatabaseSync(db);
  state.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
  state.close();
  const before = Deno.readFileSync(db);
  const cases = [
    ["run"],
    ["watch"],
    ["plan"],
    ["verify"],
    ["restore", "--to", join(fx.dir, "restored")],
  ];
  for (const [command, ...rest] of cases) {
    const r = await fx.cli(command, ...rest);
    assert.equal(r.code, 2, `${command}: ${r.stderr}`);
    assert.match(
      r.stderr,
      new RegExp(
        `^Cannot read backup state '.*state\\.db': schema version ${
          SCHEMA_VERSION + 1
        } is newer than this tool's ${SCHEMA_VERSION}: upgrade the tool\n$`,
      ),
    );
  }
  assert.deepEqual(Deno.readFileSync(db), before);
  assert.deepEqual(
    [...Deno.readDirSync(join(fx.backup, ".backup-tool"))].map((e) => e.name).sort(),
    ["lock", "reserve", "state.db", "tmp"], // as the first, normal run left it
  );
});

Deno.test("a damaged state file: every command exits 2 naming it and what to do, nothing made", async () => {
  using fx = makeFixture(TREE);
  const stateDir = join(fx.backup, ".backup-tool");
  Deno.mkdirSync(stateDir, { recursive: true });
  const db = join(stateDir, "state.db");
  Deno.writeTextFileSync(db, "not a database\n".repeat(300));
  const cases = [
    ["run"],
    ["verify", "--repair"],
    ["plan"],
    ["verify"],
    ["history", "a.txt"],
    ["restore", "--to", join(fx.dir, "restored")],
  ];
  for (const args of cases) {
    const r = await fx.cli(...args);
    assert.equal(r.code, 2, `${args}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.ok(
      r.stderr.startsWith(`Cannot read backup state '${db}': file is not a database: `),
      r.stderr,
    );
    assert.match(r.stderr, /put back a copy of it if you have one, or move it aside/);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.deepEqual([...Deno.readDirSync(stateDir)].map((e) => e.name), ["state.db"]);
    assert.deepEqual(fx.logLines(), []);
  }
  assert.throws(() => Deno.lstatSync(join(fx.dir, "restored")), Deno.errors.NotFound);
});

Deno.test("a state damaged past its first page: every command names it and what to do", async () => {
  // Opened without a word (its header is intact); SQLite then says only "database disk
  // image is malformed" from the first query that meets the page.
  const tree = Object.fromEntries(
    Array.from({ length: 600 }, (_, i) => [`d${i % 20}/f${i}.txt`, `file ${i}\n`]),
  );
  using fx = makeFixture(tree);
  assert.equal((await fx.cli("run")).code, 0);
  const db = join(fx.backup, ".backup-tool", "state.db");
  const bytes = Deno.readFileSync(db);
  bytes.fill(0x5a, 16_384, bytes.length - 16_384); // pages 5 to the last but four
  Deno.writeFileSync(db, bytes);
  const cases = [
    ["run"],
    ["plan"],
    ["verify"],
    ["history", "d1/f1.txt"],
    ["restore", "--to", join(fx.dir, "restored")],
  ];
  for (const args of cases) {
    const r = await fx.cli(...args);
    assert.notEqual(r.code, 0, `${args}: ${r.stderr}`);
    const line = r.stderr.trim().split("\n").at(-1)!;
    assert.ok(line.includes(`Cannot read backup state '${db}': `), `${args}: ${r.stderr}`);
    assert.match(line, /the state is damaged; put back a copy of it if you have one/);
  }
});

Deno.test("log rotation: with log_retention 3, five runs leave three logs and log the removals", async () => {
  using fx = makeFixture(TREE, { log_retention: 3 });
  for (let i = 0; i < 5; i++) assert.equal((await fx.cli("run")).code, 0);
  const logs = [...Deno.readDirSync(fx.logs)].map((e) => e.name).sort();
  assert.equal(logs.length, 3, logs.join(", "));
  const removed = fx.logLines().filter((l) => l.startsWith("LOG ROTATE delete: "));
  assert.equal(removed.length, 2, removed.join("\n"));
  for (const line of removed) {
    assert.ok(!logs.includes(line.slice("LOG ROTATE delete: ".length)), line);
  }
  // Removals come at the start: each log's last line says how its run ended.
  assert.equal(fx.lastLog().at(-1), "Run complete");
  assert.match(fx.lastLog()[1], /^LOG ROTATE delete: /);
});

Deno.test("log_dir inside a source: only the run logs are skipped and rotated, never other files, even one named like them", async () => {
  using fx = makeFixture({
    "a.txt": "a",
    "logs/app.log": "the app's own log",
    "logs/notes.txt": "n",
    "logs/2001-01-01T00-00-00.000Z-run.log": "named like a run log, but not one",
  }, {
    log_dir: "./source/logs",
    log_retention: 1,
  });
  for (let i = 0; i < 3; i++) assert.equal((await fx.cli("run")).code, 0);
  const inSource = [...Deno.readDirSync(join(fx.source, "logs"))].map((e) => e.name).sort();
  // The user's three files, and the last run log.
  assert.equal(inSource.length, 4, inSource.join(", "));
  assert.deepEqual([inSource[0], ...inSource.slice(2)], [
    "2001-01-01T00-00-00.000Z-run.log",
    "app.log",
    "notes.txt",
  ]);
  const stored = [...Deno.readDirSync(join(fx.backup, "logs"))].map((e) => e.name).sort();
  assert.deepEqual(stored, ["2001-01-01T00-00-00.000Z-run.log", "app.log", "notes.txt"]);
  const last = await fx.cli("run");
  assert.match(last.stdout, /0 new, 0 updated, 0 duplicate, 4 unchanged, 0 deleted/);
});

Deno.test("log_dir inside a source: a large first backup (walked by the staging worker) skips the run logs too", async () => {
  const tree = Object.fromEntries(
    Array.from({ length: 1100 }, (_, i) => [`d/f${i}.txt`, `file ${i}\n`]),
  );
  using fx = makeFixture({ ...tree, "zz-logs/notes.txt": "n" }, { log_dir: "./source/zz-logs" });
  assert.equal((await fx.cli("run")).code, 0);
  const stored = [...Deno.readDirSync(join(fx.backup, "zz-logs"))].map((e) => e.name);
  assert.deepEqual(stored, ["notes.txt"]);
});

Deno.test("the compiled binary is built with the permissions the suite runs the tool with", () => {
  // Deno opens /proc/self (the open files limit, the umask, the mount table, an open
  // file's path) to --allow-all only; built with less, the binary took untested fallbacks.
  assert.deepEqual(permissionFlags(), ["--allow-all"]);
});

Deno.test("without FFI and /proc/self (macOS's and musl's paths), init, run and plan work", async () => {
  using fx = makeFixture(TREE);
  const tool = (...args: string[]) =>
    spawn(Deno.execPath(), ["run", ...RESTRICTED_PERMISSIONS, MAIN, ...args], {}, fx.dir);
  const config = ["--config", fx.config];
  for (const args of [["run", ...config], ["run", ...config], ["plan", "--json", ...config]]) {
    const r = await tool(...args);
    assert.equal(r.code, 0, `${args}: ${r.stderr}`);
  }
  assert.equal((await tool("init", "fresh")).code, 0);
  assert.equal((await tool("--version")).stdout, `backup-tool ${VERSION}\n`);
});

Deno.test("deno task backup and watch run with the compiled binary's V8 flags", async () => {
  const flags = v8Flags();
  assert.equal(flags.length, 1, "the compile task should set --v8-flags once");
  const tasks = JSON.parse(Deno.readTextFileSync(join(SCRIPTS_REPO, "deno.json"))).tasks;
  for (const name of ["backup", "watch"]) {
    const words: string[] = tasks[name].split(/\s+/);
    assert.deepEqual(words.filter((w) => w.startsWith("--v8-flags")), flags, name);
  }
  // V8 takes them: a run with them works (an unknown flag would end Deno with an error).
  using fx = makeFixture(TREE);
  const r = await spawn(Deno.execPath(), [
    "run",
    "-A",
    ...flags,
    MAIN,
    "run",
    "--config",
    fx.config,
  ], {});
  assert.equal(r.code, 0, r.stderr);
});

const SCRIPT = "/usr/bin/script";
const hasScript = Deno.build.os === "linux" && (() => {
  try {
    return Deno.statSync(SCRIPT).isFile;
  } catch {
    return false;
  }
})();

/** Runs the tool on a pseudo-terminal (stdout and stderr both): what the terminal showed. */
async function onTerminal(args: string[], env: Env): Promise<{ code: number; text: string }> {
  const { cmd, args: full } = toolCommand(args);
  const line = [cmd, ...full].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
  const r = await spawn(SCRIPT, ["-qec", line, "/dev/null"], env);
  return { code: r.code, text: r.stdout };
}

if (hasScript) {
  Deno.test("terminal: progress line and colours on a TTY; no colours with NO_COLOR; nothing with --quiet", async () => {
    using fx = makeFixture(TREE);
    const plain = await onTerminal(["run", "--config", fx.config], { NO_COLOR: undefined });
    assert.equal(plain.code, 0, plain.text);
    assert.match(plain.text, ANSI);
    assert.match(plain.text, /Backing up.* 2\/2 files .*\r/);
    for (const NO_COLOR of ["1", ""]) {
      const r = await onTerminal(["run", "--rehash", "--config", fx.config], { NO_COLOR });
      assert.equal(r.code, 0, r.text);
      assert.doesNotMatch(r.text, ANSI, `NO_COLOR=${JSON.stringify(NO_COLOR)}`);
      assert.match(r.text, /Backing up {2}2\/2 files/);
    }
    const quiet = await onTerminal(["run", "--quiet", "--config", fx.config], {});
    assert.equal(quiet.code, 0, quiet.text);
    assert.equal(quiet.text, "");
  });
} else {
  console.log("skipped terminal test: util-linux 'script' (for a pseudo-terminal) not found");
}

Deno.test("log rotation: two jobs sharing a log_dir each rotate their own logs, never another's or a file merely named so", async () => {
  using fx = makeFixture(TREE, { log_retention: 2 });
  const other = join(fx.dir, "other.jsonc");
  writeConfig(other, {
    sources: ["./source"],
    backup_root: "./backup2",
    log_dir: "./logs",
    log_retention: 2,
  });
  const notOurs = join(fx.logs, "2001-01-01T00-00-00.000Z-run.log");
  Deno.mkdirSync(fx.logs, { recursive: true });
  Deno.writeTextFileSync(notOurs, "someone's own notes\n");
  for (let i = 0; i < 3; i++) assert.equal((await fx.cli("run")).code, 0);
  for (let i = 0; i < 3; i++) {
    assert.equal((await runCli(["run", "--config", other])).code, 0);
  }
  const logs = [...Deno.readDirSync(fx.logs)].map((e) => e.name).sort();
  const rootOf = (name: string) =>
    /for backup root '(.*)'$/m.exec(Deno.readTextFileSync(join(fx.logs, name)))?.[1];
  const roots = logs.map(rootOf).filter((r) => r !== undefined).map((r) => r!.slice(fx.dir.length));
  assert.deepEqual(roots.sort(), ["/backup", "/backup", "/backup2", "/backup2"]);
  assert.equal(Deno.readTextFileSync(notOurs), "someone's own notes\n");
});

/** The tool run with its standard output on `/dev/full` (every write fails: disk full). */
async function withStdoutFull(args: string[]): Promise<{ code: number; stderr: string }> {
  const out = await onFull(args, ">");
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/** The tool's command line, program first. */
function toolArgs(args: string[]): string[] {
  const { cmd, args: full } = toolCommand(args);
  return [cmd, ...full];
}

/** The tool run with `>` (stdout) or `2>` (stderr) on `/dev/full`. */
function onFull(args: string[], redirect: ">" | "2>"): Promise<Deno.CommandOutput> {
  const { cmd, args: full } = toolCommand(args);
  const quoted = [cmd, ...full].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
  return new Deno.Command("sh", {
    args: ["-c", `${quoted} ${redirect} /dev/full`],
    cwd: REPO,
    stdout: redirect === ">" ? "null" : "piped",
    stderr: redirect === ">" ? "piped" : "null",
    env: { NO_COLOR: "1" },
  }).output();
}

Deno.test({
  name: "stderr on a full disk (2>> a log on a full disk): exit codes and --json stand",
  ignore: Deno.build.os !== "linux", // /dev/full
  fn: async () => {
    using fx = makeFixture(TREE);
    const bad = join(fx.dir, "bad.jsonc");
    Deno.writeTextFileSync(bad, Deno.readTextFileSync(fx.config).replace("{", '{"bogus": 1,'));
    assert.equal((await onFull(["run", "-q", "--config", bad], "2>")).code, 2);
    assert.deepEqual([...Deno.readDirSync(fx.dir)].map((e) => e.name).includes("backup"), false);
    // A file it cannot back up (a name not valid UTF-8): its ERROR line is lost, the exit
    // code and the document are not (before, the failed write ended the run with exit 1
    // and no document).
    const made = await new Deno.Command("bash", {
      args: ["-c", `touch "$1/bad-$(printf '\\377')"`, "_", fx.source],
    }).output();
    assert.ok(made.success);
    const r = await onFull(["run", "--json", "--config", fx.config], "2>");
    const doc = JSON.parse(new TextDecoder().decode(r.stdout));
    assert.deepEqual([r.code, doc.exitCode, doc.errors.length], [1, 1, 1]);
    assert.equal(doc.counts.backup, Object.keys(TREE).length);
  },
});

Deno.test({
  name: "stdout on a full disk: run and restore do their whole work, say so in one line, exit 1",
  ignore: Deno.build.os !== "linux", // /dev/full
  fn: async () => {
    const tree: Record<string, string> = {};
    for (let i = 0; i < 1200; i++) tree[`d${i % 9}/f${i}.txt`] = `file ${i}\n`;
    using fx = makeFixture(tree);
    const full =
      /^Cannot write to standard output: .*No space left on device.*: the command ran to its end, only what it printed was cut short\n$/;
    for (const json of [[], ["--json"]]) {
      writeTree(fx.source, { "new.txt": `new ${json}\n` });
      const r = await withStdoutFull(["run", ...json, "--config", fx.config]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, full);
      assert.equal(Deno.readTextFileSync(join(fx.backup, "new.txt")), `new ${json}\n`);
      assert.match(fx.lastLog().at(-1)!, /Run complete/);
    }
    // A restore prints a line per file: the first write fails, and every file is restored,
    // no temporary file left.
    const to = join(fx.dir, "restored");
    const r = await withStdoutFull(["restore", "--to", to, "--config", fx.config]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, full);
    const restored = readTree(to);
    assert.equal(Object.keys(restored).length, 1201);
    assert.ok(!Object.keys(restored).some((p) => p.includes(".backup-tool-restore-")));
    assert.equal(restored["d3/f3.txt"], "file 3\n");
  },
});

Deno.test("another program's SQLite database in place of the state: every command exits 2, nothing taken over", async () => {
  using fx = makeFixture(TREE);
  assert.equal((await fx.cli("run")).code, 0);
  const db = join(fx.backup, ".backup-tool", "state.db");
  Deno.removeSync(db);
  const other = new DatabaseSync(db);
  other.exec("PRAGMA journal_mode = WAL"); // a reader of a WAL database makes -wal and -shm
  other.exec("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)");
  other.close();
  const before = Deno.readFileSync(db);
  const listing = () =>
    [...Deno.readDirSync(join(fx.backup, ".backup-tool"))].map((e) => e.name).sort();
  const files = listing();
  const cases = [["plan"], ["verify"], ["history", "a.txt"], ["run"], ["verify", "--repair"]];
  for (const args of cases) {
    const r = await fx.cli(...args);
    assert.equal(r.code, 2, `${args}: ${r.stderr}`);
    assert.ok(
      r.stderr.startsWith(
        `Cannot read backup state '${db}': it holds no state of this tool (another program's`,
      ),
      r.stderr,
    );
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.deepEqual(listing(), files, `${args}: something was made beside the state`);
  }
  assert.deepEqual(Deno.readFileSync(db), before, "the database was changed");
});

Deno.test("an empty state (a first run killed before its first commit): plan and run agree, verify and verify --repair find no backup, a new state starts", async () => {
  using fx = makeFixture(TREE);
  const stateDir = join(fx.backup, ".backup-tool");
  Deno.mkdirSync(join(fx.backup, "lost+found"), { recursive: true }); // a fresh disk's
  Deno.mkdirSync(stateDir);
  Deno.writeFileSync(join(stateDir, "state.db"), new Uint8Array(0));
  const plan = await fx.cli("plan");
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /Plan: 2 new/);
  const verify = await fx.cli("verify");
  assert.equal(verify.code, 2, verify.stderr);
  assert.match(verify.stderr, /no backup state found .*: run a backup first/);
  // verify --repair finds no backup either: it neither makes a state of the empty one nor
  // calls it intact, and makes no log.
  const repair = await fx.cli("verify", "--repair");
  assert.equal(repair.code, 2, repair.stdout + repair.stderr);
  assert.match(repair.stderr, /no backup state found .*: run a backup first/);
  assert.equal(Deno.statSync(join(stateDir, "state.db")).size, 0);
  assert.deepEqual(fx.logLines(), []);
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await fx.cli("verify")).code, 0);
});

Deno.test("verify --repair on a state a killed first run left empty, its lock record beside it: exit 2, nothing changed", async () => {
  using fx = makeFixture(TREE);
  const stateDir = join(fx.backup, ".backup-tool");
  Deno.mkdirSync(join(stateDir, "tmp"), { recursive: true });
  Deno.writeFileSync(join(stateDir, "state.db"), new Uint8Array(0));
  Deno.writeTextFileSync(join(stateDir, "lock"), DEAD_HOLDER_RECORD);
  const longAgo = new Date("2020-01-02T03:04:05.678Z");
  for (const path of ["lock", "tmp", ""]) Deno.utimeSync(join(stateDir, path), longAgo, longAgo);
  const before = fingerprint(fx.backup);
  const repair = await fx.cli("verify", "--repair");
  assert.equal(repair.code, 2, repair.stdout + repair.stderr);
  assert.match(repair.stderr, /no backup state found .*: run a backup first/);
  assert.deepEqual(fingerprint(fx.backup), before);
  assert.equal(Deno.statSync(stateDir).mtime?.getTime(), longAgo.getTime());
  assert.equal(Deno.statSync(join(stateDir, "lock")).mtime?.getTime(), longAgo.getTime());
  assert.ok(!exists(fx.logs), "a log was made");
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  assert.ok(loggedDeadHolderTakeover(fx.lastLog()), fx.lastLog().join("\n"));
});

Deno.test("verify --repair while a first run holds the lock, nothing committed yet (no state, or one a killed first run left empty): exit 3, not 'no backup'", async () => {
  for (const leftEmpty of [false, true]) {
    using fx = makeFixture(TREE);
    const stateDir = join(fx.backup, ".backup-tool");
    if (leftEmpty) {
      Deno.mkdirSync(stateDir, { recursive: true });
      Deno.writeFileSync(join(stateDir, "state.db"), new Uint8Array(0));
    }
    // Held where it holds the lock and has not opened its state yet.
    await using first = await pausedRun(["run", "--config", fx.config], "locked:1", fx.dir);
    const repair = await fx.cli("verify", "--repair");
    assert.equal(repair.code, 3, `${leftEmpty}: ${repair.stdout}${repair.stderr}`);
    assert.match(repair.stderr, /^Cannot lock backup root: a run \(pid \d+ .*\) holds '/);
    first.resume();
    const done = await first.child.output();
    assert.equal(done.code, 0, new TextDecoder().decode(done.stderr));
    const again = await fx.cli("verify", "--repair");
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /Repair: 0 repaired, 0 not repaired, 0 unknown file\(s\): intact/);
  }
});

Deno.test("another program's database with a user_version of its own, or its commits still in a WAL: refused, left byte for byte", async () => {
  for (const shape of ["versioned", "wal"]) {
    using fx = makeFixture(TREE);
    assert.equal((await fx.cli("run")).code, 0);
    const db = join(fx.backup, ".backup-tool", "state.db");
    Deno.removeSync(db);
    const other = new DatabaseSync(db);
    try {
      if (shape === "wal") {
        other.exec("PRAGMA journal_mode = WAL");
        other.exec("PRAGMA wal_autocheckpoint = 0"); // its commits stay in the WAL
      } else other.exec("PRAGMA user_version = 3");
      other.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)");
      other.exec("INSERT INTO notes (text) VALUES ('mine')");
      const files = () =>
        [...Deno.readDirSync(join(fx.backup, ".backup-tool"))].filter((e) =>
          e.name.startsWith("state")
        )
          .map((e) => [e.name, Deno.readFileSync(join(fx.backup, ".backup-tool", e.name)).length]);
      const before = [Deno.readFileSync(db), files()];
      for (const args of [["run"], ["verify"], ["plan"], ["verify", "--repair"]]) {
        const r = await fx.cli(...args);
        assert.equal(r.code, 2, `${shape} ${args}: ${r.stderr}`);
        assert.match(
          r.stderr,
          /it holds no state of this tool \(another program's SQLite database\)/,
        );
        assert.deepEqual([Deno.readFileSync(db), files()], before, `${shape} ${args}: changed`);
      }
    } finally {
      other.close();
    }
  }
});

/** Every entry under `dir` (symlinks not followed), sorted. */
function entriesUnder(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(join(dir, prefix))) {
    const rel = join(prefix, e.name);
    out.push(rel);
    if (e.isDirectory) out.push(...entriesUnder(dir, rel));
  }
  return out.sort();
}

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

Deno.test("an error naming an argument that holds a newline is still one line (exit 2)", async () => {
  using fx = makeFixture(TREE);
  assert.equal((await fx.cli("run")).code, 0);
  const before = entriesUnder(fx.dir);
  const cases: [string[], RegExp][] = [
    [["restore", "--to", join(fx.backup, "a\nb")], /^Cannot restore into '.*a\\nb': it is inside/],
    [["restore", "--at", "2026\nx"], /^Invalid --at value '2026\\nx'/],
    [["bo\ngus"], /^Unknown command 'bo\\ngus'/],
  ];
  for (const [args, pattern] of cases) {
    const r = await fx.cli(...args);
    assertUsage(r, pattern);
    assert.equal(r.stderr.split("\n").length, 2, r.stderr); // one line and its newline
  }
  assert.deepEqual(entriesUnder(fx.dir), before);
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

/**
 * End-to-end tests of what the tool prints, through the real tool: no ANSI escapes on
 * pipes, `--json` purity (one document on stdout, errors on stderr), the progress line and
 * colours on a pseudo-terminal (via util-linux `script`, where available; none with
 * NO_COLOR, nothing with --quiet), and stdout or stderr on a full disk (`/dev/full`), which
 * never stops the work nor changes an exit code or a `--json` document.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type CliResult,
  makeFixture,
  readTree,
  REPO,
  runCli,
  toolCommand,
  writeTree,
} from "./helpers.ts";
import { type Env, spawn, TREE } from "./cli_helpers.ts";

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[/;

/** Runs the tool on pipes with `env` changes. */
function runEnv(args: string[], env: Env): Promise<CliResult> {
  const { cmd, args: full } = toolCommand(args);
  return spawn(cmd, full, env);
}

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

/** The tool run with its standard output on `/dev/full` (every write fails: disk full). */
async function withStdoutFull(args: string[]): Promise<{ code: number; stderr: string }> {
  const out = await onFull(args, ">");
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
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

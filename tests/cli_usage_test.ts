/**
 * End-to-end tests of the CLI's words to its user, through the real tool: help for every
 * command, --version, unknown commands and flags (exit 2, did-you-mean), a `--config` that
 * is no regular file refused at once, and errors naming an argument kept on one line.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { VERSION } from "../src/version.ts";
import { signalExitCode } from "../src/watch/signals.ts";
import { makeFixture, REPO, runCli, toolCommand, writeTree } from "./helpers.ts";
import { assertUsage, entriesUnder, TREE } from "./cli_helpers.ts";

function commandNames(help: string): string[] {
  const block = help.split("Commands:\n")[1].split("\n\n")[0];
  return block.split("\n").map((l) => l.trim().split(/\s+/)[0]);
}

/** The tool's command line, program first. */
function toolArgs(args: string[]): string[] {
  const { cmd, args: full } = toolCommand(args);
  return [cmd, ...full];
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

/** The options a command's `--help` lists under "Options:", long and short (`--quiet`, `-q`). */
function helpOptions(help: string): string[] {
  const block = help.split("Options:\n")[1].split("\n\n")[0];
  // The option column: `--quiet, -q`, `-V, --version`, `--to DIR` (its short form counted too).
  return [...block.matchAll(/^ {2}(-[-\w]+(?:, -[-\w]+)?)/gm)].flatMap((m) =>
    m[1].match(/-[-\w]+/g)!
  );
}

/** The code spans of some markdown: `--to DIR`, `restore [PATH...]`. */
function codeSpans(text: string): string[] {
  return [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
}

/**
 * Whether a block of docs/commands.md (a paragraph, or a table row) gives `option` for the
 * command `name`: the option in a code span, in a block that says it of every command or
 * names the command: a row in its first cell (the row of `plan` names `run` elsewhere), a
 * paragraph anywhere (`run` also takes `--rehash` …, and `plan` takes both).
 */
function gives(block: string, name: string, option: string): boolean {
  const isOption = new RegExp(`(?<![\\w-])${option}(?![\\w-])`);
  if (!codeSpans(block).some((span) => isOption.test(span))) return false;
  if (block.includes("Every command")) return true;
  const subject = block.startsWith("|") ? block.split("|")[1] : block;
  return codeSpans(subject).some((span) => span === name || span.startsWith(`${name} `));
}

Deno.test("help: every option a command's --help lists is in docs/commands.md, with its command", async () => {
  const doc = Deno.readTextFileSync(join(REPO, "docs", "commands.md"));
  const blocks = doc.split(/\n\s*\n|\n(?=\|)/);
  const missing: string[] = [];
  for (const name of commandNames((await runCli(["--help"])).stdout)) {
    const help = (await runCli([name, "--help"])).stdout;
    for (const option of [...helpOptions(help), "--help", "-h"]) {
      if (!blocks.some((b) => gives(b, name, option))) missing.push(`${name} ${option}`);
    }
  }
  assert.deepEqual(missing, [], "options in --help that docs/commands.md does not give");
});

/** The commands a sentence of `text` names before `words` (`run`, `plan` and `stats` take). */
function namedBefore(text: string, words: string): string[] {
  const flat = text.split(/\n\s*\n/).map((p) => p.replace(/\s+/g, " ")).join("\n\n");
  const at = flat.indexOf(words);
  assert.ok(at >= 0, `no ${JSON.stringify(words)}`);
  const sentence = flat.slice(0, at).split(/[.:] |\n\n/).at(-1)!;
  return codeSpans(sentence).sort();
}

Deno.test("help: the commands docs/commands.md and README say take --json, --quiet and --backup-root are the ones whose --help lists it", async () => {
  const doc = Deno.readTextFileSync(join(REPO, "docs", "commands.md"));
  const readme = Deno.readTextFileSync(join(REPO, "README.md")).replace(/\s+/g, " ");
  const names = commandNames((await runCli(["--help"])).stdout);
  const taking: Record<string, string[]> = { "--json": [], "--quiet": [], "--backup-root": [] };
  for (const name of names) {
    const help = (await runCli([name, "--help"])).stdout;
    for (const option of helpOptions(help)) taking[option]?.push(name);
  }
  const sorted = (list: string[]) => [...list].sort();
  const once = (list: string[]) => sorted(list.filter((n) => n !== "watch"));
  // `watch --json` prints an object a line, said apart; `init --backup-root PATH` is the
  // new config's folder, not a backup read without a config.
  assert.deepEqual(namedBefore(doc, "take `--json`"), once(taking["--json"]));
  // json.md: run and plan first, then the others.
  const json = Deno.readTextFileSync(join(REPO, "docs", "json.md"));
  const others = namedBefore(json, "also take `--json`");
  assert.deepEqual([...others, "plan", "run"].sort(), once(taking["--json"]));
  assert.ok(taking["--json"].includes("watch") && doc.includes("`watch --json` one JSON object"));
  assert.deepEqual(namedBefore(doc, "take `--quiet` (`-q`)"), sorted(taking["--quiet"]));
  const readBackup = taking["--backup-root"].filter((n) => n !== "init");
  assert.deepEqual(namedBefore(doc, "take `--backup-root DIR` instead"), sorted(readBackup));
  const bullet = (option: string) => readme.split(`- ${option}: `)[1].split(" - ")[0];
  assert.deepEqual(codeSpans(bullet("`--json`").split(";")[0]).sort(), once(taking["--json"]));
  const quietless = codeSpans(bullet("`--quiet` (`-q`)").split(";")[0]).sort();
  assert.deepEqual(quietless, sorted(names.filter((n) => !taking["--quiet"].includes(n))));
  assert.deepEqual(
    codeSpans(bullet("`--backup-root DIR`").split(" without")[0]).sort(),
    sorted(readBackup),
  );
});

Deno.test("help: README's and docs/commands.md's command tables list exactly the commands --help lists", async () => {
  const names = commandNames((await runCli(["--help"])).stdout).sort();
  for (const page of ["README.md", join("docs", "commands.md")]) {
    const text = Deno.readTextFileSync(join(REPO, page));
    const table = text.split("| command ")[1].split("\n\n")[0];
    const listed = [...table.matchAll(/^\| `(\w+)/gm)].map((m) => m[1]).sort();
    assert.deepEqual(listed, names, page);
  }
});

Deno.test("help: every command's --help gives its exit codes, 0 and 2 among them", async () => {
  const without: string[] = [];
  for (const name of commandNames((await runCli(["--help"])).stdout)) {
    const help = (await runCli([name, "--help"])).stdout.replace(/\s+/g, " ");
    if (!/Exit codes: 0 [^]*\b2 /.test(help)) without.push(name);
  }
  assert.deepEqual(without, []);
});

Deno.test("help: each command's Usage line gives every option its --help lists", async () => {
  const missing: string[] = [];
  for (const name of commandNames((await runCli(["--help"])).stdout)) {
    const help = (await runCli([name, "--help"])).stdout;
    const usage = help.split("\n\n")[0];
    for (const option of helpOptions(help).filter((o) => o.startsWith("--"))) {
      if (!new RegExp(`(?<![\\w-])${option}(?![\\w-])`).test(usage)) {
        missing.push(`${name} ${option}`);
      }
    }
  }
  assert.deepEqual(missing, []);
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
  // An option from another command, or from rsync and restic: what this command does instead.
  assertUsage(
    await runCli(["ls", "a.txt", "--version", "2"]),
    /^Unknown option '--version' for 'ls' \(ls takes none: 'history PATH' lists a file's contents\): see 'ls --help'\n$/,
  );
  for (const dry of ["--dry-run", "-n"]) {
    assertUsage(
      await runCli(["purge", "a.txt", dry]),
      new RegExp(`^Unknown option '${dry}' for 'purge' \\(without --yes, purge only lists\\): `),
    );
  }
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

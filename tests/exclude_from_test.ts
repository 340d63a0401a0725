/**
 * `exclude_from`, files of exclude patterns, through the real CLI: a run and a plan leave out
 * what a file lists as they leave out the same patterns in `exclude` (a file saved on
 * Windows too); a file missing or a bad pattern in one refuses the command (exit 2, one line,
 * nothing made); a file's pattern that takes out a file backed up before is said as an
 * `exclude` one is (run, find, stats, restore, history, purge); a watch says an edit of the
 * file, and applies it once started again.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  fingerprint,
  type Fixture,
  listFiles,
  makeFixture,
  poll,
  runCli,
  writeConfig,
} from "./helpers.ts";
import { backedUp, WatchProcess } from "./watch_helpers.ts";

const TREE = {
  "a.txt": "a\n",
  "b.tmp": "b\n",
  "keep.tmp": "kept\n",
  "#notes#": "n\n",
  "cache/c.bin": "c\n",
  "docs/cache/d.txt": "d\n",
  "spaced ": "s\n",
};

/** The patterns both fixtures leave out: a comment, a blank line and trailing spaces among them. */
const PATTERNS = ["*.tmp", "\\#notes#", "cache/   ", "spaced\\ "];

/** The fixture's config with `extra`, the fixture's paths kept. */
function configure(fx: Fixture, extra: Record<string, unknown>): void {
  writeConfig(fx.config, {
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    ...extra,
  });
}

/** The files of a backup, without its state. */
function backupFiles(fx: Fixture): string[] {
  return listFiles(fx.backup).filter((p) => !p.startsWith(".backup-tool"));
}

/** The paths a plan's output names, sorted. */
function planned(stdout: string): string[] {
  return stdout.split("\n").filter((l) => l.startsWith("BACKUP: ")).sort();
}

Deno.test("run and plan: a file of exclude_from leaves out what the same patterns in exclude leave out", async () => {
  using byFile = makeFixture(TREE);
  using byKey = makeFixture(TREE);
  Deno.writeTextFileSync(
    join(byFile.dir, "exclude.txt"),
    `# shared by every machine\n\n${PATTERNS.join("\n")}\n`,
  );
  configure(byFile, { exclude_from: ["./exclude.txt"], exclude: ["!keep.tmp"] });
  configure(byKey, { exclude: [...PATTERNS, "!keep.tmp"] });
  const plans = [];
  for (const fx of [byFile, byKey]) {
    const plan = await fx.cli("plan");
    assert.equal(plan.code, 0, plan.stderr);
    plans.push(planned(plan.stdout));
    const run = await fx.cli("run");
    assert.equal(run.code, 0, run.stderr);
  }
  assert.deepEqual(plans[0], plans[1]);
  assert.deepEqual(backupFiles(byFile), backupFiles(byKey));
  assert.deepEqual(backupFiles(byFile), ["a.txt", "keep.tmp"]);
});

Deno.test("run: a file of exclude_from saved on Windows (CR LF, a BOM) is read line by line as the same file with LF", async () => {
  using fx = makeFixture(TREE);
  const list = join(fx.dir, "exclude.txt");
  Deno.writeTextFileSync(list, `\uFEFF# saved on Windows\r\n\r\n${PATTERNS.join("\r\n")}\r\n`);
  configure(fx, { exclude_from: ["exclude.txt"] });
  const run = await fx.cli("run");
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(backupFiles(fx), ["a.txt"]);
  // A bad pattern in it is named by its line, without the CR.
  Deno.writeTextFileSync(list, "\uFEFF# saved on Windows\r\n*.tmp\r\n[abc\r\n");
  const refused = await fx.cli("run");
  assert.equal(refused.code, 2, refused.stdout);
  assert.equal(
    refused.stderr,
    `Cannot load config '${fx.config}': 'exclude_from[0]' '[abc' (line 3 of '${list}') has a ` +
      "'[' that no ']' closes, which matches nothing: write '\\[' to match the character itself\n",
  );
});

Deno.test("run, plan and watch: a file of exclude_from missing or a folder is refused, exit 2, in one line, nothing made", async () => {
  using fx = makeFixture(TREE);
  const cases: [unknown, string][] = [
    [
      "./nope.txt",
      `'exclude_from[0]' cannot read '${join(fx.dir, "nope.txt")}': it does not exist: create ` +
      "it, or remove it from 'exclude_from'",
    ],
    [
      "./source",
      `'exclude_from[0]' cannot read '${join(fx.dir, "source")}': it is a folder: give the ` +
      "path of a file of exclude patterns, one a line",
    ],
  ];
  for (const [path, says] of cases) {
    configure(fx, { exclude_from: [path] });
    const before = fingerprint(fx.dir);
    for (const command of ["run", "plan", "watch"]) {
      const r = await fx.cli(command);
      assert.equal(r.code, 2, `${command}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stderr, `Cannot load config '${fx.config}': ${says}\n`, command);
      assert.deepEqual(fingerprint(fx.dir), before, command);
    }
  }
});

Deno.test("run: a bad pattern in a file of exclude_from is refused naming the file and its line, nothing made", async () => {
  using fx = makeFixture(TREE);
  const list = join(fx.dir, "exclude.txt");
  Deno.writeTextFileSync(list, "# list\n*.tmp\n\nlogs/[z-a]/\n");
  configure(fx, { exclude_from: ["exclude.txt"] });
  const before = fingerprint(fx.dir);
  const r = await fx.cli("run");
  assert.equal(r.code, 2, r.stdout);
  assert.equal(
    r.stderr,
    `Cannot load config '${fx.config}': 'exclude_from[0]' 'logs/[z-a]/' (line 4 of '${list}') ` +
      "has a backwards range 'z-a', which stands for 'z' alone: write 'a-z'\n",
  );
  assert.deepEqual(fingerprint(fx.dir), before);
});

Deno.test("a file of exclude_from taking out a file backed up before: said, found, counted, restored and purged as by exclude", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "x.tmp": "x\n" });
  const list = join(fx.dir, "exclude.txt");
  Deno.writeTextFileSync(list, "# nothing yet\n");
  configure(fx, { exclude_from: ["exclude.txt"] });
  assert.equal((await fx.cli("run")).code, 0);
  Deno.writeTextFileSync(list, "# nothing yet\n*.tmp\n");
  const run = await fx.cli("run");
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /\n1 file\(s\) newly excluded: no longer backed up; their copies stay/);
  assert.ok(
    fx.lastLog().includes("EXCLUDED: source/x.tmp (now excluded; its copy stays at backup/x.tmp)"),
  );
  const found = JSON.parse((await fx.cli("find", "*", "--state", "excluded", "--json")).stdout);
  assert.deepEqual(found.matches.map((m: { path: string }) => m.path), ["source/x.tmp"]);
  assert.deepEqual(JSON.parse((await fx.cli("stats", "--json")).stdout).excluded, {
    files: 1,
    copies: 1,
    bytes: 2,
  });
  const leftOut = "the config leaves it out: an exclude pattern, a folder's tag, " +
    "one_file_system or exclude_larger_than";
  const restore = await fx.cli("restore", "x.tmp", "--to", join(fx.dir, "out"));
  assert.equal(restore.code, 0, restore.stderr);
  assert.ok(restore.stderr.startsWith(`WARNING: 'source/x.tmp' is excluded (${leftOut}): `));
  const history = await fx.cli("history", "x.tmp");
  assert.ok(history.stderr.startsWith(`WARNING: 'source/x.tmp' is excluded (${leftOut}; taken`));
  // The pattern taken out of the file: the next run backs it up again, so purge refuses.
  Deno.writeTextFileSync(list, "# nothing now\n");
  const refused = await fx.cli("purge", "x.tmp");
  assert.equal(refused.code, 2, refused.stdout);
  assert.match(refused.stderr, /nothing in the config leaves it out any more/);
  // Put back: purged.
  Deno.writeTextFileSync(list, "*.tmp\n");
  const purged = await fx.cli("purge", "x.tmp", "--yes");
  assert.equal(purged.code, 0, purged.stderr);
  assert.deepEqual(backupFiles(fx), ["a.txt"]);
});

Deno.test("restore, history, find and stats work where a file of exclude_from is lost; purge refuses it", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "x.tmp": "x\n" });
  const list = join(fx.source, ".backupignore"); // kept in the source, lost with it
  Deno.writeTextFileSync(list, "*.tmp\n");
  configure(fx, { exclude_from: ["./source/.backupignore"] });
  assert.equal((await fx.cli("run")).code, 0);
  Deno.removeSync(fx.source, { recursive: true });
  const out = join(fx.dir, "out");
  const restore = await fx.cli("restore", "--to", out);
  assert.equal(restore.code, 0, restore.stderr);
  assert.equal(Deno.readTextFileSync(join(out, "a.txt")), "a\n");
  for (const args of [["history", "a.txt"], ["find", "*"], ["stats"], ["ls"]]) {
    const r = await fx.cli(...args);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  }
  // purge asks the patterns: the file is said, as a run says it.
  const purge = await fx.cli("purge", "a.txt");
  assert.equal(purge.code, 2, purge.stdout);
  assert.equal(
    purge.stderr,
    `Cannot load config '${fx.config}': 'exclude_from[0]' cannot read '${list}': it does not ` +
      "exist: create it, or remove it from 'exclude_from'\n",
  );
});

Deno.test("watch: a file of exclude_from edited into one refused is said with its line, and the watch goes on with the patterns it has", async () => {
  using fx = makeFixture({ "a.txt": "a\n" }, { watch: { debounce_ms: 200, rescan_interval: 0 } });
  const list = join(fx.dir, "exclude.txt");
  Deno.writeTextFileSync(list, "*.tmp\n");
  const config = JSON.parse(Deno.readTextFileSync(fx.config));
  Deno.writeTextFileSync(fx.config, JSON.stringify({ ...config, exclude_from: ["exclude.txt"] }));
  await using w = new WatchProcess(fx);
  await w.ready();
  Deno.writeTextFileSync(list, "*.tmp\n*.log\n[abc\n");
  // The backslash of the remedy written escaped, as every line of the log and stderr is.
  const refused = `WARNING: Cannot load config '${fx.config}': 'exclude_from[0]' '[abc' (line 3 ` +
    `of '${list}') has a '[' that no ']' closes, which matches nothing: write '\\\\[' to match ` +
    "the character itself (the config was edited while this watch runs: the watch goes on " +
    "with the config it has, and applies it once it loads: at its next change, or once a folder or file it names is there)";
  await poll("the warning", () => w.stderr.includes(refused));
  // The patterns it has: x.log backed up, y.tmp left out.
  Deno.writeTextFileSync(join(fx.source, "y.tmp"), "y\n");
  Deno.writeTextFileSync(join(fx.source, "x.log"), "x\n");
  await backedUp(fx.backup, "x.log", "x\n");
  Deno.writeTextFileSync(list, "*.tmp\n*.log\n"); // fixed: applied
  const excluded = "EXCLUDED: source/x.log (now excluded; its copy stays at backup/x.log)";
  await poll("the exclusion", () => fx.lastLog().includes(excluded));
  assert.equal((await w.stop()).code, 0);
  assert.ok(fx.logLines().includes(refused), fx.logLines().join("\n"));
  assert.deepEqual(backupFiles(fx), ["a.txt", "x.log"]);
});

Deno.test("init: the config it writes holds exclude_from, commented, after exclude", async () => {
  const dir = Deno.realPathSync(Deno.makeTempDirSync({ prefix: "bt-exclude-from-init-" }));
  try {
    const file = join(dir, "config.jsonc");
    const init = await runCli(["init", "--config", file]);
    assert.equal(init.code, 0, init.stderr);
    const text = Deno.readTextFileSync(file);
    assert.match(text, /\n {2}"exclude": \[\],\n(?: {2}\/\/.*\n)+ {2}"exclude_from": \[\],\n/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

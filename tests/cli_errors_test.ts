/**
 * Paths the CLI is given that run below a regular file (`--config notes.txt/config.jsonc`):
 * every command says which part is a file, in the project's words, never the system's
 * "Not a directory (os error 20)", exits 2 and creates nothing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { listTree } from "../src/config/test_util.ts";
import { runCli, writeConfig } from "./helpers.ts";

/** A scratch folder holding a source with one file and a regular file `notes.txt`. */
function scratch(): { dir: string; file: string; [Symbol.dispose](): void } {
  const dir = Deno.realPathSync(Deno.makeTempDirSync({ prefix: "bt-cli-errors-" }));
  Deno.mkdirSync(join(dir, "source"));
  Deno.writeTextFileSync(join(dir, "source", "a.txt"), "a\n");
  const file = join(dir, "notes.txt");
  Deno.writeTextFileSync(file, "not a folder\n");
  return { dir, file, [Symbol.dispose]: () => Deno.removeSync(dir, { recursive: true }) };
}

function assertRefused(r: { code: number; stdout: string; stderr: string }, line: string) {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr, `${line}\n`);
  assert.doesNotMatch(r.stderr, /os error|Not a directory/);
}

Deno.test("--config below a regular file: every command names the file, exit 2, nothing made", async () => {
  using s = scratch();
  const config = join(s.file, "config.jsonc");
  const before = listTree(s.dir);
  const line = `Cannot read config '${config}': '${s.file}' is a file, not a folder: check ` +
    "the path, or pass --config FILE naming the config file";
  const commands = [
    ["run"],
    ["plan"],
    ["watch"],
    ["restore", "--to", join(s.dir, "out")],
    ["history", "a.txt"],
    ["ls"],
    ["verify"],
    ["verify", "--repair"],
  ];
  for (const args of commands) {
    // Relative, as typed in a shell, and absolute: both name the file by its full path.
    for (const given of ["notes.txt/config.jsonc", config]) {
      const r = await runCli([...args, "--config", given], { cwd: s.dir });
      assertRefused(r, line);
      assert.deepEqual(listTree(s.dir), before, args.join(" "));
    }
  }
});

Deno.test("init, backup_root, log_dir, sources and restore --to below a regular file: named, exit 2, nothing made", async () => {
  using s = scratch();
  const below = join(s.file, "x");
  const config = join(s.dir, "config.jsonc");
  const cases: [Record<string, unknown>, string][] = [
    [
      { sources: ["./source"], backup_root: "./notes.txt/x", log_dir: "./logs" },
      `'backup_root' '${below}' is not a folder (its part '${s.file}' is a file)`,
    ],
    [
      { sources: ["./source"], backup_root: "./backup", log_dir: "./notes.txt/x" },
      `'log_dir' '${below}' is not a folder (its part '${s.file}' is a file)`,
    ],
    [
      { sources: ["./notes.txt/x"], backup_root: "./backup", log_dir: "./logs" },
      `source '${below}' (sources[0]) does not exist ('${s.file}' is a file, not a folder)`,
    ],
  ];
  for (const [value, detail] of cases) {
    writeConfig(config, value);
    const before = listTree(s.dir);
    for (const command of ["run", "plan", "watch"]) {
      const r = await runCli([command, "--config", config], { cwd: s.dir });
      assert.equal(r.code, 2, r.stderr);
      assert.ok(r.stderr.startsWith(`Cannot load config '${config}': ${detail}`), r.stderr);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /os error|Not a directory/);
      assert.deepEqual(listTree(s.dir), before);
    }
  }
  writeConfig(config, { sources: ["./source"], backup_root: "./backup", log_dir: "./logs" });
  assert.equal((await runCli(["run", "-q", "--config", config], { cwd: s.dir })).code, 0);
  const before = listTree(s.dir);
  for (const to of ["notes.txt/x", below]) {
    const r = await runCli(["restore", "--to", to, "--config", config], { cwd: s.dir });
    assertRefused(
      r,
      `Cannot restore into '${below}': it is not a folder (its part '${s.file}' is a file): ` +
        "choose a folder path",
    );
    assert.deepEqual(listTree(s.dir), before);
  }
  for (const args of [["init", "notes.txt/x"], ["init", "--config", join(below, "c.jsonc")]]) {
    const r = await runCli(args, { cwd: s.dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`'${s.file}' on its way is not a folder`));
    assert.doesNotMatch(r.stderr, /os error|Not a directory/);
    assert.deepEqual(listTree(s.dir), before);
  }
});

/**
 * Tests of the flags the tool runs with: the compiled binary is built with the permissions
 * the suite runs the tool with, the tool works without FFI and /proc/self (the fallbacks of
 * macOS and musl), and `deno task backup` and `watch` take the binary's V8 flags.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { VERSION } from "../src/version.ts";
import { permissionFlags, REPO as SCRIPTS_REPO, v8Flags } from "../scripts/compile_all.ts";
import { MAIN, makeFixture, RESTRICTED_PERMISSIONS } from "./helpers.ts";
import { spawn, TREE } from "./cli_helpers.ts";

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

/**
 * Smoke test of the standalone binary: --version, init, run, plan --json and a second run,
 * against the compiled tool. The binary is BACKUP_TOOL_BIN when set; otherwise it is built
 * into a temporary folder with deno.json's compile flags, when `deno compile` can work
 * offline: DENORT_BIN names a denort runtime, or the runtime for this platform is already
 * cached in DENO_DIR/dl. Without any of them the test is not registered (the build
 * machines cannot download denort) and a clear skip message is printed instead.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { compileFlags } from "../scripts/compile_all.ts";
import { VERSION } from "../src/version.ts";
import { MAIN, makeFixture, REPO } from "./helpers.ts";

type Source = { kind: "bin"; path: string } | { kind: "build"; denort?: string };

function isFile(path: string | undefined): path is string {
  try {
    return path !== undefined && Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Where `deno compile` caches this platform's denort for this Deno version. */
function cachedDenort(): string | undefined {
  try {
    const out = new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stderr: "null" })
      .outputSync();
    const denoDir: string = JSON.parse(new TextDecoder().decode(out.stdout)).denoDir;
    const zip = join(
      denoDir,
      "dl",
      "release",
      `v${Deno.version.deno}`,
      `denort-${Deno.build.target}.zip`,
    );
    return isFile(zip) ? zip : undefined;
  } catch {
    return undefined;
  }
}

function binarySource(): Source | undefined {
  const bin = Deno.env.get("BACKUP_TOOL_BIN");
  if (bin) return { kind: "bin", path: bin };
  const denort = Deno.env.get("DENORT_BIN");
  if (isFile(denort)) return { kind: "build", denort };
  return cachedDenort() ? { kind: "build" } : undefined;
}

async function build(dir: string, denort?: string): Promise<string> {
  const output = join(dir, Deno.build.os === "windows" ? "backup-tool.exe" : "backup-tool");
  const env: Record<string, string> = denort ? { DENORT_BIN: denort } : {};
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["compile", ...compileFlags(), "--output", output, MAIN],
    cwd: REPO,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `Failed to compile the binary: ${err}`);
  return output;
}

async function exec(bin: string, args: string[], cwd: string) {
  const out = await new Deno.Command(bin, {
    args,
    cwd,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function smoke(bin: string): Promise<void> {
  using fx = makeFixture({ "one.txt": "hello world\n", "one_copy.txt": "hello world\n" });
  const version = await exec(bin, ["--version"], fx.dir);
  assert.equal(
    version.stdout,
    `backup-tool ${VERSION}\n`,
    `The binary '${bin}' is not this tool's build: a plain 'deno' given as DENORT_BIN ` +
      `yields a copy of deno; point DENORT_BIN at a denort runtime`,
  );
  const config = ["--config", fx.config];
  const first = await exec(bin, ["run", ...config], fx.dir);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /1 new, 0 updated, 1 duplicate/);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "one.txt")), "hello world\n");
  Deno.writeTextFileSync(join(fx.source, "two.txt"), "two\n");
  const plan = await exec(bin, ["plan", "--json", ...config], fx.dir);
  assert.equal(plan.code, 0, plan.stderr);
  assert.equal(JSON.parse(plan.stdout).counts.backup, 1);
  const second = await exec(bin, ["run", ...config], fx.dir);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /1 new, 0 updated, 0 duplicate, 2 unchanged/);
  const init = await exec(bin, ["init", "fresh"], fx.dir);
  assert.equal(init.code, 0, init.stderr);
  const usage = await exec(bin, ["rn"], fx.dir);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /did you mean 'run'/);
}

const source = binarySource();
if (source === undefined) {
  console.log("binary_test: skipped: no compiled binary (set BACKUP_TOOL_BIN or DENORT_BIN)");
} else {
  Deno.test("standalone binary: --version, run, plan --json, init and usage errors", async () => {
    if (source.kind === "bin") return await smoke(source.path);
    const dir = Deno.makeTempDirSync({ prefix: "bt-bin-" });
    try {
      await smoke(await build(dir, source.denort));
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

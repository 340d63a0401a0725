/**
 * Helpers shared by the CLI tests (cli_usage, cli_init, cli_output, state_file, log_rotation,
 * runtime_flags): a small source tree, a program run on pipes with a changed environment,
 * the check of a usage error (exit 2, stderr only), and a listing of every entry under a
 * folder, to show that nothing was made. Nothing here writes outside the temporary folders
 * the tests make.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type CliResult, REPO } from "./helpers.ts";

export const TREE = { "one.txt": "hello world\n", "docs/two.txt": "another file\n" };

export type Env = Record<string, string | undefined>;

/** Runs a program on pipes with `env` changes (undefined removes a variable). */
export async function spawn(
  cmd: string,
  args: string[],
  env: Env,
  cwd = REPO,
): Promise<CliResult> {
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

export function assertUsage(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, pattern);
  assert.equal(r.stdout, "");
}

/** Every entry under `dir` (symlinks not followed), sorted. */
export function entriesUnder(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(join(dir, prefix))) {
    const rel = join(prefix, e.name);
    out.push(rel);
    if (e.isDirectory) out.push(...entriesUnder(dir, rel));
  }
  return out.sort();
}

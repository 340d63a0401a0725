/**
 * Test helpers for the watcher: a Deno program run in a process of its own (a watcher
 * thread of the test process would be seen by other test files running beside it), killed
 * if it outlives a deadline, which a test then reports as a hang; and a session's config
 * reloads followed by hand (`followedReloads`), what they say collected.
 */
import { outputWithin } from "../../tests/helpers.ts";
import type { Config } from "../config/config.ts";
import { ConfigFiles } from "./config_change.ts";
import { ConfigReloads } from "./config_reload.ts";

/**
 * The reloads of a watch using `current`, whose files `files` looks at: what they say
 * (`said`, each line with its WARNING: or NOTE:), how many edits were accepted
 * (`accepted()`), and `settle()`, the two looks an edit settles in.
 */
export function followedReloads(
  current: Config,
  files: ConfigFiles = new ConfigFiles(current.file, []),
) {
  const said: string[] = [];
  let asked = 0;
  const reloads = new ConfigReloads(files, () => current, {
    warn: (m) => said.push(`WARNING: ${m}`),
    note: (m) => said.push(`NOTE: ${m}`),
  }, () => asked++);
  const settle = () => [reloads.lookNow(), reloads.lookNow()]; // an edit settles in two looks
  return { reloads, said, accepted: () => asked, settle };
}

/** What the program printed, and its exit code; undefined where it was killed as late. */
export interface ChildOutcome {
  code: number | undefined;
  stdout: string;
  stderr: string;
}

/** Runs `deno run -A program ...args`, killed (SIGKILL) after `deadlineMs`. */
export async function runChildProgram(
  program: string,
  args: string[],
  deadlineMs: number,
): Promise<ChildOutcome> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", program, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = await outputWithin(child, deadlineMs);
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  const late = out.signal === "SIGKILL";
  return { code: late ? undefined : out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/**
 * Test helpers for the watcher: a Deno program run in a process of its own (a watcher
 * thread of the test process would be seen by other test files running beside it), killed
 * if it outlives a deadline, which a test then reports as a hang.
 */
import { outputWithin } from "../../tests/helpers.ts";

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

// Process measurement and file-system helpers for the benchmark.
//
// timed() runs a command under GNU time (`/usr/bin/time -f '%e %U %S %M' -o FILE`), which reports
// wall seconds, user and system CPU seconds (the command plus all the children it waited for) and
// the peak resident set size in KiB of the largest single process in that tree. Stdout is
// discarded, stderr is captured so a failing run can be reported by its first line. The other
// helpers do the untimed preparation (copy, delete, flush) with plain coreutils/rsync. Every
// command is tied to `stop`, which the runner aborts on SIGINT/SIGTERM: that kills the command
// running then (SIGTERM), and starting another one throws, so the work file system can be
// unmounted.

import { join } from "node:path";

export const GNU_TIME = "/usr/bin/time";

/** Aborted on SIGINT/SIGTERM: kills the running command (SIGTERM); starting another throws. */
export const stop = new AbortController();

export interface Sample {
  wall: number; // seconds
  cpu: number; // user + sys seconds
  rssMiB: number;
  code: number;
  error?: string; // first non-empty stderr line when code != 0
}

export interface CmdSpec {
  argv: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Not tied to `stop`: the clean-up after an interrupt (sync, umount). */
  cleanup?: boolean;
}

/** Runs one command under GNU time. Never throws for a non-zero exit; see Sample.code. */
export async function timed(cmd: CmdSpec, scratch: string): Promise<Sample> {
  stop.signal.throwIfAborted();
  const out = join(scratch, `time-${crypto.randomUUID()}.txt`);
  const p = new Deno.Command(GNU_TIME, {
    args: ["-f", "%e %U %S %M", "-o", out, ...cmd.argv],
    env: cmd.env,
    cwd: cmd.cwd,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    signal: stop.signal,
  });
  const r = await p.output();
  const stderr = new TextDecoder().decode(r.stderr);
  let text = "";
  try {
    text = Deno.readTextFileSync(out);
    Deno.removeSync(out);
  } catch { /* time itself failed, e.g. command not found */ }
  // On a non-zero exit GNU time writes "Command exited with non-zero status N" first.
  const last = text.trim().split("\n").pop() ?? "";
  const [wall, user, sys, rssKiB] = last.split(/\s+/).map(Number);
  const sample: Sample = {
    wall: wall ?? NaN,
    cpu: (user ?? NaN) + (sys ?? NaN),
    rssMiB: (rssKiB ?? NaN) / 1024,
    code: r.code,
  };
  if (r.code !== 0) sample.error = firstLine(stderr) || `exit code ${r.code}`;
  return sample;
}

export function firstLine(s: string): string {
  // Strip ANSI colours (Deno's "error:" prefix is coloured) and return the first non-empty line.
  // deno-lint-ignore no-control-regex
  const plain = s.replace(/\x1b\[[0-9;]*m/g, "");
  return plain.split("\n").map((l) => l.trim()).find((l) => l.length > 0) ?? "";
}

/** Runs an untimed helper command; throws with its stderr if it fails. */
export async function run(cmd: CmdSpec): Promise<string> {
  if (!cmd.cleanup) stop.signal.throwIfAborted();
  const [bin, ...args] = cmd.argv;
  const r = await new Deno.Command(bin, {
    args,
    env: cmd.env,
    cwd: cmd.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: cmd.cleanup ? undefined : stop.signal,
  }).output();
  const dec = new TextDecoder();
  if (r.code !== 0) {
    const err = firstLine(dec.decode(r.stderr)) || firstLine(dec.decode(r.stdout));
    throw new Error(`${cmd.argv.slice(0, 3).join(" ")}…: ${err || `exit ${r.code}`}`);
  }
  return dec.decode(r.stdout);
}

export async function which(bin: string): Promise<string | null> {
  try {
    return (await run({ argv: ["sh", "-c", `command -v ${bin}`] })).trim() || null;
  } catch {
    return null;
  }
}

export async function rmrf(path: string): Promise<void> {
  await Deno.remove(path, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}

/** Fresh empty directory. */
export async function emptyDir(path: string): Promise<void> {
  await rmrf(path);
  await Deno.mkdir(path, { recursive: true });
}

/** `cp -a src dst` (dst must not exist): an exact copy keeping modes and mtimes. */
export async function copyTree(src: string, dst: string): Promise<void> {
  await rmrf(dst);
  await run({ argv: ["cp", "-a", src, dst] });
}

/** Make `dst` equal to `src` again (rsync quick check: only differing files are rewritten). */
export async function syncTree(src: string, dst: string): Promise<void> {
  await run({ argv: ["rsync", "-a", "--delete", `${src}/`, `${dst}/`] });
}

/** Flush dirty pages so writeback from preparation does not bleed into the timed run. */
export async function flush(): Promise<void> {
  await run({ argv: ["sync"] });
}

/** Reads every file once so the timed runs start from a warm page cache. */
export function warm(dir: string): void {
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) warm(p);
    else if (e.isFile) Deno.readFileSync(p);
  }
}

/** Number of regular files under dir, skipping top-level names in `skip`. */
export function countFiles(dir: string, skip: string[] = [], top = true): number {
  let n = 0;
  for (const e of Deno.readDirSync(dir)) {
    if (top && skip.includes(e.name)) continue;
    if (e.isDirectory) n += countFiles(join(dir, e.name), skip, false);
    else if (e.isFile) n++;
  }
  return n;
}

export function median(xs: number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

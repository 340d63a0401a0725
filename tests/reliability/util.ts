/**
 * Shared tools of the reliability suite: a seeded PRNG, the CLI as a subprocess with an
 * environment and a hard timeout (a hang is a failure, never a stuck test), content
 * snapshots of a source tree, and an independent checker of the backup root that reads
 * the layout and the state database directly (read-only) instead of trusting the tool.
 */
import { createHash } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { join, relative, sep } from "node:path";
import { REPO, signalTaken, toolCommand } from "../helpers.ts";

// ---------------------------------------------------------------------------------------
// Randomness

/** The suite's seed: RELIABILITY_SEED when set, else a fixed default (CI is reproducible). */
export function suiteSeed(fallback: number): number {
  const raw = Deno.env.get("RELIABILITY_SEED");
  return raw && /^\d+$/.test(raw) ? Number(raw) >>> 0 : fallback;
}

export interface Rng {
  seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  /** `n` pseudo-random bytes. */
  bytes(n: number): Uint8Array;
}

/** mulberry32: small, fast, good enough to drive test data and timing. */
export function rng(seed: number): Rng {
  let s = seed >>> 0;
  const u32 = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = () => u32() / 4294967296;
  return {
    seed,
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (items) => items[Math.floor(next() * items.length)],
    bytes(n) {
      const words = new Uint32Array(Math.ceil(n / 4));
      for (let i = 0; i < words.length; i++) words[i] = u32();
      return new Uint8Array(words.buffer, 0, n);
    },
  };
}

// ---------------------------------------------------------------------------------------
// Running the tool

export interface ToolResult {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface ToolOptions {
  env?: Record<string, string>;
  /** Killed (SIGKILL) and reported as a hang after this long. */
  timeoutMs?: number;
  cwd?: string;
  /** Run as another user: a command prefix such as ["setpriv", "--reuid=65534", ...]. */
  prefix?: string[];
}

/** Runs the CLI to completion; throws if it does not finish within the timeout (a hang). */
export async function runTool(args: string[], opts: ToolOptions = {}): Promise<ToolResult> {
  const child = spawnTool(args, { ...opts, output: "piped" });
  const started = performance.now();
  const timeoutMs = opts.timeoutMs ?? 60_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
  }, timeoutMs);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    const result = {
      code: out.code,
      signal: out.signal,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
      ms: Math.round(performance.now() - started),
    };
    if (timedOut) {
      throw new Error(
        `'${args.join(" ")}' hung: killed after ${timeoutMs} ms\nstdout: ${result.stdout}\n` +
          `stderr: ${result.stderr}`,
      );
    }
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/** Starts the CLI without waiting. `output: "null"` discards output (long runs, kills). */
export function spawnTool(
  args: string[],
  opts: ToolOptions & { output?: "piped" | "null" } = {},
): Deno.ChildProcess {
  const { cmd, args: full } = toolCommand(args);
  const prefix = opts.prefix ?? [];
  const command = prefix.length > 0 ? prefix[0] : cmd;
  const argv = prefix.length > 0 ? [...prefix.slice(1), cmd, ...full] : full;
  return new Deno.Command(command, {
    args: argv,
    cwd: opts.cwd ?? REPO,
    stdin: "null",
    stdout: opts.output ?? "piped",
    stderr: opts.output ?? "piped",
    env: { NO_COLOR: "1", ...opts.env },
  }).spawn();
}

/** Kills a child (if it still runs) and waits for it: never leaves a process behind. */
export async function killAndWait(
  child: Deno.ChildProcess,
  signal: Deno.Signal = "SIGKILL",
): Promise<Deno.CommandStatus> {
  try {
    child.kill(signal);
  } catch { /* already exited */ }
  return await child.status;
}

/** The `run --json` summary's counts, from a finished run. */
export function countsOf(r: ToolResult): Record<string, number> {
  try {
    return JSON.parse(r.stdout).counts;
  } catch {
    throw new Error(`not a JSON summary (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

// ---------------------------------------------------------------------------------------
// Content

export function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

export function hashWith(algo: string, data: Uint8Array | string): string {
  return createHash(algo).update(data).digest("hex");
}

/** A file's digest (streamed) or a symlink's target digest, as the tool records them. */
export function digestPath(abs: string, algo = "sha256"): string {
  const info = Deno.lstatSync(abs);
  if (info.isSymlink) return hashWith(algo, Deno.readLinkSync(abs));
  const h = createHash(algo);
  const buf = new Uint8Array(1 << 20);
  using f = Deno.openSync(abs, { read: true });
  for (let n = f.readSync(buf); n !== null; n = f.readSync(buf)) h.update(buf.subarray(0, n));
  return h.digest("hex");
}

export interface Snap {
  kind: "file" | "symlink";
  hash: string;
}

/** Every file and symlink under `root` (symlinks not followed), rel path (`/`) → digest. */
export function snapshot(root: string, skip: string[] = []): Map<string, Snap> {
  const out = new Map<string, Snap>();
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const abs = join(dir, e.name);
      const rel = relative(root, abs).split(sep).join("/");
      if (skip.includes(rel)) continue;
      if (e.isSymlink) out.set(rel, { kind: "symlink", hash: digestPath(abs) });
      else if (e.isDirectory) walk(abs);
      else if (e.isFile) out.set(rel, { kind: "file", hash: digestPath(abs) });
    }
  };
  walk(root);
  return out;
}

// ---------------------------------------------------------------------------------------
// State database (read-only)

export interface CopyRow {
  id: number;
  path: string;
  seq: number;
  kind: string;
  hash: string;
  algo: string;
  location: string;
  stored_at: string | null;
  mode: number;
  mtime_ms: number;
}

export interface FileRow {
  path: string;
  copy_id: number;
  hash: string;
  algo: string;
  kind: string;
  status: string;
  ino: number;
  mode: number;
  mtime_ms: number;
}

export interface StateDump {
  copies: CopyRow[];
  files: FileRow[];
  intents: number;
  /** Ids of the pending intents. */
  intentIds: number[];
}

/**
 * Reads the state as committed, changing nothing: read-only, or, where a crash left a hot
 * rollback journal that only a writer may roll back, from a private copy (as the tool's
 * own readers do: state/connection.ts).
 */
function withCommittedState<T>(backup: string, read: (db: DatabaseSync) => T): T {
  const file = join(backup, ".backup-tool", "state.db");
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return read(db);
  } catch (e) {
    if (!/attempt to write a readonly database/.test((e as Error).message)) throw e;
  } finally {
    db.close();
  }
  const dir = Deno.makeTempDirSync({ prefix: "bt-state-copy-" });
  try {
    for (const suffix of ["", "-journal", "-wal"]) {
      try {
        Deno.copyFileSync(`${file}${suffix}`, join(dir, `state.db${suffix}`));
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
    const copy = new DatabaseSync(join(dir, "state.db"));
    try {
      return read(copy);
    } finally {
      copy.close();
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

export function readState(backup: string): StateDump {
  return withCommittedState(backup, (db) => ({
    copies: db.prepare("SELECT * FROM copies ORDER BY id").all() as unknown as CopyRow[],
    files: db.prepare("SELECT * FROM files ORDER BY path").all() as unknown as FileRow[],
    intents: (db.prepare("SELECT count(*) AS n FROM intents").get() as { n: number }).n,
    intentIds: (db.prepare("SELECT id FROM intents ORDER BY id").all() as { id: number }[])
      .map((r) => r.id),
  }));
}

/** Files left in `.backup-tool/tmp` (names). */
export function tmpLeftovers(backup: string): string[] {
  try {
    return [...Deno.readDirSync(join(backup, ".backup-tool", "tmp"))].map((e) => e.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

/** Every file and symlink stored in the backup root (not `.backup-tool/`), rel → digest. */
export function storedFiles(backup: string, algoOf: (rel: string) => string = () => "sha256") {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const abs = join(dir, e.name);
      const rel = relative(backup, abs).split(sep).join("/");
      if (rel === ".backup-tool") continue;
      if (e.isDirectory && !e.isSymlink) walk(abs);
      else out.set(rel, digestPath(abs, algoOf(rel)));
    }
  };
  walk(backup);
  return out;
}

export interface BackupCheck {
  /** Empty when the backup root is consistent with its state. */
  problems: string[];
  /** Digests of every content stored anywhere in the backup root. */
  contents: Set<string>;
  state: StateDump;
  stored: Map<string, string>;
}

/**
 * An independent verify: every file in the backup root is a copy the state records (no
 * partial or stray file at a final name) whose bytes hash to the recorded digest; every
 * recorded copy exists; every tracked path's copy is current; every duplicate's content
 * has an original (a tracked file holding it at its own path); no intent and no temporary
 * file is left.
 */
export function checkBackup(backup: string): BackupCheck {
  const state = readState(backup);
  const byStorage = new Map<string, CopyRow>();
  const problems: string[] = [];
  for (const c of state.copies) {
    if (c.stored_at === null) continue;
    if (byStorage.has(c.stored_at)) problems.push(`two copies recorded at ${c.stored_at}`);
    byStorage.set(c.stored_at, c);
  }
  const stored = storedFiles(backup, (rel) => byStorage.get(rel)?.algo ?? "sha256");
  for (const [rel, hash] of stored) {
    const c = byStorage.get(rel);
    if (!c) problems.push(`file not recorded in the state: ${rel}`);
    else if (c.hash !== hash) problems.push(`${rel}: bytes hash ${hash}, state says ${c.hash}`);
  }
  for (const rel of byStorage.keys()) {
    if (!stored.has(rel)) problems.push(`recorded copy missing: ${rel}`);
  }
  const byId = new Map(state.copies.map((c) => [c.id, c]));
  for (const f of state.files) {
    const c = byId.get(f.copy_id);
    if (!c || c.stored_at === null) problems.push(`tracked ${f.path} has no stored copy`);
    else if (c.hash !== f.hash && c.algo === f.algo) {
      problems.push(`tracked ${f.path}: file hash ${f.hash} != copy hash ${c.hash}`);
    }
  }
  problems.push(...orphanProblems(state, byId));
  if (state.intents > 0) problems.push(`${state.intents} intent(s) left in the journal`);
  const tmp = tmpLeftovers(backup);
  if (tmp.length > 0) problems.push(`temporary files left: ${tmp.slice(0, 5).join(", ")}`);
  return { problems, contents: new Set(stored.values()), state, stored };
}

/** Tracked duplicates whose content no tracked file holds at its own path (an original). */
function orphanProblems(state: StateDump, byId: Map<number, CopyRow>): string[] {
  const current = state.files.map((f) => byId.get(f.copy_id)).filter((c) => c !== undefined);
  const originals = new Set(
    current.filter((c) => c.location === "latest").map((c) => `${c.algo}:${c.hash}`),
  );
  return current.filter((c) => c.location === "duplicate" && !originals.has(`${c.algo}:${c.hash}`))
    .map((c) => `${c.path} is a duplicate of no file: ${c.stored_at} was never promoted`);
}

/**
 * The crash-time invariant: each file at a final name is a committed copy with its
 * recorded digest, or the finished step of a pending action (a placed new copy, an
 * archived or deleted old copy) with the digest that action expects.
 */
export function crashStateProblems(backup: string): string[] {
  type Row = { id: number; stored_at: string | null; hash: string };
  const { copies, intents } = withCommittedState(backup, (db) => ({
    copies: db.prepare("SELECT id, stored_at, hash FROM copies").all() as unknown as Row[],
    intents: db.prepare("SELECT actions FROM intents").all() as unknown as { actions: string }[],
  }));
  const recorded = new Map<string, string>();
  const byId = new Map<number, string>();
  for (const c of copies) {
    byId.set(c.id, c.hash);
    if (c.stored_at !== null) recorded.set(c.stored_at, c.hash);
  }
  const expected = new Map<string, string>();
  for (const i of intents) {
    // deno-lint-ignore no-explicit-any
    for (const a of JSON.parse(i.actions) as any[]) {
      if (a.target) expected.set(a.target, a.content.hash);
      if (a.archive) expected.set(a.archive.to, byId.get(a.archive.copyId)!);
      if (a.type === "delete") expected.set(a.to, byId.get(a.copyId)!);
      if (a.type === "promote") expected.set(a.to, a.hash);
    }
  }
  const problems: string[] = [];
  for (const [rel, hash] of storedFiles(backup)) {
    if (recorded.get(rel) === hash || expected.get(rel) === hash) continue;
    problems.push(`${rel}: a file at a final name that is neither committed nor journaled`);
  }
  return problems;
}

/**
 * The backup's latest copies equal the source byte for byte (by digest of both sides):
 * every source file and symlink is tracked, its stored copy has the source's content, and
 * nothing else is tracked. `source` is the source folder, `name` its logical name.
 */
export function latestProblems(
  source: string,
  backup: string,
  check: BackupCheck,
  name = "source",
): string[] {
  const problems: string[] = [];
  const src = snapshot(source);
  const byId = new Map(check.state.copies.map((c) => [c.id, c]));
  const tracked = new Map(check.state.files.map((f) => [f.path, f]));
  for (const [rel, s] of src) {
    const f = tracked.get(`${name}/${rel}`);
    if (!f) {
      problems.push(`source file not tracked: ${rel}`);
      continue;
    }
    const c = byId.get(f.copy_id);
    if (!c?.stored_at) {
      problems.push(`no copy for ${rel}`);
      continue;
    }
    const got = check.stored.get(c.stored_at) ??
      digestPath(join(backup, ...c.stored_at.split("/")));
    if (got !== s.hash) problems.push(`${rel}: stored copy ${c.stored_at} differs from the source`);
  }
  for (const path of tracked.keys()) {
    if (!src.has(path.slice(name.length + 1))) problems.push(`tracked but not in source: ${path}`);
  }
  return problems;
}

/** Asserts the backup converged to the source and keeps every content in `mustKeep`. */
export function assertConverged(
  fx: { source: string; backup: string },
  mustKeep: Iterable<string>,
  context: string,
): BackupCheck {
  const check = checkBackup(fx.backup);
  const problems = [...check.problems, ...latestProblems(fx.source, fx.backup, check)];
  for (const h of mustKeep) {
    if (!check.contents.has(h)) problems.push(`captured content ${h.slice(0, 12)} is lost`);
  }
  if (problems.length > 0) {
    throw new Error(`${context}:\n  ${problems.slice(0, 30).join("\n  ")}`);
  }
  return check;
}

// ---------------------------------------------------------------------------------------
// Misc

/** Copies a folder preserving modes, times and symlinks (a fixture template → a case). */
export async function cloneDir(from: string, to: string): Promise<void> {
  const out = await new Deno.Command("cp", { args: ["-a", from, to] }).output();
  if (!out.success) throw new Error(`cp -a failed: ${new TextDecoder().decode(out.stderr)}`);
}

/** Runs a shell script (bash), failing loudly. */
export async function sh(script: string, cwd?: string): Promise<string> {
  const out = await new Deno.Command("bash", {
    args: ["-c", script],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(`bash failed (${out.code}): ${script}\n${dec.decode(out.stderr)}`);
  }
  return dec.decode(out.stdout);
}

/**
 * Runs `fn` over `items` with at most `limit` in flight; results in input order. After a
 * failure no new item starts, every running one is awaited (no child process outlives
 * the test), then the first error is thrown.
 */
export async function pool<T, R>(
  items: T[],
  limit: number,
  fn: (t: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        results[i] = await fn(items[i]);
      } catch (error) {
        failure ??= { error };
      }
    }
  });
  await Promise.all(workers);
  if (failure) throw failure.error;
  return results;
}

export function isRoot(): boolean {
  return Deno.uid() === 0;
}

/** The last run's log lines (timestamps removed) from a log folder. */
export function lastLogLines(logs: string): string[] {
  const files = [...Deno.readDirSync(logs)].map((e) => e.name).sort();
  if (files.length === 0) return [];
  return Deno.readTextFileSync(join(logs, files[files.length - 1])).split("\n")
    .filter((l) => l !== "").map((l) => l.replace(/^\S+ /, ""));
}

/** Lines of every log file in a folder, oldest first, timestamps removed. */
export function allLogLines(logs: string): string[] {
  let names: string[];
  try {
    names = [...Deno.readDirSync(logs)].map((e) => e.name).sort();
  } catch {
    return [];
  }
  return names.flatMap((n) =>
    Deno.readTextFileSync(join(logs, n)).split("\n").filter((l) => l !== "").map((l) =>
      l.replace(/^\S+ /, "")
    )
  );
}

/** Names in a folder, sorted ([] when it does not exist). */
export function listDir(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

/**
 * A run held at a pause point (BACKUP_TOOL_PAUSE, see engine/fault.ts) until resumed.
 * Disposed (`await using`), it is killed if still running and its output drained: a test
 * that fails while it is held leaves no process nor open pipe behind to hide its failure.
 */
export interface PausedRun extends AsyncDisposable {
  child: Deno.ChildProcess;
  /** Lets the run go on from the pause. */
  resume(): void;
}

/**
 * Starts the tool and waits until it reaches the n-th `pausePoint(point)` (`at` is
 * `<point>:<n>`), where it stays until `resume()`: the test changes the world at that
 * exact moment. The marker file lives in `dir`.
 */
export async function pausedRun(
  args: string[],
  at: string,
  dir: string,
  opts: ToolOptions = {},
): Promise<PausedRun> {
  const marker = join(dir, `paused-${at.replace(/\W/g, "-")}`);
  const env = { ...opts.env, BACKUP_TOOL_PAUSE: `${at}:${marker}` };
  const child = spawnTool(args, { ...opts, env });
  for (const deadline = Date.now() + 30_000; !exists(marker);) {
    if (Date.now() > deadline) {
      await killAndWait(child);
      throw new Error(`The run never reached the pause at ${at}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return {
    child,
    resume: () => Deno.removeSync(marker),
    [Symbol.asyncDispose]: async () => {
      try {
        child.kill("SIGKILL");
      } catch { /* it has exited */ }
      try {
        await child.output(); // drains and closes its pipes, unless the test read them
      } catch {
        await child.status;
      }
    },
  };
}

/** How a run held at a pause point and sent a signal there ended. */
export interface SignalledRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface SignalOptions {
  signal?: "SIGTERM" | "SIGINT";
  /** Held this much longer once the signal is taken: for a test that needs a later turn. */
  holdMs?: number;
  /** Called while the run is held, before the signal: the state at the pause. */
  whilePaused?: () => void;
}

/**
 * The tool started with `args` and held at `at` (`pausedRun`), sent `signal` (SIGTERM by
 * default) there, let go once one of its threads has taken it, and read to its end.
 */
export async function signalledAt(
  args: string[],
  at: string,
  dir: string,
  { signal = "SIGTERM", holdMs = 0, whilePaused }: SignalOptions = {},
): Promise<SignalledRun> {
  await using paused = await pausedRun(args, at, dir);
  const { child, resume } = paused;
  whilePaused?.();
  child.kill(signal);
  await signalTaken(child.pid, signal);
  if (holdMs > 0) await new Promise((r) => setTimeout(r, holdMs));
  resume();
  const out = await child.output();
  const [stdout, stderr] = [out.stdout, out.stderr].map((b) => new TextDecoder().decode(b));
  return { code: out.code, stdout, stderr };
}

export function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The unprivileged user the permission and ownership tests run the tool as. */
export const NOBODY = 65534;

export function which(tool: string): string | undefined {
  for (const dir of ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]) {
    try {
      if (Deno.statSync(join(dir, tool)).isFile) return join(dir, tool);
    } catch { /* not here */ }
  }
  return undefined;
}

/** The command prefix that runs a program as `nobody`, or why that is impossible. */
export function asNobody(denoDir: string): string[] | string {
  if (!isRoot()) return "not running as root (the tests need root to switch to 'nobody')";
  const env = ["env", `DENO_DIR=${denoDir}`, "DENO_NO_UPDATE_CHECK=1", "HOME=/nonexistent"];
  const setpriv = which("setpriv");
  if (setpriv) {
    return [setpriv, `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", ...env];
  }
  const runuser = which("runuser");
  if (runuser) return [runuser, "-u", "nobody", "--", ...env];
  return "neither setpriv nor runuser is installed";
}

/** A DENO_DIR `nobody` can read, holding the npm packages already cached for root. */
export async function prepareDenoDir(dir: string): Promise<void> {
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
  })
    .output();
  const npmCache = JSON.parse(new TextDecoder().decode(info.stdout)).npmCache as string;
  Deno.mkdirSync(dir, { recursive: true });
  await sh(`cp -r '${npmCache}' '${join(dir, "npm")}'`);
}

/**
 * Shared helpers for end-to-end tests: trees declared as data and written into temporary
 * folders, the real CLI run as a subprocess, and polling for time-based results. The CLI
 * is `deno run -A src/main.ts`, or the compiled binary named by BACKUP_TOOL_BIN.
 */
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { createHash } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import assert from "node:assert/strict";
import { loadConfig } from "../src/config/config.ts";
import { planOnce } from "../src/engine/backup.ts";
import type { PassOptions } from "../src/engine/pass_types.ts";
import type { Action } from "../src/core/types.ts";
import { SCHEMA_VERSION } from "../src/state/schema.ts";

export const REPO = fileURLToPath(new URL("..", import.meta.url));
export const MAIN = join(REPO, "src", "main.ts");

/** A tree as data: path (with `/`) → text or bytes. */
export type Tree = Record<string, string | Uint8Array>;

export function writeTree(root: string, tree: Tree): void {
  for (const [path, content] of Object.entries(tree)) {
    const abs = join(root, ...path.split("/"));
    Deno.mkdirSync(dirname(abs), { recursive: true });
    if (typeof content === "string") Deno.writeTextFileSync(abs, content);
    else Deno.writeFileSync(abs, content);
  }
}

/** Every regular file under `root` as path → text, skipping folders named in `skip`. */
export function readTree(root: string, skip: string[] = [".backup-tool"]): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const abs = join(dir, e.name);
      const rel = relative(root, abs).split(sep).join("/");
      if (skip.includes(rel)) continue;
      if (e.isDirectory) walk(abs);
      else if (e.isFile) out[rel] = Deno.readTextFileSync(abs);
    }
  };
  walk(root);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Permissions without FFI and without /proc/self (which Deno opens to --allow-all only):
 * the fallbacks that macOS, Windows and a C library other than glibc take, on Linux.
 */
export const RESTRICTED_PERMISSIONS = [
  "--no-prompt",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys=hostname,uid,gid",
];

/**
 * The command line that runs the tool: the compiled binary when BACKUP_TOOL_BIN is set;
 * with BACKUP_TOOL_PERMISSIONS=restricted, `deno run` with RESTRICTED_PERMISSIONS (the
 * whole suite through the fallbacks); else `deno run -A`, as the binary is built.
 * `permissions` stands for that variable (a test that runs its child both ways).
 */
export function toolCommand(
  args: string[],
  permissions = Deno.env.get("BACKUP_TOOL_PERMISSIONS"),
): { cmd: string; args: string[] } {
  const bin = Deno.env.get("BACKUP_TOOL_BIN");
  if (bin) return { cmd: bin, args };
  const perms = permissions === "restricted" ? RESTRICTED_PERMISSIONS : ["-A"];
  return { cmd: Deno.execPath(), args: ["run", ...perms, MAIN, ...args] };
}

/** The CLI run to its end; `env` is added to the test process's (`{ TZ }`: its own zone). */
export function runCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const { cmd, args: full } = toolCommand(args);
  return runProgram(cmd, full, opts.cwd, opts.env);
}

/**
 * A started child's output; past `deadlineMs` it is killed (SIGKILL: `signal` says so), a
 * hang the test then reports rather than waits on.
 */
export async function outputWithin(
  child: Deno.ChildProcess,
  deadlineMs: number,
): Promise<Deno.CommandOutput> {
  const timer = setTimeout(() => child.kill("SIGKILL"), deadlineMs);
  try {
    return await child.output();
  } finally {
    clearTimeout(timer);
  }
}

/** A program run to its end from `cwd` (the repository), its output captured, without colour. */
export async function runProgram(
  cmd: string,
  args: string[],
  cwd = REPO,
  env: Record<string, string> = {},
): Promise<CliResult> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * What `program` (TypeScript for `deno eval`, from the repository, so deno.json's imports
 * hold) prints as JSON on its last line, run with its local time in `zone` (`TZ`): a test
 * that needs a zone runs its subject so, as a `TZ` set in the test process would move the
 * local time of every test file running beside it (shared_process_test.ts). Its modules
 * are imported by absolute URL (`new URL("./x.ts", import.meta.url).href`).
 */
export async function evalInZone(zone: string, program: string): Promise<unknown> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", program],
    cwd: REPO,
    env: { TZ: zone, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  assert.equal(out.code, 0, `the program in ${zone} failed: ${dec.decode(out.stderr)}`);
  return JSON.parse(dec.decode(out.stdout).trim().split("\n").at(-1)!);
}

/**
 * `run --config FILE` with V8's stack cut to 128 KiB (about 1 MiB by default): a recursion
 * or a spread into one call that the tree's shape drives overflows at a tenth of the size,
 * so a tree a test can make in seconds shows it.
 */
export function runOnSmallStack(config: string): CliResult {
  const out = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--stack-size=128", MAIN, "run", "--config", config],
    env: { NO_COLOR: "1" },
  }).outputSync();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

export interface Fixture {
  dir: string;
  source: string;
  backup: string;
  logs: string;
  config: string;
  /** Runs the CLI with `--config` of this fixture. */
  cli(...args: string[]): Promise<CliResult>;
  /** All log lines written so far, across log files, without their timestamps. */
  logLines(): string[];
  /** Lines of the newest log file, without timestamps. */
  lastLog(): string[];
  [Symbol.dispose](): void;
}

/** A temp folder with source/ (filled from `tree`), a config pointing at backup/ and logs/. */
export function makeFixture(tree: Tree, config: Record<string, unknown> = {}): Fixture {
  const dir = Deno.makeTempDirSync({ prefix: "bt-" });
  const source = join(dir, "source");
  Deno.mkdirSync(source);
  writeTree(source, tree);
  const configPath = join(dir, "config.jsonc");
  writeConfig(configPath, {
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    ...config,
  });
  const logs = join(dir, "logs");
  const logFiles = () => {
    try {
      return [...Deno.readDirSync(logs)].map((e) => e.name).sort().map((n) => join(logs, n));
    } catch {
      return [];
    }
  };
  const lines = (file: string) =>
    Deno.readTextFileSync(file).split("\n").filter((l) => l !== "").map((l) =>
      l.replace(/^\S+ /, "")
    );
  return {
    dir,
    source,
    backup: join(dir, "backup"),
    logs,
    config: configPath,
    cli: (...args) => runCli([...args, "--config", configPath]),
    logLines: () => logFiles().flatMap(lines),
    lastLog: () => {
      const files = logFiles();
      return files.length ? lines(files[files.length - 1]) : [];
    },
    [Symbol.dispose]: () => Deno.removeSync(dir, { recursive: true }),
  };
}

export function writeConfig(path: string, config: Record<string, unknown>): void {
  Deno.writeTextFileSync(path, JSON.stringify(config, null, 2));
}

/** Polls `check` until it returns a value other than undefined/false, or fails at the deadline. */
export async function poll<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 20;; delay = Math.min(delay * 2, 500)) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** Files (relative, `/`) under a folder, sorted; symlinks included, folders not. */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const abs = join(dir, e.name);
      if (e.isDirectory) walk(abs);
      else out.push(relative(root, abs).split(sep).join("/"));
    }
  };
  try {
    walk(root);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort();
}

/**
 * Waits until a signal sent to process `pid` has been taken by one of its threads (its
 * handler ran), so that a test can go on knowing it arrived: on Linux by watching the
 * process's pending signals in /proc, elsewhere (no /proc) by a generous pause.
 */
export async function signalTaken(pid: number, signal: "SIGTERM" | "SIGINT"): Promise<void> {
  const bit = 1n << BigInt((signal === "SIGTERM" ? 15 : 2) - 1);
  const pending = () => {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    return [...status.matchAll(/^(?:SigPnd|ShdPnd):\s*([0-9a-f]+)$/gm)]
      .some((m) => (BigInt(`0x${m[1]}`) & bit) !== 0n);
  };
  try {
    pending();
  } catch {
    await new Promise((r) => setTimeout(r, 500));
    return;
  }
  await poll(`process ${pid} to take ${signal}`, () => !pending());
}

/** The actions a dry run (`plan`) of the fixture's config plans, which must exit 0. */
export async function plannedActions(config: string, opts: PassOptions = {}): Promise<Action[]> {
  const planned: Action[] = [];
  const r = await planOnce(loadConfig(config), { ...opts, onPlanned: (a) => planned.push(a) });
  assert.equal(r.exitCode, 0, JSON.stringify(r.errors));
  return planned;
}

/** Every entry under `root`: folders by name and mode, files by size, mtime, mode and SHA-256. */
export function fingerprint(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, prefix: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    for (const e of entries) {
      const abs = join(dir, e.name);
      const rel = prefix + e.name;
      if (e.isDirectory) {
        out[`${rel}/`] = `dir ${Deno.statSync(abs).mode}`;
        walk(abs, `${rel}/`);
      } else if (e.isSymlink) out[rel] = `-> ${Deno.readLinkSync(abs)}`;
      else {
        const info = Deno.statSync(abs);
        const hash = createHash("sha256").update(Deno.readFileSync(abs)).digest("hex");
        out[rel] = `${info.size} ${info.mtime?.getTime()} ${info.mode} ${hash}`;
      }
    }
  };
  walk(root, "");
  return out;
}

/** What a run killed with SIGKILL leaves in the lock file: its record, and no holder. */
export const DEAD_HOLDER_RECORD = JSON.stringify({
  pid: 2147483646,
  host: "gone-host",
  started: "2020-01-02T03:04:05.678Z",
  command: "run",
}) + "\n";

/** Whether a run's log says it took over the lock DEAD_HOLDER_RECORD left. */
export function loggedDeadHolderTakeover(log: string[]): boolean {
  return log.some((l) =>
    l.startsWith(`LOCK: took over a stale lock left by {"pid":2147483646,"host":"gone-host"`)
  );
}

/**
 * The state's records of the files taken as trusted, as a run more than 2 s after their
 * last change records them (one within 2 s of it is read again by the next run anyway).
 */
export function trustRecords(backup: string): void {
  using db = new DatabaseSync(join(backup, ".backup-tool", "state.db"));
  db.exec("UPDATE files SET trusted = 1");
}

/** Each file under `dir` made a new file (another inode) of the same bytes, mode and times. */
export function copiedInPlace(dir: string): void {
  for (const e of Deno.readDirSync(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) copiedInPlace(path);
    if (!e.isFile) continue;
    const info = Deno.statSync(path);
    Deno.renameSync(path, `${path}.old`);
    Deno.copyFileSync(`${path}.old`, path);
    Deno.removeSync(`${path}.old`);
    Deno.chmodSync(path, info.mode! & 0o7777);
    Deno.utimeSync(path, info.atime!, info.mtime!);
  }
}

/**
 * Overwrites the last leaf page of the state's copies table in `backup` with 0xff bytes: a
 * command reading the state in path order meets the damage only partway, after what it
 * printed first (a `--json` document must still end whole).
 */
export function damageLastCopiesPage(backup: string): void {
  const db = join(backup, ".backup-tool", "state.db");
  const reader = new DatabaseSync(db, { readOnly: true });
  const { page } = reader.prepare(
    "SELECT max(pageno) AS page FROM dbstat WHERE name = 'copies' AND pagetype = 'leaf'",
  ).get() as { page: number };
  const { page_size: size } = reader.prepare("PRAGMA page_size").get() as { page_size: number };
  reader.close();
  using file = Deno.openSync(db, { write: true });
  file.seekSync((page - 1) * size, Deno.SeekMode.Start);
  file.writeSync(new Uint8Array(size).fill(0xff));
}

/**
 * What each schema version from 5 on added (src/state/schema.ts), newest first, as the SQL
 * that takes it out again: a state made by this version, taken back, is one an older
 * version left. A migration added without its line here fails every test that asks. (The
 * kept copies' index, `copies_kept_by_hash`, is no migration's: a state of any version may
 * have it, made on btrfs or XFS, and older versions read it as it is: stored_copies.ts.)
 */
const ADDED_BY_VERSION: [version: number, undo: string][] = [
  [
    10,
    "DROP TABLE ended_folders; ALTER TABLE folders DROP COLUMN seen_from; " +
    "ALTER TABLE folders DROP COLUMN gone_at;",
  ],
  [9, "ALTER TABLE folders DROP COLUMN xattrs;"],
  [8, "DROP TABLE ended_exclusions;"],
  [7, "ALTER TABLE files DROP COLUMN excluded_at;"],
  [6, "ALTER TABLE copies DROP COLUMN xattrs;"],
  [5, "ALTER TABLE copies DROP COLUMN hardlink_dev; ALTER TABLE copies DROP COLUMN hardlink_ino;"],
];

/** The SQL that turns a state of the current schema into one of `version` (4 or later). */
export function olderSchemaSql(version: number): string {
  if (ADDED_BY_VERSION[0][0] !== SCHEMA_VERSION) {
    throw new Error(`olderSchemaSql knows schema ${ADDED_BY_VERSION[0][0]}, not ${SCHEMA_VERSION}`);
  }
  if (version < 4) throw new Error(`olderSchemaSql makes schema 4 or later, not ${version}`);
  const undo = ADDED_BY_VERSION.filter(([v]) => v > version).map(([, sql]) => sql);
  return [...undo, `PRAGMA user_version = ${version};`].join("\n");
}

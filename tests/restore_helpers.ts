/**
 * Helpers shared by the restore tests: a snapshot of a tree as a restore must reproduce it
 * (bytes, mtime and mode of files, targets of symlinks), files written with distinct mtimes
 * in the past so that every change is seen, a CLI call that must succeed, one whose standard
 * output is kept as bytes (`restore --to -`), and the writer's leftover temporary files. They write only into the fixtures' temporary folders.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, toolCommand, writeConfig, writeTree } from "./helpers.ts";

/** What a restore must reproduce of one entry. */
export type Entry =
  | { kind: "file"; bytes: Uint8Array; mtimeMs: number; mode: number }
  | { kind: "symlink"; target: string };

/** Every file and symlink under `root` (relative path → entry). */
export function snapshot(root: string): Record<string, Entry> {
  const out: Record<string, Entry> = {};
  const walk = (dir: string, prefix: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const abs = join(dir, e.name);
      const rel = prefix + e.name;
      if (e.isDirectory) walk(abs, `${rel}/`);
      else if (e.isSymlink) out[rel] = { kind: "symlink", target: Deno.readLinkSync(abs) };
      else {
        const info = Deno.statSync(abs);
        const mode = Deno.build.os === "windows" ? 0 : info.mode! & 0o7777;
        out[rel] = { kind: "file", bytes: Deno.readFileSync(abs), mtimeMs: mtime(abs), mode };
      }
    }
  };
  walk(root, "");
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

const mtime = (path: string) => Deno.statSync(path).mtime!.getTime();

/** Writes files and gives each a distinct mtime in the past, so a change is always seen. */
let clock = Date.UTC(2024, 0, 1);
export function put(root: string, files: Record<string, string | Uint8Array>): void {
  writeTree(root, files);
  for (const rel of Object.keys(files)) {
    clock += 61_000; // distinct minutes: no two contents share an mtime
    const when = new Date(clock);
    Deno.utimeSync(join(root, ...rel.split("/")), when, when);
  }
}

/** Runs the tool on the fixture's config; fails unless it exits 0; its stdout. */
export async function ok(fx: Fixture, ...args: string[]): Promise<string> {
  const r = await fx.cli(...args);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** A CLI call's exit code, standard output as bytes and standard error as text. */
export interface Raw {
  code: number;
  stdout: Uint8Array;
  stderr: string;
}

/** The CLI run from `cwd`, its standard output as bytes. */
export async function rawIn(cwd: string, args: string[]): Promise<Raw> {
  const { cmd, args: full } = toolCommand(args);
  const out = await new Deno.Command(cmd, {
    args: full,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: out.code, stdout: out.stdout, stderr: new TextDecoder().decode(out.stderr) };
}

/** The CLI run on the fixture's config from its folder, its standard output as bytes. */
export const raw = (fx: Fixture, ...args: string[]): Promise<Raw> =>
  rawIn(fx.dir, [...args, "--config", fx.config]);

/** Leftover temporary files of the writer. */
export function listHidden(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".tmp"));
}

/** The fixture's config (its source, backup root and logs), with `extra` (exclude, tags). */
export function configure(fx: Fixture, extra: Record<string, unknown> = {}): void {
  writeConfig(fx.config, {
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    ...extra,
  });
}

/** Each run's ENDED time (a purge's too), oldest first: `--at` one gives what it left. */
export async function endedTimes(fx: Fixture): Promise<string[]> {
  return JSON.parse(await ok(fx, "history", "--json")).runs.map((r: { endedAt: string }) =>
    r.endedAt
  );
}

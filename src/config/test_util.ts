/**
 * Test fixtures for the config tests: a fresh temp folder holding a small tree of source
 * folders, a file, symlinks, and a config file written per case. `withTree` removes it all.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError, loadConfig } from "./config.ts";

/** Folders created in every fixture tree. */
const FOLDERS = ["data/inner", "other", "a/b/source", "a/bc", "c/source", "versions", "x/Photos"];

export interface Tree {
  /** Realpath of the temp folder. */
  dir: string;
  /** Absolute path of `rel` inside the tree. */
  at(rel: string): string;
  /** Writes `config.jsonc` (or `name`) with `content` (objects as JSON); returns its path. */
  write(content: unknown, name?: string): string;
}

function makeTree(): Tree {
  const dir = Deno.realPathSync(Deno.makeTempDirSync({ prefix: "config_test_" }));
  const at = (rel: string) => join(dir, rel);
  for (const folder of FOLDERS) Deno.mkdirSync(at(folder), { recursive: true });
  Deno.writeTextFileSync(at("file.txt"), "not a folder\n");
  Deno.symlinkSync(at("data"), at("link"));
  Deno.symlinkSync(at("missing"), at("dangling"));
  const write = (content: unknown, name = "config.jsonc") => {
    const text = typeof content === "string" ? content : JSON.stringify(content, null, 2);
    Deno.writeTextFileSync(at(name), text);
    return at(name);
  };
  return { dir, at, write };
}

/** Runs `fn` with a fresh tree and removes the tree afterwards. */
export function withTree<T>(fn: (tree: Tree) => T): T {
  const tree = makeTree();
  try {
    return fn(tree);
  } finally {
    Deno.removeSync(tree.dir, { recursive: true });
  }
}

/** Every path under `dir` (symlinks not followed), sorted, for "nothing changed" checks. */
export function listTree(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(join(dir, prefix))) {
    const rel = join(prefix, entry.name);
    out.push(rel);
    if (entry.isDirectory) out.push(...listTree(dir, rel));
  }
  return out.sort();
}

/**
 * Asserts that loading the config `file` (in `tree`) is refused with one ConfigError line,
 * `Cannot load config '<file>': …`, holding each of `expected` (`$DIR`: the tree's folder).
 */
export function assertRefused(tree: Tree, file: string, expected: readonly string[]): void {
  assert.throws(() => loadConfig(file), (err: Error) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.name, "ConfigError");
    assert.ok(err.message.startsWith(`Cannot load config '${file}': `), err.message);
    assert.ok(!err.message.includes("\n"), err.message);
    for (const text of expected) {
      const want = text.replaceAll("$DIR", tree.dir);
      assert.ok(err.message.includes(want), `expected ${JSON.stringify(want)} in:\n${err.message}`);
    }
    return true;
  });
}

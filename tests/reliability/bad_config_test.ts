/**
 * Bad configuration, end to end through the CLI: malformed JSONC and every invalid value
 * of every key. Each case must exit 2 with exactly one line on stderr naming the key (or
 * the line and column), and create nothing: the fixture folder lists the same before and
 * after (no backup root, no log folder, no state).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture } from "../helpers.ts";
import { pool, runTool } from "./util.ts";

const BASE = { sources: ["./source"], backup_root: "./backup", log_dir: "./logs" };

/** [name, config text or value (undefined: no file), expected substrings]. */
type Case = [string, unknown, string[]];

const SYNTAX: Case[] = [
  ["nested 100,000 levels deep", "[".repeat(100_000), ["line 1, column 65", "nested more than"]],
  ["missing comma", '{\n  "sources": ["./source"]\n  "backup_root": "./backup"\n}', [
    "line 3, column 3",
  ]],
  ["single quotes", "{ 'sources': ['./source'] }", ["line 1, column 3"]],
  ["unterminated string", '{ "sources": ["./source\n], "backup_root": "b" }', [
    "line 1, column 15",
  ]],
  ["unterminated comment", '{ "sources": ["./source"], /* x', ["line 1, column 28"]],
  ["unclosed object", '{ "sources": ["./source"]', ["line 1, column 26"]],
  ["trailing garbage", '{ "sources": ["./source"], "backup_root": "b" } x', ["line 1, column 49"]],
  ["bare word", '{ "sources": ["./source"], "backup_root": "b", "rehash": yes }', [
    "line 1, column 58",
  ]],
  ["empty file", "", ["empty"]],
  ["whitespace only", " \n\t\n", ["only white space"]],
  ["top-level array", '["./source"]', ["top level"]],
  ["top-level number", "42", ["top level"]],
  ["duplicate key", '{\n "sources": ["./source"],\n "backup_root": "a",\n "backup_root": "b"\n}', [
    "line 4, column 2",
    "backup_root",
  ]],
  ["not UTF-8", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), ["UTF-8"]],
  ["CRLF line counting", '{\r\n"sources": ["./source"],\r\n"backup_root" "b"\r\n}', ["line 3"]],
];

const v = (patch: Record<string, unknown>) => ({ ...BASE, ...patch });
const without = (key: string) =>
  Object.fromEntries(Object.entries(BASE).filter(([k]) => k !== key));

const VALUES: Case[] = [
  ["$schema not a string", v({ $schema: 1 }), ["$schema"]],
  ["sources missing", without("sources"), ["sources"]],
  ["sources a string", v({ sources: "./source" }), ["sources"]],
  ["sources empty", v({ sources: [] }), ["sources"]],
  ["sources item a number", v({ sources: [1] }), ["sources[0]"]],
  ["sources item path a number", v({ sources: [{ path: 1 }] }), ["sources[0].path"]],
  ["sources item without path", v({ sources: [{ name: "x" }] }), ["sources[0].path"]],
  ["sources item unknown key", v({ sources: [{ path: "./source", nmae: "x" }] }), [
    "sources[0].nmae",
  ]],
  ["source does not exist", v({ sources: ["./source", "./nope"] }), ["sources[1]", "nope"]],
  ["source is a file", v({ sources: ["./config.jsonc"] }), ["sources[0]", "not a folder"]],
  ["source listed twice", v({ sources: ["./source", "source/"] }), ["sources[0]", "sources[1]"]],
  ["source name reserved", v({ sources: [{ path: "./source", name: "versions" }] }), [
    "sources[0].name",
  ]],
  ["source name with a slash", v({ sources: [{ path: "./source", name: "a/b" }] }), [
    "sources[0].name",
  ]],
  ["source name empty", v({ sources: [{ path: "./source", name: "" }] }), ["sources[0].name"]],
  ["source path with NUL", v({ sources: ["./source\u0000x"] }), ["sources[0]", "NUL"]],
  ["backup_root missing", without("backup_root"), ["backup_root"]],
  ["backup_root a number", v({ backup_root: 5 }), ["backup_root"]],
  ["backup_root empty", v({ backup_root: "" }), ["backup_root"]],
  ["backup_root is the source", v({ backup_root: "./source" }), ["backup_root"]],
  ["backup_root below a file", v({ backup_root: "./config.jsonc/backup" }), ["backup_root"]],
  ["backup_root with NUL", v({ backup_root: "./b\u0000" }), ["backup_root", "NUL"]],
  ["log_dir null", v({ log_dir: null }), ["log_dir"]],
  ["log_dir is a file", v({ log_dir: "./config.jsonc" }), ["log_dir"]],
  ["hash_algorithm a number", v({ hash_algorithm: 256 }), ["hash_algorithm"]],
  ["hash_algorithm unknown", v({ hash_algorithm: "blake3" }), ["hash_algorithm", "blake3"]],
  ["hash_algorithm misspelled", v({ hash_algorithm: "sha-256" }), ["hash_algorithm", "sha256"]],
  ["retention a number", v({ retention: 10 }), ["retention"]],
  ["max_versions_per_file 0", v({ retention: { max_versions_per_file: 0 } }), [
    "retention.max_versions_per_file",
  ]],
  ["max_versions_per_file -1", v({ retention: { max_versions_per_file: -1 } }), [
    "retention.max_versions_per_file",
  ]],
  ["max_versions_per_file 1.5", v({ retention: { max_versions_per_file: 1.5 } }), [
    "retention.max_versions_per_file",
  ]],
  ["max_versions_per_file a string", v({ retention: { max_versions_per_file: "10" } }), [
    "retention.max_versions_per_file",
  ]],
  ["retention unknown key", v({ retention: { max_versions: 3 } }), ["retention.max_versions"]],
  ["exclude a string", v({ exclude: "*.tmp" }), ["exclude"]],
  ["exclude item a number", v({ exclude: ["*.tmp", 1] }), ["exclude[1]"]],
  ["exclude item empty", v({ exclude: [" "] }), ["exclude[0]"]],
  ["exclude item a comment", v({ exclude: ["#notes"] }), ["exclude[0]"]],
  ["watch an array", v({ watch: [] }), ["watch"]],
  ["debounce_ms negative", v({ watch: { debounce_ms: -1 } }), ["watch.debounce_ms"]],
  ["debounce_ms a boolean", v({ watch: { debounce_ms: true } }), ["watch.debounce_ms"]],
  ["debounce_ms too large", v({ watch: { debounce_ms: 2 ** 31 } }), ["watch.debounce_ms"]],
  ["rescan_interval a string", v({ watch: { rescan_interval: "1h" } }), [
    "watch.rescan_interval",
  ]],
  ["rescan_interval negative", v({ watch: { rescan_interval: -5 } }), ["watch.rescan_interval"]],
  ["rescan_interval 0.001 (a watch that only rescans)", v({ watch: { rescan_interval: 0.001 } }), [
    "'watch.rescan_interval' must be 0 (no periodic rescans) or a number of seconds from 1",
    "got 0.001",
  ]],
  ["safety a string", v({ safety: "on" }), ["safety"]],
  ["max_delete_percent 101", v({ safety: { max_delete_percent: 101 } }), [
    "safety.max_delete_percent",
  ]],
  ["max_delete_percent negative", v({ safety: { max_delete_percent: -1 } }), [
    "safety.max_delete_percent",
  ]],
  ["max_delete_percent a string", v({ safety: { max_delete_percent: "50%" } }), [
    "safety.max_delete_percent",
  ]],
  ["log_retention 0", v({ log_retention: 0 }), ["log_retention"]],
  ["log_dir the backup root", v({ log_dir: "./backup" }), ["log_dir", "backup_root"]],
  ["log_dir inside the backup root", v({ log_dir: "./backup/logs" }), ["log_dir", "backup_root"]],
  ["log_retention an array", v({ log_retention: [30] }), ["log_retention"]],
  [
    "log_retention overflows to Infinity",
    '{ "sources": ["./source"], "backup_root": "./backup", "log_retention": 1e400 }',
    ["log_retention"],
  ],
  ["rehash a string", v({ rehash: "yes" }), ["rehash"]],
  ["unknown top-level key", v({ retension: {} }), ["retension", "retention"]],
  ["nested key at the top level", v({ max_versions_per_file: 3 }), [
    "max_versions_per_file",
    "retention",
  ]],
];

/** Every path under `dir`, sorted, symlinks not followed. */
function listing(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(join(dir, prefix))) {
    const rel = prefix === "" ? e.name : `${prefix}/${e.name}`;
    out.push(rel);
    if (e.isDirectory) out.push(...listing(dir, rel));
  }
  return out.sort();
}

async function check(name: string, config: unknown, expected: string[]): Promise<void> {
  using fx = makeFixture({ "a.txt": "a\n" });
  if (typeof config === "string") Deno.writeTextFileSync(fx.config, config);
  else if (config instanceof Uint8Array) Deno.writeFileSync(fx.config, config);
  else Deno.writeTextFileSync(fx.config, JSON.stringify(config, null, 2));
  const before = listing(fx.dir);
  // `plan`, which says what a run would do, refuses what `run` refuses.
  for (const command of ["run", "plan"]) {
    const r = await runTool([command, "--config", fx.config], { timeoutMs: 30_000 });
    const context =
      `${name} (${command}): exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
    assert.equal(r.code, 2, context);
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 1, `${context}\nwant exactly one stderr line`);
    for (const text of expected) assert.ok(lines[0].includes(text), `'${text}'? ${context}`);
    assert.equal(r.stdout, "", `${context}\nnothing on stdout`);
    assert.deepEqual(listing(fx.dir), before, `${context}\nsomething was created`);
  }
}

for (const [group, cases] of [["malformed JSONC", SYNTAX], ["invalid values", VALUES]] as const) {
  Deno.test(`bad configuration (${group}): exit 2, one line naming the problem, nothing created`, async () => {
    await pool([...cases], 3, ([name, config, expected]) => check(name, config, expected));
  });
}

Deno.test("bad configuration: a missing or unreadable config file → exit 2, nothing created", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  const before = listing(fx.dir);
  for (const path of [join(fx.dir, "nope.jsonc"), fx.source]) {
    const r = await runTool(["run", "--config", path], { timeoutMs: 30_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /config/);
  }
  assert.deepEqual(listing(fx.dir), before);
});

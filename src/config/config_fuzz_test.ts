/**
 * Property-based fuzzing of the config loader (fast-check). Whatever the file holds —
 * random text, random JSON, JSONC token soup, random bytes, or a valid config with one key
 * set to a random value — `loadConfig` either returns a sound `Config` or throws a
 * `ConfigError` whose message is one non-empty line starting with `Cannot load config` or
 * `Cannot read config`. Never another error, never a multi-line message, never a write.
 * Set RELIABILITY_SEED to replay a failing run (fast-check prints the seed and the path).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Config, ConfigError, HASH_ALGORITHMS, loadConfig } from "./config.ts";
import { listTree, type Tree, withTree } from "./test_util.ts";

function seed(): number {
  const raw = Deno.env.get("RELIABILITY_SEED");
  return raw && /^\d+$/.test(raw) ? Number(raw) : 20261128;
}

/** The contract: a sound Config, or a one-line ConfigError. Returns which it was. */
function contract(file: string): "config" | "error" {
  let config: Config;
  try {
    config = loadConfig(file);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `not a ConfigError: ${e instanceof Error ? e.stack : e}`);
    assert.ok(e.message.length > 0);
    assert.ok(!/[\n\r]/.test(e.message), `multi-line message: ${JSON.stringify(e.message)}`);
    assert.match(e.message, /^Cannot (load|read) config /);
    return "error";
  }
  assert.ok(config.sources.length > 0);
  for (const s of config.sources) {
    assert.ok(s.path.startsWith("/") && s.name !== "" && !s.name.includes("/"), s.path);
  }
  assert.equal(
    new Set(config.sources.map((s) => s.name.toLowerCase())).size,
    config.sources.length,
  );
  assert.ok(config.backupRoot.startsWith("/") && config.logDir.startsWith("/"));
  assert.ok(HASH_ALGORITHMS.includes(config.hashAlgorithm), config.hashAlgorithm);
  assert.ok(Number.isInteger(config.maxVersionsPerFile) && config.maxVersionsPerFile >= 1);
  assert.ok(Number.isInteger(config.logRetention) && config.logRetention >= 1);
  assert.ok(config.maxDeletePercent >= 0 && config.maxDeletePercent <= 100);
  assert.ok(Number.isInteger(config.watch.debounceMs) && config.watch.debounceMs >= 0);
  assert.ok(Number.isFinite(config.watch.rescanIntervalMs) && config.watch.rescanIntervalMs >= 0);
  assert.ok(config.exclude.every((p) => typeof p === "string" && p.trim() !== ""));
  assert.equal(typeof config.excludeCaches, "boolean");
  assert.equal(typeof config.oneFileSystem, "boolean");
  assert.equal(typeof config.shareBlocks, "boolean");
  assert.ok(config.excludeIfPresent.every((n) => n !== "" && !/[/\\]|^\.\.?$/.test(n)));
  assert.equal(typeof config.rehash, "boolean");
  return "config";
}

/** Runs a property against files written into one temp tree; checks nothing else changed. */
function fuzz<T>(
  arb: fc.Arbitrary<T>,
  write: (tree: Tree, value: T) => string,
  runs: number,
  expect?: "config" | "error",
): { config: number; error: number } {
  return withTree((tree) => {
    tree.write("{}");
    const before = listTree(tree.dir);
    const seen = { config: 0, error: 0 };
    fc.assert(
      fc.property(arb, (value) => {
        const got = contract(write(tree, value));
        if (expect) assert.equal(got, expect);
        seen[got]++;
      }),
      { numRuns: runs, seed: seed() },
    );
    assert.deepEqual(listTree(tree.dir), before, "loading a config created or removed files");
    console.log(`  ${seen.config} loaded, ${seen.error} rejected with a one-line ConfigError`);
    return seen;
  });
}

const VALID = { sources: ["./data"], backup_root: "./backup" };

/** Paths to key positions, nested ones included, and a few that are not keys at all. */
const KEYS = [
  "$schema",
  "sources",
  "backup_root",
  "log_dir",
  "hash_algorithm",
  "retention",
  "retention.max_versions_per_file",
  "exclude",
  "exclude_from",
  "exclude_caches",
  "exclude_if_present",
  "one_file_system",
  "exclude_larger_than",
  "watch",
  "watch.debounce_ms",
  "watch.rescan_interval",
  "safety",
  "safety.max_delete_percent",
  "log_retention",
  "log_unchanged",
  "rehash",
  "share_blocks",
  "sources.0",
  "sources.0.path",
  "sources.0.name",
  "exclude.0",
  "exclude_from.0",
  "exclude_if_present.0",
  "unknown_key",
  "retention.unknown",
];

/** Values that probe edges, beside fast-check's random JSON values. */
const EDGE = fc.constantFrom<unknown>(
  0,
  -0,
  1,
  -1,
  0.5,
  100,
  100.0001,
  2 ** 31,
  2 ** 53,
  -(2 ** 53),
  1e308,
  "",
  " ",
  "/",
  ".",
  "..",
  "./data",
  "./data/inner",
  "./backup",
  "./file.txt",
  "./dangling",
  "versions",
  "SHA256",
  "md5",
  "#x",
  "!x",
  "a\u0000b",
  "\u202e",
  "x".repeat(5000),
  [],
  {},
  null,
  true,
  false,
  { path: "./data" },
  { path: "./other", name: "data" },
  ["./data", "./data"],
);

function setKey(base: Record<string, unknown>, key: string, value: unknown) {
  const copy = structuredClone(base) as Record<string, unknown>;
  const parts = key.split(".");
  let node: Record<string, unknown> = copy;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== "object" || next === null) node[part] = /^\d+$/.test(part) ? [] : {};
    node = node[part] as Record<string, unknown>;
    if (Array.isArray(node) && node.length === 0) node.push({ path: "./data" });
  }
  node[parts[parts.length - 1]] = value;
  return copy;
}

Deno.test("config fuzz: one key set to a random value → a sound Config or a one-line ConfigError", () => {
  fuzz(
    fc.record({
      key: fc.constantFrom(...KEYS),
      value: fc.oneof(EDGE, fc.jsonValue({ maxDepth: 3 })),
      extra: fc.option(fc.record({ key: fc.constantFrom(...KEYS), value: EDGE })),
    }),
    (tree, { key, value, extra }) => {
      let config = setKey(VALID, key, value);
      if (extra) config = setKey(config, extra.key, extra.value);
      return tree.write(JSON.stringify(config));
    },
    600,
  );
});

const TOKENS = [
  "{",
  "}",
  "[",
  "]",
  ":",
  ",",
  '"sources"',
  '"backup_root"',
  '"retention"',
  '"max_versions_per_file"',
  '"./data"',
  '"./backup"',
  "1",
  "-1",
  "1e400",
  "0x10",
  "true",
  "null",
  "undefined",
  "// comment\n",
  "/* block */",
  "/*",
  '"\\u12"',
  '"\\q"',
  '"unterminated',
  "'single'",
  "\n",
  "\r",
  " ",
  "\t",
  "\uFEFF",
  "\u0000",
];

Deno.test("config fuzz: JSONC token soup → a sound Config or a one-line ConfigError", () => {
  fuzz(
    fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }),
    (tree, tokens) => tree.write(tokens.join("")),
    600,
  );
});

Deno.test("config fuzz: random text and random bytes → a one-line ConfigError (or a Config)", () => {
  fuzz(
    fc.oneof(
      fc.string({ unit: "binary", maxLength: 200 }),
      fc.json({ maxDepth: 4 }),
      fc.uint8Array({ maxLength: 200 }),
    ),
    (tree, content) => {
      const file = tree.at("config.jsonc");
      if (typeof content === "string") Deno.writeTextFileSync(file, content);
      else Deno.writeFileSync(file, content);
      return file;
    },
    600,
  );
});

Deno.test("config fuzz: a valid config with random comments and trailing commas still loads", () => {
  const comment = fc.constantFrom("", " ", "\n", "// c\n", "/* c */", "/* \n */", "\r\n");
  fuzz(
    fc.array(comment, { minLength: 12, maxLength: 12 }),
    (tree, c) =>
      tree.write(
        `${c[0]}{${c[1]}"sources"${c[2]}:${c[3]}[${c[4]}"./data"${c[5]},${c[6]}]${c[7]},` +
          `${c[8]}"backup_root"${c[9]}:${c[10]}"./backup"${c[11]},}`,
      ),
    200,
    "config",
  );
  withTree((tree) => {
    assert.equal(
      contract(tree.write('/* c */ { "sources": ["./data",], "backup_root": "b", }')),
      "config",
    );
  });
});

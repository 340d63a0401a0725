/**
 * Tests for loading valid configs (defaults, every key, path resolution, JSONC syntax),
 * for findConfigFile, and for read failures. Each case builds a real temp folder tree and
 * config file (see test_util.ts); rejected configs are covered in config_errors_test.ts.
 * The defaults README and docs/configuration.md give are checked against DEFAULTS.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { createHash } from "node:crypto";
import {
  type Config,
  ConfigError,
  DEFAULTS,
  findConfigFile,
  HASH_ALGORITHMS,
  loadConfig,
} from "./config.ts";
import { listTree, type Tree, withTree } from "./test_util.ts";

const BASE = { sources: ["./data"], backup_root: "./backup" };

function defaults(tree: Tree): Config {
  return {
    file: tree.at("config.jsonc"),
    sources: [{ name: "data", path: tree.at("data") }],
    backupRoot: tree.at("backup"),
    logDir: tree.at("logs"),
    hashAlgorithm: "sha256",
    maxVersionsPerFile: 10,
    keptPeriods: { days: 0, weeks: 0, months: 0, timeZone: "local" },
    keepDeletedDays: 0,
    exclude: [],
    excludeOrigins: [],
    excludeFrom: [],
    excludeCaches: false,
    excludeIfPresent: [],
    oneFileSystem: false,
    excludeLargerThan: null,
    watch: { debounceMs: 1000, rescanIntervalMs: 3_600_000 },
    maxDeletePercent: 50,
    logRetention: 30,
    logUnchanged: true,
    rehash: false,
    shareBlocks: true,
  };
}

interface ValidCase {
  name: string;
  /** Config file content: text, a JSON value, or a function of the tree giving one. */
  config: unknown;
  /** The expected config, as changes to the defaults. */
  expect: (tree: Tree) => Partial<Config>;
}

const FULL = `// every key, with comments and trailing commas
{
  "$schema": "./config.schema.json",
  /* two sources */
  "sources": ["./data", { "path": "./other", "name": "misc", },],
  "backup_root": "./backups/main",
  "log_dir": "./var/log",
  "hash_algorithm": "sha512",
  "retention": {
    "max_versions_per_file": 3, "keep_daily": 7, "keep_weekly": 4, "keep_monthly": 0,
    "time_zone": "Europe/Berlin",
  },
  "exclude": ["*.tmp", "!keep.tmp", "cache/"],
  // the tree's file.txt: one line, "not a folder", a pattern
  "exclude_from": ["./file.txt"],
  "exclude_caches": true,
  "exclude_if_present": [".nobackup", "NO BACKUP.txt"],
  "one_file_system": true,
  "exclude_larger_than": "1.5G",
  "watch": { "debounce_ms": 0, "rescan_interval": 1.25 },
  "safety": { "max_delete_percent": 12.5 },
  "log_retention": 1,
  "log_unchanged": false,
  "rehash": true,
  "share_blocks": false,
}
`;

const VALID: ValidCase[] = [
  { name: "minimal config gets every default", config: BASE, expect: () => ({}) },
  {
    name: "every key set, JSONC comments and trailing commas",
    config: FULL,
    expect: (t) => ({
      sources: [{ name: "data", path: t.at("data") }, { name: "misc", path: t.at("other") }],
      backupRoot: t.at("backups/main"),
      logDir: t.at("var/log"),
      hashAlgorithm: "sha512",
      maxVersionsPerFile: 3,
      keptPeriods: { days: 7, weeks: 4, months: 0, timeZone: "Europe/Berlin" },
      exclude: ["not a folder", "*.tmp", "!keep.tmp", "cache/"],
      excludeOrigins: [
        { key: "exclude_from[0]", file: t.at("file.txt"), line: 1 },
        ...[0, 1, 2].map((i) => ({ key: `exclude[${i}]` })),
      ],
      excludeFrom: [t.at("file.txt")],
      excludeCaches: true,
      excludeIfPresent: [".nobackup", "NO BACKUP.txt"],
      oneFileSystem: true,
      excludeLargerThan: 1.5 * 1024 ** 3,
      watch: { debounceMs: 0, rescanIntervalMs: 1250 },
      maxDeletePercent: 12.5,
      logRetention: 1,
      logUnchanged: false,
      rehash: true,
      shareBlocks: false,
    }),
  },
  {
    name: "empty nested sections keep their defaults",
    config: { ...BASE, retention: {}, watch: {}, safety: {}, exclude: [] },
    expect: () => ({}),
  },
  {
    name: "boundary values",
    config: {
      ...BASE,
      retention: { max_versions_per_file: 1 },
      watch: { debounce_ms: 2 ** 31 - 1, rescan_interval: 2147483 },
      safety: { max_delete_percent: 100 },
    },
    expect: () => ({
      maxVersionsPerFile: 1,
      watch: { debounceMs: 2 ** 31 - 1, rescanIntervalMs: 2_147_483_000 },
      maxDeletePercent: 100,
    }),
  },
  {
    name: "max_delete_percent 0 and the shortest rescan interval",
    config: { ...BASE, safety: { max_delete_percent: 0 }, watch: { rescan_interval: 1 } },
    expect: () => ({ maxDeletePercent: 0, watch: { debounceMs: 1000, rescanIntervalMs: 1000 } }),
  },
  {
    name: "hash_algorithm in upper case is normalized",
    config: { ...BASE, hash_algorithm: "SHA1" },
    expect: () => ({ hashAlgorithm: "sha1" }),
  },
  ...["UTC", "europe/berlin", "Asia/Kolkata", "+05:30"].map((zone) => ({
    name: `time_zone ${zone} is taken as written`,
    config: { ...BASE, retention: { time_zone: zone } },
    expect: () => ({ keptPeriods: { days: 0, weeks: 0, months: 0, timeZone: zone } }),
  })),
  {
    name: "absolute paths are kept",
    config: (t: Tree) => ({ sources: [t.at("data")], backup_root: t.at("out") }),
    expect: (t) => ({ backupRoot: t.at("out") }),
  },
  {
    name: "backup_root inside a source is allowed",
    config: { sources: ["./data"], backup_root: "./data/backup" },
    expect: (t) => ({ backupRoot: t.at("data/backup") }),
  },
  {
    name: "sibling folders sharing a name prefix do not overlap",
    config: { sources: ["./a/b", "./a/bc"], backup_root: "./a/b2" },
    expect: (t) => ({
      sources: [{ name: "b", path: t.at("a/b") }, { name: "bc", path: t.at("a/bc") }],
      backupRoot: t.at("a/b2"),
    }),
  },
  {
    name: "a symlinked source is realpath'd but named after the link",
    config: { sources: ["./link/"], backup_root: "./link/../out" },
    expect: (t) => ({
      sources: [{ name: "link", path: t.at("data"), written: t.at("link") }],
      backupRoot: t.at("out"),
    }),
  },
  {
    name: "backup_root below a symlink resolves the existing part",
    config: { sources: ["./other"], backup_root: "./link/new/deeper" },
    expect: (t) => ({
      sources: [{ name: "other", path: t.at("other") }],
      backupRoot: t.at("data/new/deeper"),
    }),
  },
  {
    name: "same basenames with explicit names",
    config: {
      sources: [{ path: "./a/b/source", name: "one" }, { path: "./c/source", name: "two" }],
      backup_root: "./backup",
    },
    expect: (t) => ({
      sources: [{ name: "one", path: t.at("a/b/source") }, { name: "two", path: t.at("c/source") }],
    }),
  },
  {
    name: "a reserved folder name is fine with an explicit name",
    config: { sources: [{ path: "./versions", name: "old-versions" }], backup_root: "./backup" },
    expect: (t) => ({ sources: [{ name: "old-versions", path: t.at("versions") }] }),
  },
  {
    name: "UTF-8 BOM and CRLF line endings",
    config: '\uFEFF{\r\n  "sources": ["./data"], // x\r\n  "backup_root": "./backup"\r\n}\r\n',
    expect: () => ({}),
  },
];

Deno.test("loadConfig accepts valid configs", async (t) => {
  for (const c of VALID) {
    await t.step(c.name, () =>
      withTree((tree) => {
        const content = typeof c.config === "function" ? c.config(tree) : c.config;
        const file = tree.write(content);
        assert.deepStrictEqual(loadConfig(file), { ...defaults(tree), ...c.expect(tree) });
      }));
  }
});

Deno.test("relative paths resolve against the config folder, not the cwd", () =>
  withTree((tree) => {
    Deno.mkdirSync(tree.at("etc/app"), { recursive: true });
    const file = tree.write({ sources: ["../../data"], backup_root: "b" }, "etc/app/cfg.json");
    assert.notEqual(Deno.cwd(), tree.at("etc/app"));
    const config = loadConfig(relative(Deno.cwd(), file));
    assert.equal(config.file, file);
    assert.deepStrictEqual(config.sources, [{ name: "data", path: tree.at("data") }]);
    assert.equal(config.backupRoot, tree.at("etc/app/b"));
    assert.equal(config.logDir, tree.at("etc/app/logs"));
  }));

Deno.test("loadConfig creates and changes nothing on disk", () =>
  withTree((tree) => {
    const file = tree.write({ ...BASE, backup_root: "./new/backup", log_dir: "./new/logs" });
    const before = listTree(tree.dir);
    loadConfig(file);
    assert.deepStrictEqual(listTree(tree.dir), before);
  }));

Deno.test("loadConfig reports unreadable files", async (t) => {
  const cases = [
    {
      name: "missing file",
      file: "nope.jsonc",
      expect: "it does not exist",
      remedy: ": check the path, or create it with backup-tool init --config '",
    },
    {
      name: "a symlink to nothing",
      file: "dangling.jsonc",
      link: "nowhere.jsonc",
      expect: "it is a symlink to 'nowhere.jsonc', which does not exist: check the " +
        "symlink, or pass --config FILE naming the config file",
    },
    { name: "a folder", file: "data", expect: "it is a folder" },
  ];
  for (const c of cases) {
    await t.step(c.name, () =>
      withTree((tree) => {
        const file = tree.at(c.file);
        if (c.link) Deno.symlinkSync(c.link, file);
        assert.throws(() => loadConfig(file), (err: Error) => {
          assert.ok(err instanceof ConfigError);
          assert.equal(err.name, "ConfigError");
          assert.ok(
            err.message.startsWith(`Cannot read config '${file}': ${c.expect}`),
            err.message,
          );
          assert.ok(!err.message.includes("\n"));
          if (c.remedy) assert.ok(err.message.endsWith(`${c.remedy}${file}'`), err.message);
          return true;
        });
      }));
  }
  // The system says only "Not a directory (os error 20)", leaving which part to guess.
  await t.step("a path below a file", () =>
    withTree((tree) => {
      const file = tree.at("file.txt/config.jsonc");
      assert.throws(() => loadConfig(file), (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(
          err.message,
          `Cannot read config '${file}': '${tree.at("file.txt")}' is a file, not a folder: ` +
            "check the path, or pass --config FILE naming the config file",
        );
        return true;
      });
    }));
  await t.step("invalid UTF-8", () =>
    withTree((tree) => {
      Deno.writeFileSync(tree.at("config.jsonc"), new Uint8Array([0x7b, 0xff, 0x7d]));
      assert.throws(() => loadConfig(tree.at("config.jsonc")), /not UTF-8 text/);
    }));
});

Deno.test("findConfigFile", async (t) => {
  const cases: { name: string; files: string[]; explicit?: string; expect: string }[] = [
    {
      name: "prefers config.jsonc",
      files: ["config.jsonc", "config.json"],
      expect: "config.jsonc",
    },
    { name: "falls back to config.json", files: ["config.json"], expect: "config.json" },
    {
      // Taken, to be said broken by loadConfig: config.json may be another job's.
      name: "takes a config.jsonc folder over config.json",
      files: ["config.jsonc/", "config.json"],
      expect: "config.jsonc",
    },
    { name: "explicit relative path", files: [], explicit: "etc/my.jsonc", expect: "etc/my.jsonc" },
    { name: "explicit path wins", files: ["config.jsonc"], explicit: "x.json", expect: "x.json" },
  ];
  for (const c of cases) {
    await t.step(c.name, () =>
      withTree((tree) => {
        for (const f of c.files) {
          if (f.endsWith("/")) Deno.mkdirSync(tree.at(f));
          else tree.write("{}", f);
        }
        assert.equal(findConfigFile(c.explicit, tree.dir), tree.at(c.expect));
      }));
  }
  await t.step("explicit absolute path", () => {
    assert.equal(findConfigFile("/etc/b.jsonc", "/tmp"), "/etc/b.jsonc");
  });
  await t.step("neither file exists", () =>
    withTree((tree) => {
      assert.throws(() => findConfigFile(undefined, tree.dir), (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(
          err.message,
          `Cannot find config: neither 'config.jsonc' nor 'config.json' in '${tree.dir}':` +
            " pass --config FILE",
        );
        return true;
      });
    }));
  await t.step("relative cwd is made absolute", () =>
    withTree((tree) => {
      tree.write("{}", "config.json");
      assert.equal(
        findConfigFile(undefined, relative(Deno.cwd(), tree.dir)),
        join(tree.dir, "config.json"),
      );
    }));
});

Deno.test("every accepted hash_algorithm is computed by this runtime, with its own digest", () => {
  const empty = HASH_ALGORITHMS.map((algo) => createHash(algo).update("").digest("hex"));
  assert.equal(empty[0], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(new Set(empty).size, HASH_ALGORITHMS.length);
});

Deno.test("hash_algorithm takes Python hashlib's names too, as the reference's config did", () =>
  withTree((tree) => {
    const cases: [string, string][] = [
      ["blake2b", "blake2b512"],
      ["BLAKE2s", "blake2s256"],
      ["sha3_256", "sha3-256"],
      ["sha3-512", "sha3-512"],
      ["SHA256", "sha256"],
      ["sha512_256", "sha512-256"],
      ["sha512_224", "sha512-224"],
      ["SHA512-256", "sha512-256"],
    ];
    for (const [given, recorded] of cases) {
      const file = tree.write(
        JSON.stringify({ sources: ["./data"], backup_root: "./b", hash_algorithm: given }),
        "config.json",
      );
      assert.equal(loadConfig(file).hashAlgorithm, recorded, given);
    }
  }));

Deno.test("README's and configuration.md's tables give every key's default as DEFAULTS has it", () => {
  const repo = join(import.meta.dirname!, "..", "..");
  for (const doc of ["README.md", join("docs", "configuration.md")]) {
    const text = Deno.readTextFileSync(join(repo, doc));
    const rows = new Map(
      [...text.matchAll(/^\| `([a-z_.]+)` +\| ([^|]+?) +\|/gm)].map((m) => [m[1], m[2]]),
    );
    for (const [key, value] of Object.entries(DEFAULTS)) {
      assert.equal(
        rows.get(key),
        `\`${JSON.stringify(value)}\``.replace(/"/g, ""),
        `${doc}: ${key}`,
      );
    }
  }
});

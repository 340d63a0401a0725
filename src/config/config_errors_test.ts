/**
 * Table tests for rejected configs. Each case writes a config into a fresh temp tree (see
 * test_util.ts) and checks that loadConfig throws a one-line ConfigError starting with
 * `Cannot load config '<file>': ` and containing every expected substring (`$DIR` stands
 * for the tree's folder), so key paths, values, positions and remedies are all asserted.
 */
import assert from "node:assert/strict";
import { assertRefused, withTree } from "./test_util.ts";
import { readFailure as readConfigFailure } from "./config_text.ts";

const BASE = { sources: ["./data"], backup_root: "./backup" };

/** [case name, config (text or JSON value), expected substrings]. */
type Case = [string, unknown, string[]];

const SYNTAX: Case[] = [
  ["missing comma", '{\n  "sources": ["./data"]\n  "backup_root": "b"\n}', [
    "line 3, column 3: expected ','",
  ]],
  ["single quotes", "{ \"sources\": ['./data'] }", ["line 1, column 15: unexpected character"]],
  ["missing colon", '{\n  // c\n  "sources" ["x"] }', ["line 3, column 13: expected ':'"]],
  ["unterminated string", '{ "sources": ["./data\n] }', ["line 1, column 15: unterminated string"]],
  ["unterminated comment", '{ "sources": [] /* x', ["line 1, column 17: unterminated comment"]],
  ["unclosed object", '{ "sources": []', ["line 1, column 16: expected '}'"]],
  ["unclosed array", '{"a": [1,\r\n 2', ["line 2, column 3: expected ']'"]],
  ["bad escape", '{ "a": "\\q" }', ["line 1, column 8: invalid escape character"]],
  ["bare word", '{ "rehash": True }', ["line 1, column 13: unexpected character or word"]],
  ["trailing garbage", "{} {}", ["line 1, column 4: expected the end of the file"]],
  ["empty file", " \n", ["the file holds only white space"]],
  ["top level array", "[]", ["the top level must be an object ({ ... }), got array"]],
  ["top level string", '"x"', ["the top level must be an object ({ ... }), got string"]],
  ["duplicate key", '{\n  "sources": [],\n  "sources": []\n}', [
    "line 3, column 3: duplicate key 'sources': keep only one of them",
  ]],
  [
    "nested duplicate key",
    '{ "retention": { "max_versions_per_file": 1, "max_versions_per_file": 2 } }',
    [
      "duplicate key 'retention.max_versions_per_file'",
    ],
  ],
];

const UNKNOWN_KEYS: Case[] = [
  ["top-level typo", { ...BASE, retension: {} }, [
    "unknown key 'retension' (did you mean 'retention'?)",
  ]],
  ["nested typo", { ...BASE, retention: { max_version: 3 } }, [
    "unknown key 'retention.max_version' (did you mean 'max_versions_per_file'?)",
  ]],
  ["watch typo", { ...BASE, watch: { debounce: 1 } }, [
    "unknown key 'watch.debounce' (did you mean 'debounce_ms'?)",
  ]],
  ["exclude_larger_than typo", { ...BASE, exclude_larger_then: "1G" }, [
    "unknown key 'exclude_larger_then' (did you mean 'exclude_larger_than'?)",
  ]],
  ["restic's exclude_file", { ...BASE, exclude_file: ["./x"] }, [
    "unknown key 'exclude_file' (did you mean 'exclude_from'?)",
  ]],
  ["git's excludesFile", { ...BASE, excludesFile: "./x" }, [
    "unknown key 'excludesFile' (did you mean 'exclude_from'?)",
  ]],
  ["a key named as an Object property", { ...BASE, constructor: 1 }, [
    "unknown key 'constructor'",
  ]],
  ["camelCase key", { ...BASE, backupRoot: "x" }, [
    "unknown key 'backupRoot' (did you mean 'backup_root'?)",
  ]],
  ["nested key at top level", { ...BASE, max_versions_per_file: 3 }, [
    "unknown key 'max_versions_per_file' (it belongs inside 'retention'",
  ]],
  ["source object key", { ...BASE, sources: [{ path: "./data", nmae: "d" }] }, [
    "unknown key 'sources[0].nmae' (did you mean 'name'?)",
  ]],
  ["no close match", { ...BASE, frobnicate: 1 }, ["unknown key 'frobnicate'"]],
  ["exclude_cache", { ...BASE, exclude_cache: true }, [
    "unknown key 'exclude_cache' (did you mean 'exclude_caches'?)",
  ]],
  ["one_filesystem", { ...BASE, one_filesystem: true }, [
    "unknown key 'one_filesystem' (did you mean 'one_file_system'?)",
  ]],
  ["share_block", { ...BASE, share_block: false }, [
    "unknown key 'share_block' (did you mean 'share_blocks'?)",
  ]],
];

const WRONG_TYPES: Case[] = [
  ["$schema", { ...BASE, $schema: 1 }, ["'$schema' must be a string, got number"]],
  ["sources", { ...BASE, sources: "./data" }, [
    "'sources' must be an array of folders, got string",
  ]],
  ["source item", { ...BASE, sources: [1] }, [
    "'sources[0]' must be a folder path string or",
    "got number",
  ]],
  ["source path", { ...BASE, sources: [{ path: 1 }] }, [
    "'sources[0].path' must be a string, got number",
  ]],
  ["source name", { ...BASE, sources: [{ path: "./data", name: null }] }, [
    "'sources[0].name' must be a string, got null",
  ]],
  ["backup_root", { ...BASE, backup_root: 5 }, ["'backup_root' must be a string, got number"]],
  ["log_dir", { ...BASE, log_dir: null }, ["'log_dir' must be a string, got null"]],
  ["hash_algorithm", { ...BASE, hash_algorithm: 256 }, [
    "'hash_algorithm' must be a string, got number",
  ]],
  ["retention", { ...BASE, retention: 10 }, [
    "'retention' must be an object ({ ... }), got number",
  ]],
  ["max_versions_per_file", { ...BASE, retention: { max_versions_per_file: "10" } }, [
    "'retention.max_versions_per_file' must be an integer, got string \"10\": " +
    "write it without quotes (10)",
  ]],
  ["exclude", { ...BASE, exclude: "*.tmp" }, [
    "'exclude' must be an array of patterns, got string",
  ]],
  ["exclude item", { ...BASE, exclude: ["a", 1] }, ["'exclude[1]' must be a string, got number"]],
  ["exclude_caches", { ...BASE, exclude_caches: "true" }, [
    "'exclude_caches' must be true or false, got string \"true\": write it without quotes (true)",
  ]],
  ["one_file_system", { ...BASE, one_file_system: 1 }, [
    "'one_file_system' must be true or false, got number 1",
  ]],
  ["share_blocks", { ...BASE, share_blocks: "false" }, [
    "'share_blocks' must be true or false, got string \"false\": write it without quotes (false)",
  ]],
  ["exclude_larger_than unit", { ...BASE, exclude_larger_than: "500X" }, [
    '\'exclude_larger_than\' "500X" is not a size: give a number of bytes, or a number with a unit K, M, G or T (1024-based, as restic reads them), e.g. "500M" or "1.5G"; null (or no key) for no limit',
  ]],
  ["exclude_larger_than zero", { ...BASE, exclude_larger_than: 0 }, [
    '\'exclude_larger_than\' 0 is not a size of more than 0 bytes: give a number of bytes, or a number with a unit K, M, G or T (1024-based, as restic reads them), e.g. "500M" or "1.5G"; null (or no key) for no limit',
  ]],
  ["exclude_larger_than negative", { ...BASE, exclude_larger_than: "-1M" }, [
    '\'exclude_larger_than\' "-1M" is not a size: give a number of bytes, or a number with a unit K, M, G or T (1024-based, as restic reads them), e.g. "500M" or "1.5G"; null (or no key) for no limit',
  ]],
  ["exclude_larger_than fraction", { ...BASE, exclude_larger_than: "1.3K" }, [
    '\'exclude_larger_than\' "1.3K" is 1331.2 bytes, a fraction of a byte (1331 is whole): give a number of bytes, or a number with a unit K, M, G or T (1024-based, as restic reads them), e.g. "500M" or "1.5G"; null (or no key) for no limit',
  ]],
  ["exclude_larger_than type", { ...BASE, exclude_larger_than: true }, [
    '\'exclude_larger_than\' true is not a size (got boolean): give a number of bytes, or a number with a unit K, M, G or T (1024-based, as restic reads them), e.g. "500M" or "1.5G"; null (or no key) for no limit',
  ]],
  ["exclude_if_present", { ...BASE, exclude_if_present: ".nobackup" }, [
    "'exclude_if_present' must be an array of file names, e.g. [\".nobackup\"], got string",
  ]],
  ["exclude_if_present item", { ...BASE, exclude_if_present: [1] }, [
    "'exclude_if_present[0]' must be a string, got number",
  ]],
  ["watch", { ...BASE, watch: [] }, ["'watch' must be an object ({ ... }), got array"]],
  ["debounce_ms", { ...BASE, watch: { debounce_ms: true } }, [
    "'watch.debounce_ms' must be an integer, got boolean true",
  ]],
  ["rescan_interval", { ...BASE, watch: { rescan_interval: "1h" } }, [
    "'watch.rescan_interval' must be a number, got string \"1h\"",
  ]],
  ["safety", { ...BASE, safety: "on" }, ["'safety' must be an object ({ ... }), got string"]],
  ["max_delete_percent", { ...BASE, safety: { max_delete_percent: "50%" } }, [
    "'safety.max_delete_percent' must be a number, got string",
  ]],
  ["log_retention", { ...BASE, log_retention: [30] }, [
    "'log_retention' must be an integer, got array",
  ]],
  ["rehash", { ...BASE, rehash: "yes" }, ["'rehash' must be true or false, got string \"yes\""]],
  ["rehash quoted", { ...BASE, rehash: " TRUE" }, [
    "'rehash' must be true or false, got string \" TRUE\": write it without quotes (true)",
  ]],
];

const VALUES: Case[] = [
  ...[0, -1, 1.5].map((n): Case => [`max_versions_per_file ${n}`, {
    ...BASE,
    retention: { max_versions_per_file: n },
  }, [
    `'retention.max_versions_per_file' must be an integer from 1 to 9007199254740991, got ${n}`,
  ]]),
  ...[-1, 1.5].map((n): Case => [`keep_daily ${n}`, {
    ...BASE,
    retention: { keep_daily: n },
  }, [`'retention.keep_daily' must be an integer from 0 to 9007199254740991, got ${n}`]]),
  ["keep_deleted_days -1", { ...BASE, retention: { keep_deleted_days: -1 } }, [
    "'retention.keep_deleted_days' must be an integer from 0 to 9007199254740991, got -1",
  ]],
  ["keep_weekly as text", { ...BASE, retention: { keep_weekly: "4" } }, [
    "'retention.keep_weekly' must be an integer, got string \"4\"",
  ]],
  ["time_zone misspelt", { ...BASE, retention: { time_zone: "Europe/Berln" } }, [
    "unknown 'retention.time_zone' 'Europe/Berln' (did you mean 'Europe/Berlin'?):" +
    ' write "local" (the zone each command runs in) or an IANA zone name such as' +
    ' "Europe/Berlin", "UTC" or "America/New_York"',
  ]],
  ...["Mars/Olympus", "", "Local", "CET-1CEST,M3.5.0,M10.5.0/3"].map((zone): Case => [
    `time_zone ${JSON.stringify(zone)}`,
    { ...BASE, retention: { time_zone: zone } },
    [`unknown 'retention.time_zone' '${zone}'`, 'write "local" (the zone each command runs in)'],
  ]),
  ["time_zone as a number", { ...BASE, retention: { time_zone: 1 } }, [
    "'retention.time_zone' must be a string, got number 1",
  ]],
  ["time_zone at top level", { ...BASE, time_zone: "UTC" }, [
    "unknown key 'time_zone' (it belongs inside 'retention'",
  ]],
  ["keep_monthly at top level", { ...BASE, keep_monthly: 12 }, [
    "unknown key 'keep_monthly' (it belongs inside 'retention'",
  ]],
  ["debounce_ms -1", { ...BASE, watch: { debounce_ms: -1 } }, [
    "'watch.debounce_ms' must be an integer from 0 to 2147483647, got -1",
  ]],
  ["rescan_interval -5", { ...BASE, watch: { rescan_interval: -5 } }, [
    "'watch.rescan_interval' must be a number from 0 to 2147483, got -5",
  ]],
  ...[0.001, 0.5, 0.999].map((n): Case => [`rescan_interval ${n}`, {
    ...BASE,
    watch: { rescan_interval: n },
  }, [
    `'watch.rescan_interval' must be 0 (no periodic rescans) or a number of seconds from 1 to ` +
    `2147483, got ${n}: a shorter interval would keep the watch rescanning everything without ` +
    "a pause",
  ]]),
  ["rescan_interval too long for a timer", { ...BASE, watch: { rescan_interval: 1e10 } }, [
    "'watch.rescan_interval' must be a number from 0 to 2147483, got 10000000000",
  ]],
  ["max_delete_percent 101", { ...BASE, safety: { max_delete_percent: 101 } }, [
    "'safety.max_delete_percent' must be a number from 0 to 100, got 101",
  ]],
  [
    "log_retention overflows",
    '{"sources": ["./data"], "backup_root": "b", "log_retention": 1e400}',
    [
      "'log_retention' must be an integer from 1 to 9007199254740991, got Infinity",
    ],
  ],
  ["log_retention 0", { ...BASE, log_retention: 0 }, [
    "'log_retention' must be an integer from 1 to 9007199254740991, got 0",
  ]],
  ["unknown algorithm, close", { ...BASE, hash_algorithm: "sha-256" }, [
    "unknown 'hash_algorithm' 'sha-256' (did you mean 'sha256'?): use one of sha256, sha512",
  ]],
  ["unknown algorithm", { ...BASE, hash_algorithm: "blake3" }, [
    "unknown 'hash_algorithm' 'blake3': use one of sha256, sha512, sha384, sha224, sha512-256, " +
    "sha512-224, sha3-256, sha3-512, sha3-384, sha3-224, blake2b512, blake2s256, sha1, md5",
  ]],
  ["empty exclude_if_present name", { ...BASE, exclude_if_present: [".nobackup", ""] }, [
    "'exclude_if_present[1]' '' is empty: give the name of a file a folder holds",
  ]],
  ["exclude_if_present path", { ...BASE, exclude_if_present: ["a/.nobackup"] }, [
    "'exclude_if_present[0]' 'a/.nobackup' holds a path separator: give the name of a file",
  ]],
  ["exclude_if_present backslash", { ...BASE, exclude_if_present: ["a\\b"] }, [
    "'exclude_if_present[0]' 'a\\b' holds a path separator",
  ]],
  ["exclude_if_present dot", { ...BASE, exclude_if_present: [".."] }, [
    "'exclude_if_present[0]' '..' names a folder itself: give the name of a file",
  ]],
  ["empty exclude pattern", { ...BASE, exclude: ["*.tmp", " "] }, [
    "'exclude[1]' must not be empty",
  ]],
  ["comment exclude pattern", { ...BASE, exclude: ["#notes"] }, [
    "'exclude[0]' '#notes' is a comment in gitignore syntax",
    "write '\\#notes'",
  ]],
  ["exclude pattern with an unclosed bracket", { ...BASE, exclude: ["*.tmp", "[abc"] }, [
    "'exclude[1]' '[abc' has a '[' that no ']' closes, which matches nothing",
  ]],
  ["exclude pattern naming nothing", { ...BASE, exclude: ["/"] }, [
    "'exclude[0]' '/' names nothing",
  ]],
  ["empty backup_root", { ...BASE, backup_root: "" }, [
    "'backup_root' must not be empty: give a folder path (\".\" is the config's folder)",
  ]],
  ["empty source path", { ...BASE, sources: [""] }, ["'sources[0]' must not be empty"]],
  ["home folder as ~", { ...BASE, backup_root: "~/bk" }, [
    "'backup_root' '~/bk' starts with '~', which the config does not expand: write the full path",
  ]],
  ["variable in a path", { ...BASE, log_dir: "$HOME/logs" }, [
    "'log_dir' '$HOME/logs' starts with '$', which the config does not expand",
  ]],
  ["~ in a source", { ...BASE, sources: ["~"] }, ["'sources[0]' '~' starts with '~'"]],
  ["~user in a path", { ...BASE, backup_root: "~alice/bk" }, ["'backup_root' '~alice/bk' starts"]],
  ["a Windows %VARIABLE%", { ...BASE, backup_root: "%USERPROFILE%\\bk" }, [
    "'backup_root' '%USERPROFILE%\\bk' starts with '%', which the config does not expand",
  ]],
];

const PATHS: Case[] = [
  ["missing sources", { backup_root: "./b" }, [
    "missing required key 'sources'",
    '"sources": ["./data"]',
  ]],
  ["empty sources", { ...BASE, sources: [] }, ["'sources' must not be empty"]],
  ["missing backup_root", { sources: ["./data"] }, ["missing required key 'backup_root'"]],
  ["missing source path", { ...BASE, sources: [{ name: "x" }] }, [
    "missing required key 'sources[0].path'",
  ]],
  ["nonexistent source", { ...BASE, sources: ["./data", "./nope"] }, [
    "source '$DIR/nope' (sources[1]) does not exist: check the path or mount the disk",
  ]],
  ["source through a broken symlink", { ...BASE, sources: ["./dangling"] }, [
    "source '$DIR/dangling' (sources[0]) does not exist",
  ]],
  ["source is a file", { ...BASE, sources: ["./file.txt"] }, [
    "source '$DIR/file.txt' (sources[0]) is not a folder",
  ]],
  ["source below a file", { ...BASE, sources: ["./file.txt/data"] }, [
    "source '$DIR/file.txt/data' (sources[0]) does not exist ('$DIR/file.txt' is a file, not" +
    " a folder): check the path or mount the disk",
  ]],
  ["backup_root is a source", { sources: ["./other", "./data"], backup_root: "./data" }, [
    "'backup_root' is the same folder as source 'data' ('$DIR/data')",
  ]],
  ["backup_root is a source via symlink", { sources: ["./data"], backup_root: "./link" }, [
    "'backup_root' is the same folder as source 'data'",
  ]],
  ["source inside backup_root", { sources: ["./data/inner"], backup_root: "./data" }, [
    "source 'inner' ('$DIR/data/inner') is inside 'backup_root' ('$DIR/data')",
  ]],
  ["nested sources", { ...BASE, sources: ["./data", "./other", "./link/inner"] }, [
    "source 'inner' ('$DIR/data/inner') is inside source 'data' ('$DIR/data')",
  ]],
  ["nested sources, outer second", { ...BASE, sources: ["./data/inner", "./data"] }, [
    "source 'inner' ('$DIR/data/inner') is inside source 'data'",
  ]],
  ["same source twice via symlink", { ...BASE, sources: ["./data", "./link"] }, [
    "sources[0] and sources[1] are the same folder ('$DIR/data')",
  ]],
  ["same source twice", { ...BASE, sources: ["./data", "data/"] }, [
    "sources[0] and sources[1] are the same folder ('$DIR/data'): remove one of them",
  ]],
  ["duplicate basenames", { ...BASE, sources: ["./a/b/source", "./c/source"] }, [
    "sources[0] and sources[1] are both named 'source': give each source a unique \"name\"",
    '{ "path": "./c/source", "name": "source-2" }',
  ]],
  // The example name is one no other source has: as written, it makes a config that loads.
  ["duplicate basenames, the example's name taken", {
    ...BASE,
    sources: ["./a/b/source", { path: "./data", name: "Source-2" }, "./c/source"],
  }, [
    "sources[0] and sources[2] are both named 'source'",
    '{ "path": "./c/source", "name": "source-3" }',
  ]],
  ["duplicate names ignoring case", {
    ...BASE,
    sources: ["./x/Photos", { path: "./data", name: "photos" }],
  }, [
    "sources[0] and sources[1] are named 'Photos' and 'photos', which differ only in letter " +
    'case (as folder names on some disks): give each source a unique "name", e.g. ' +
    '{ "path": "./data", "name": "photos-2" }',
  ]],
  ["reserved basename", { ...BASE, sources: ["./versions"] }, [
    "source name 'versions' (sources[0]) is reserved for the backup's own folders",
    'give it a name: { "path": "./versions", "name": "..." }',
  ]],
  ...["_duplicates", "_Deleted", ".backup-tool", ".backup-tool-2", "_sources", "versions~"].map((
    name,
  ): Case => [`reserved name ${name}`, { ...BASE, sources: [{ path: "./data", name }] }, [
    `source name '${name}' (sources[0].name) is reserved`,
  ]]),
  ["name with a slash", { ...BASE, sources: [{ path: "./data", name: "a/b" }] }, [
    "source name 'a/b' (sources[0].name) must be a single folder name",
  ]],
  ["name with a backslash", { ...BASE, sources: [{ path: "./data", name: "a\\b" }] }, [
    "must be a single folder name without '/' or '\\'",
  ]],
  ["name ..", { ...BASE, sources: [{ path: "./data", name: ".." }] }, [
    "source name '..' (sources[0].name) is not",
  ]],
  ["empty name", { ...BASE, sources: [{ path: "./data", name: "" }] }, [
    "'sources[0].name' must not be empty",
  ]],
  ["root folder has no name", { ...BASE, sources: ["/"] }, [
    "source '/' (sources[0]) has no folder name to use",
    '{ "path": "/", "name": "..." }',
  ]],
  ["backup_root is a file", { ...BASE, backup_root: "./file.txt" }, [
    "'backup_root' '$DIR/file.txt' is not a folder: choose a folder path",
  ]],
  ["backup_root below a file", { ...BASE, backup_root: "./file.txt/b" }, [
    "'backup_root' '$DIR/file.txt/b' is not a folder (its part '$DIR/file.txt' is a file)",
  ]],
  ["log_dir through a broken symlink", { ...BASE, log_dir: "./dangling/logs" }, [
    "'log_dir' '$DIR/dangling/logs' goes through the broken symlink '$DIR/dangling'",
  ]],
];

const GROUPS: [string, Case[]][] = [
  ["syntax", SYNTAX],
  ["unknown keys", UNKNOWN_KEYS],
  ["wrong types", WRONG_TYPES],
  ["bad values", VALUES],
  ["paths and sources", PATHS],
];

for (const [group, cases] of GROUPS) {
  Deno.test(`loadConfig rejects: ${group}`, async (t) => {
    for (const [name, config, expected] of cases) {
      await t.step(name, () =>
        withTree((tree) => {
          const file = tree.write(config);
          assertRefused(tree, file, expected);
        }));
    }
  });
}

Deno.test("config: a config path through a file is named where the system says the path is not found, as Windows does", () =>
  withTree((tree) => {
    // withTree's file.txt is a file. Windows answers a path below a file with ERROR_PATH_NOT_FOUND (NotFound), not ENOTDIR.
    const windows = new Deno.errors.NotFound(
      "The system cannot find the path specified. (os error 3)",
    );
    const linux = new Deno.errors.NotADirectory("Not a directory (os error 20)");
    for (const err of [windows, linux]) {
      assert.match(
        readConfigFailure(tree.at("file.txt/config.jsonc"), err),
        /^'.*file\.txt' is a file, not a folder: check the path, or pass --config FILE/,
      );
    }
    // A config missing in a folder that is there is still told to be made with init.
    assert.match(
      readConfigFailure(tree.at("nope.jsonc"), windows),
      /^it does not exist: check the path, or create it with backup-tool init --config /,
    );
  }));

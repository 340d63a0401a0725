/**
 * End-to-end tests of `stats`, through the real CLI on real temp folders: three runs (a
 * file edited twice, one replaced by bigger bytes, one deleted, one a duplicate of
 * another), then the copies and bytes of each kind to the byte, their total and the
 * distinct contents' total, the --top list's order and its N, PATHs (a folder, a file,
 * several, one matching nothing: exit 1), the --json document (and what a purge leaves
 * counted as no copy left), --backup-root without a config, a run holding the backup root
 * (warned of), a damaged state (exit 1, no document) and a bad --top (exit 2); the backup
 * root, its state included, untouched.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  damageLastCopiesPage,
  fingerprint,
  type Fixture,
  makeFixture,
  runCli,
  writeConfig,
} from "./helpers.ts";
import { assertUsage } from "./cli_helpers.ts";
import { ok, put } from "./restore_helpers.ts";
import { pausedRun } from "./reliability/util.ts";

/** What each run changes in the source, in turn: a file's text, or null (deleted). */
const RUNS: Record<string, string | null>[] = [
  {
    "a.txt": "hello\n", // 6 B
    "copy/a.txt": "hello\n", // a duplicate of a.txt (6 B)
    "big.bin": "x".repeat(100),
    "docs/notes.txt": "notes\n", // 6 B
    "docs/report.txt": "report v1\n", // 10 B
    "old.txt": "old file\n", // 9 B
  },
  { "big.bin": "y".repeat(120), "docs/report.txt": "report v2!\n", "old.txt": null },
  { "docs/report.txt": "report v3!!\n" }, // 12 B
];

/** Makes each step of RUNS in the source and backs it up. */
async function backUpInTurn(fx: Fixture): Promise<void> {
  for (const step of RUNS) {
    for (const [rel, text] of Object.entries(step)) {
      if (text === null) Deno.removeSync(join(fx.source, rel));
      else put(fx.source, { [rel]: text });
    }
    await ok(fx, "run");
  }
}

/** The kinds' table, as stats prints it, from [copies, size] of each and their total. */
function kindsTable(rows: [number, string][]): string[] {
  const names = [
    "latest copies (own paths)",
    "older versions (versions/)",
    "deleted files (_deleted/)",
    "duplicates (_duplicates/)",
    "total",
  ];
  const table = rows.map(([n, size], i) =>
    `${names[i].padEnd(26)}  ${String(n).padEnd(6)}  ${size}`
  );
  return ["KIND                        COPIES  SIZE", ...table];
}

const HISTORY_HINT =
  /^'history PATH --config \S+' lists a path's versions and where each is stored; /;

Deno.test("stats: each kind's copies and bytes, the total, the distinct contents, the top paths", async () => {
  using fx = makeFixture({});
  await backUpInTurn(fx);
  const before = fingerprint(fx.backup);
  const lines = (await ok(fx, "stats")).trimEnd().split("\n");
  assert.match(lines[0], /^Stored copies in backup '.*backup', as its state records them:$/);
  // latest: a.txt 6, big.bin 120, notes 6, report 12; versions: report v1 10 and v2 11,
  // big.bin v1 100; deleted: old.txt 9; duplicates: copy/a.txt 6.
  assert.deepEqual(
    lines.slice(1, 7),
    kindsTable([
      [4, "144 B"],
      [3, "121 B"],
      [1, "9 B"],
      [1, "6 B"],
      [9, "280 B"],
    ]),
  );
  // Every content but copy/a.txt's (a.txt's bytes) once: 280 - 6.
  assert.equal(
    lines[7],
    "Stored once each, the 8 distinct contents would take 274 B: the other 6 B (2%) hold " +
      "bytes stored again (duplicates, and versions or deleted files of a content stored " +
      "elsewhere too)",
  );
  assert.deepEqual(lines.slice(8, 13), [
    "Paths whose older versions and deleted copies take the most:",
    "PATH                    VERSIONS  SIZE",
    "source/big.bin          1         100 B",
    "source/docs/report.txt  2         21 B",
    "source/old.txt          1         9 B",
  ]);
  assert.match(lines[13], HISTORY_HINT);
  assert.equal(lines.length, 14);
  // --top N: the N costliest, said so.
  const top = (await ok(fx, "stats", "--top", "2")).trimEnd().split("\n");
  assert.deepEqual(top.slice(8, 12), [
    "Paths whose older versions and deleted copies take the most (top 2):",
    "PATH                    VERSIONS  SIZE",
    "source/big.bin          1         100 B",
    "source/docs/report.txt  2         21 B",
  ]);
  assert.match(top[12], HISTORY_HINT);
  // A --top past the largest safe integer is every path, as a large one is.
  const all = JSON.parse(await ok(fx, "stats", "--top", "99999999999999999999", "--json"));
  assert.equal(all.top.length, 3);
  assert.deepEqual(fingerprint(fx.backup), before, "the backup root, its state included");
});

Deno.test("stats PATH...: a folder, a file, several; one matching nothing is NOT FOUND, exit 1", async () => {
  using fx = makeFixture({});
  await backUpInTurn(fx);
  const docs = (await ok(fx, "stats", "docs")).trimEnd().split("\n");
  assert.match(docs[0], /^Stored copies under 'docs' in backup '.*'/);
  assert.deepEqual(docs.slice(1, 8), [
    ...kindsTable([[2, "18 B"], [2, "21 B"], [0, "0 B"], [0, "0 B"], [4, "39 B"]]),
    "Each of the 4 distinct contents is stored once: no bytes are stored twice",
  ]);
  assert.equal(docs[10], "source/docs/report.txt  2         21 B");
  assert.equal(docs.length, 12);
  // A file and a folder, as the logs write them, and a folder inside one given (once).
  const several = JSON.parse(
    await ok(fx, "stats", "source/a.txt", "copy", "docs/report.txt", "docs", "--json"),
  );
  assert.deepEqual(several.total, { copies: 6, bytes: 51 });
  assert.deepEqual(several.distinct, { contents: 5, bytes: 45 }, "hello once");
  // Deleted files count under their folder.
  const old = JSON.parse(await ok(fx, "stats", "old.txt", "--json"));
  assert.deepEqual(old.stored.deleted, { copies: 1, bytes: 9 });

  const none = await fx.cli("stats", "nope", "docs", "nope");
  assert.equal(none.code, 1, none.stderr);
  assert.equal(none.stderr, "NOT FOUND: nope: 'source/nope' is not in the backup\n", "once");
  assert.match(none.stdout, /^Stored copies under 'docs' in /);
  const only = await fx.cli("stats", "Docs");
  assert.equal(only.code, 1);
  assert.equal(only.stdout, "", "nothing counted");
  assert.match(
    only.stderr,
    /^NOT FOUND: Docs: 'source\/Docs' is not in the backup: did you mean 'source\/docs'\?/,
  );
  const json = await fx.cli("stats", "nope", "--json");
  assert.equal(json.code, 1, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout).problems, [
    { path: "nope", kind: "not-found", reason: "'source/nope' is not in the backup" },
  ]);
});

Deno.test("stats: the line on contents stored once says no more than is so (empty files, symlinks)", async () => {
  using fx = makeFixture({ "e1": "", "e2": "", "x.txt": "x\n", "sub/y.txt": "yy\n" });
  Deno.symlinkSync("x.txt", join(fx.source, "link"));
  await ok(fx, "run");
  const line = async (...paths: string[]) =>
    (await ok(fx, "stats", ...paths)).split("\n").find((l) => / stored |^No /.test(l));
  // The empty content has two copies (e1, e2: never duplicates), of no bytes.
  assert.equal(
    await line(),
    "No bytes are stored twice: the 3 distinct contents take 5 B (an empty file's content, " +
      "stored more than once, takes none)",
  );
  assert.equal(
    await line("sub"),
    "The 1 distinct content is stored once: no bytes are stored twice",
  );
  assert.equal(
    await line("x.txt", "sub"),
    "Each of the 2 distinct contents is stored once: no bytes are stored twice",
  );
  assert.equal(
    await line("link"),
    "No file content is stored: the copies counted are symlinks, of no bytes",
  );
});

Deno.test("stats --json: one document; a purge's copies then counted as no copy left", async () => {
  using fx = makeFixture({});
  await backUpInTurn(fx);
  const doc = JSON.parse(await ok(fx, "stats", "--json", "--top", "1"));
  assert.deepEqual(doc, {
    command: "stats",
    backupRoot: doc.backupRoot,
    paths: [],
    stored: {
      latest: { copies: 4, bytes: 144 },
      version: { copies: 3, bytes: 121 },
      deleted: { copies: 1, bytes: 9 },
      duplicate: { copies: 1, bytes: 6 },
    },
    total: { copies: 9, bytes: 280 },
    distinct: { contents: 8, bytes: 274 },
    notStored: { pruned: 0, lost: 0, purged: 0 },
    excluded: { files: 0, copies: 0, bytes: 0 },
    top: [{ path: "source/big.bin", versions: 1, bytes: 100 }],
    problems: [],
  });
  assert.equal(typeof doc.backupRoot, "string");
  await ok(fx, "purge", "old.txt", "--yes");
  const purged = JSON.parse(await ok(fx, "stats", "--json"));
  assert.deepEqual(purged.stored.deleted, { copies: 0, bytes: 0 });
  assert.deepEqual(purged.notStored, { pruned: 0, lost: 0, purged: 1 });
  assert.match(
    await ok(fx, "stats"),
    /\nRecorded with no copy left \(not counted above\): 1 purged\n/,
  );
});

Deno.test("stats: the files the config leaves out now, and all their copies, said until purged", async () => {
  using fx = makeFixture({ "keep.txt": "keep\n", "logs/a.log": "a1\n", "logs/b.log": "b1\n" });
  await ok(fx, "run");
  put(fx.source, { "logs/a.log": "a2, longer\n" });
  await ok(fx, "run");
  assert.doesNotMatch(await ok(fx, "stats"), /leaves out now/);
  writeConfig(fx.config, {
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    exclude: ["*.log"],
  });
  await ok(fx, "run");
  // a.log: its latest copy and one version; b.log: its latest.
  const doc = JSON.parse(await ok(fx, "stats", "--json"));
  assert.deepEqual(doc.excluded, { files: 2, copies: 3, bytes: 17 });
  assert.match(
    await ok(fx, "stats"),
    /\nOf these, 2 files the config leaves out now \(no run backs them up\) keep 3 copies, 17 B: 'purge PATH --config \S+' deletes a file's or a folder's \('find "\*" --state excluded --config \S+' names them\)\n/,
  );
  // Read by --backup-root alone: purge takes a config only, so its hint names one to give,
  // never none, which would take the working folder's config (here another backup's).
  const elsewhere = join(fx.dir, "elsewhere");
  Deno.mkdirSync(elsewhere);
  writeConfig(join(elsewhere, "config.jsonc"), { sources: [fx.source], backup_root: "./b2" });
  const bare = await runCli(["stats", "--backup-root", fx.backup], { cwd: elsewhere });
  assert.equal(bare.code, 0, bare.stderr);
  // Before: 'purge PATH' deletes …
  assert.ok(
    bare.stdout.includes(
      "keep 3 copies, 17 B: 'purge PATH --config FILE' deletes a file's or a folder's " +
        `('find "*" --state excluded --backup-root ${fx.backup}' names them)\n`,
    ),
    bare.stdout,
  );
  // Under a PATH: only its own.
  assert.deepEqual(JSON.parse(await ok(fx, "stats", "keep.txt", "--json")).excluded, {
    files: 0,
    copies: 0,
    bytes: 0,
  });
  // Purged: no longer tracked, their contents counted as purged.
  await ok(fx, "purge", "logs", "--yes");
  const purged = JSON.parse(await ok(fx, "stats", "--json"));
  assert.deepEqual(purged.excluded, { files: 0, copies: 0, bytes: 0 });
  assert.deepEqual(purged.notStored, { pruned: 0, lost: 0, purged: 3 });
  assert.doesNotMatch(await ok(fx, "stats"), /leaves out now/);
});

Deno.test("stats --backup-root: the backup alone, without a config, the same figures", async () => {
  using fx = makeFixture({});
  await backUpInTurn(fx);
  const bare = await runCli(["stats", "--backup-root", fx.backup, "--json"]);
  assert.equal(bare.code, 0, bare.stderr);
  const withConfig = JSON.parse(await ok(fx, "stats", "--json"));
  assert.deepEqual(JSON.parse(bare.stdout), withConfig);
  const both = await fx.cli("stats", "--backup-root", fx.backup);
  assertUsage(both, /^Cannot count: give --config FILE or --backup-root DIR, not both/);
});

Deno.test("stats: a bad --top is exit 2, one line, nothing written", async () => {
  using fx = makeFixture({});
  await backUpInTurn(fx);
  const before = fingerprint(fx.dir);
  for (const bad of ["x", "0", "1.5", "", "01"]) {
    const r = await fx.cli("stats", "--top", bad);
    assertUsage(
      r,
      new RegExp(`^Invalid --top '${bad.replace(".", "\\.")}': .*: give a whole number from 1`),
    );
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  }
  assertUsage(
    await runCli(["stats", "--top"]),
    /^Missing value for '--top' of 'stats': write '--top N'/,
  );
  assert.deepEqual(fingerprint(fx.dir), before, "nothing written, no log either");
});

Deno.test("stats while a run holds the backup root warns as ls does, and counts its last commit", async () => {
  using fx = makeFixture({});
  await backUpInTurn(fx);
  put(fx.source, { "new.txt": "new\n" });
  await using held = await pausedRun(["run", "--config", fx.config], "folder:1", fx.dir);
  const r = await fx.cli("stats", "--json");
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /^WARNING: .* is changing the backup now: this shows it as of its last commit/,
  );
  assert.deepEqual(JSON.parse(r.stdout).stored.latest, { copies: 4, bytes: 144 });
  held.resume();
  assert.equal((await held.child.status).code, 0);
  assert.deepEqual(JSON.parse(await ok(fx, "stats", "--json")).stored.latest, {
    copies: 5,
    bytes: 148,
  });
});

Deno.test("stats met by a damaged state says so, exit 1, and prints no document", async () => {
  const name = (i: number) => `f${String(i).padStart(5, "0")}.txt`;
  using fx = makeFixture(
    Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [name(i), "x"])),
  );
  await ok(fx, "run");
  damageLastCopiesPage(fx.backup);
  for (const json of [[], ["--json"]]) {
    const r = await fx.cli("stats", ...json);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, "", "nothing printed before the state is read whole");
    assert.match(r.stderr, /^Stats failed: Cannot read backup state .*malformed/);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  }
});

/**
 * `find PATTERN...`: every path the backup ever recorded whose name (or, with a '/', whose
 * path) a pattern matches, through the real CLI over real runs: a file deleted from its
 * source found by its name with its versions counted and a time `restore --at` gives it
 * back at, a path pattern, several patterns OR-ed, an excluded and a purged file said as
 * such, no match (exit 0), a bad pattern (exit 2), the --json document (whole when a
 * damaged state ends the listing partway), and --backup-root without a config.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { damageLastCopiesPage, makeFixture, runCli, writeConfig, writeTree } from "./helpers.ts";

const BASE = { sources: ["./source"], backup_root: "./backup", log_dir: "./logs" };

const TREE = {
  "docs/2024/report.docx": "v1\n",
  "docs/notes.txt": "notes\n",
  "taxes/receipt.pdf": "receipt\n",
  ".env": "SECRET=1\n",
  "old.img": "image\n",
};

/**
 * The fixture's history: report.docx changed twice, then deleted; .env excluded; old.img
 * deleted and purged.
 */
async function history(fx: ReturnType<typeof makeFixture>): Promise<void> {
  const run = async () => {
    const r = await fx.cli("run", "-q");
    assert.equal(r.code, 0, r.stdout + r.stderr);
  };
  await run();
  writeTree(fx.source, { "docs/2024/report.docx": "v2\n" });
  await run();
  writeTree(fx.source, { "docs/2024/report.docx": "v3\n" });
  await run();
  Deno.removeSync(join(fx.source, "docs/2024/report.docx"));
  Deno.removeSync(join(fx.source, "old.img"));
  writeConfig(fx.config, { ...BASE, exclude: [".env"] });
  await run();
  const purged = await fx.cli("purge", "old.img", "--yes", "-q");
  assert.equal(purged.code, 0, purged.stdout + purged.stderr);
}

const ISO = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";

Deno.test("find: a deleted file by its name, its versions counted, and restored as it was", async () => {
  using fx = makeFixture(TREE);
  await history(fx);
  const r = await fx.cli("find", "*.DOCX");
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 2, r.stdout);
  const m = lines[0].match(
    new RegExp(
      `^source/docs/2024/report\\.docx  3 versions  first (${ISO})  last (${ISO})  deleted at (${ISO})$`,
    ),
  );
  assert.ok(m, lines[0]);
  assert.ok(m[1] < m[2] && m[2] < m[3], lines[0]);
  assert.match(
    lines[1],
    /^1 recorded path found: 'history PATH --config \S+' .*'restore PATH --at TIME --config \S+'/,
  );
  // The last time is one restore gives the file back at: its last content.
  const to = join(fx.dir, "out");
  const restored = await fx.cli(
    "restore",
    "source/docs/2024/report.docx",
    "--at",
    m[2],
    "--to",
    to,
  );
  assert.equal(restored.code, 0, restored.stdout + restored.stderr);
  assert.equal(Deno.readTextFileSync(join(to, "docs/2024/report.docx")), "v3\n");
});

Deno.test("find: a path pattern, several patterns, excluded and purged files said as such", async () => {
  using fx = makeFixture(TREE);
  await history(fx);
  const path = await fx.cli("find", "source/**/*.pdf");
  assert.equal(path.code, 0, path.stderr);
  assert.match(
    path.stdout,
    /^source\/taxes\/receipt\.pdf {2}1 version {2}first .* backed up\n1 recorded/,
  );
  // A name pattern names no file below a folder of that name; a path one must start at the
  // source's name.
  assert.match((await fx.cli("find", "docs")).stdout, /^No recorded path matches 'docs'\n$/);
  // The config's way of writing it (from inside a source, or from its top with '/') is
  // answered with how find reads it.
  for (const written of ["taxes/*.pdf", "/taxes/*.pdf"]) {
    assert.equal(
      (await fx.cli("find", written)).stdout,
      `No recorded path matches '${written}': a PATTERN with '/' is read from the source's ` +
        "name, as the logs write paths: write '*/taxes/*.pdf' for the top of any source, or " +
        "'**/taxes/*.pdf' at any depth\n",
    );
  }
  const several = await fx.cli("find", ".env", "*.img", "notes.*");
  assert.equal(several.code, 0, several.stderr);
  const lines = several.stdout.trimEnd().split("\n");
  assert.deepEqual(lines.slice(0, -1).map((l) => l.split("  ")[0]), [
    "source/.env",
    "source/docs/notes.txt",
    "source/old.img",
  ]);
  assert.match(lines[0], new RegExp(` {2}excluded at ${ISO}$`));
  assert.match(lines[1], / {2}backed up$/);
  assert.match(lines[2], new RegExp(`^source/old\\.img  1 version  first .*  purged at ${ISO}$`));
  assert.match(lines[3], /^3 recorded paths found/);
});

Deno.test("find --state: only the paths in that state now; none, said so; a bad one exit 2", async () => {
  using fx = makeFixture(TREE);
  await history(fx);
  const paths = async (...args: string[]) => {
    const r = await fx.cli("find", "*", ...args, "--json");
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout).matches.map((m: { path: string }) => m.path);
  };
  assert.deepEqual(await paths("--state", "excluded"), ["source/.env"]);
  assert.deepEqual(await paths("--state", "purged"), ["source/old.img"]);
  assert.deepEqual(await paths("--state", "DELETED"), ["source/docs/2024/report.docx"]);
  assert.deepEqual(await paths("--state", "backed-up"), [
    "source/docs/notes.txt",
    "source/taxes/receipt.pdf",
  ]);
  const text = await fx.cli("find", "*.txt", "--state", "excluded");
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stdout, "No recorded path matching '*.txt' is excluded now\n");
  const bad = await fx.cli("find", "*", "--state", "gone");
  assert.equal(bad.code, 2);
  assert.equal(
    bad.stderr,
    "Invalid --state 'gone': give one of backed-up, deleted, excluded, purged: see 'find --help'\n",
  );
});

Deno.test("find: no match is exit 0, a bad pattern or none exit 2 with one line", async () => {
  using fx = makeFixture(TREE);
  assert.equal((await fx.cli("run", "-q")).code, 0);
  const none = await fx.cli("find", "*.odt", "lost*");
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.stdout, "No recorded path matches '*.odt' or 'lost*'\n");
  const cases: [string[], RegExp][] = [
    [["[abc"], /^Cannot find: PATTERN '\[abc' has a '\[' that no '\]' closes/],
    [["!a.txt"], /^Cannot find: PATTERN '!a\.txt' begins with '!'.*'\\!a\.txt'/],
    [["docs/"], /^Cannot find: PATTERN 'docs\/' ends with '\/'.*'\*\*\/docs\/\*\*'/],
    [[""], /^Cannot find: PATTERN '' is empty/],
    [[], /^Cannot find: give a PATTERN/],
  ];
  for (const [args, message] of cases) {
    const r = await fx.cli("find", ...args);
    assert.equal(r.code, 2, `${args}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  }
});

Deno.test("find --json: one document, its matches in path order", async () => {
  using fx = makeFixture(TREE);
  await history(fx);
  const r = await fx.cli("find", "*.docx", "*.img", "*.env", "--json");
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(doc), ["command", "patterns", "matches", "count", "error"]);
  assert.equal(doc.error, null);
  assert.equal(doc.command, "find");
  assert.deepEqual(doc.patterns, ["*.docx", "*.img", "*.env"]);
  assert.equal(doc.count, 3);
  const shape = doc.matches.map((m: Record<string, unknown>) => ({
    ...m,
    firstBackedUp: typeof m.firstBackedUp,
    lastBackedUp: typeof m.lastBackedUp,
    ...m.deletedAt ? { deletedAt: typeof m.deletedAt } : {},
    ...m.purgedAt ? { purgedAt: typeof m.purgedAt } : {},
    ...m.excludedAt ? { excludedAt: typeof m.excludedAt } : {},
  }));
  const times = { firstBackedUp: "string", lastBackedUp: "string" };
  assert.deepEqual(shape, [
    {
      path: "source/.env",
      versions: 1,
      stored: 1,
      purged: 0,
      ...times,
      state: "excluded",
      excludedAt: "string",
    },
    {
      path: "source/docs/2024/report.docx",
      versions: 3,
      stored: 3,
      purged: 0,
      ...times,
      state: "deleted",
      deletedAt: "string",
    },
    {
      path: "source/old.img",
      versions: 1,
      stored: 0,
      purged: 1,
      ...times,
      state: "purged",
      purgedAt: "string",
    },
  ]);
  const none = JSON.parse((await fx.cli("find", "zzz", "--json")).stdout);
  assert.deepEqual(none, {
    command: "find",
    patterns: ["zzz"],
    matches: [],
    count: 0,
    error: null,
  });
});

Deno.test("find --backup-root: the backup alone, without a config; none there is exit 2", async () => {
  using fx = makeFixture(TREE);
  assert.equal((await fx.cli("run", "-q")).code, 0);
  const r = await runCli(["find", "receipt.*", "--backup-root", fx.backup]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^source\/taxes\/receipt\.pdf {2}1 version {2}.* backed up\n/);
  const both = await fx.cli("find", "x", "--backup-root", fx.backup);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /^Cannot find: give --config FILE or --backup-root DIR, not both/);
  const empty = join(fx.dir, "empty");
  Deno.mkdirSync(empty);
  const missing = await runCli(["find", "x", "--backup-root", empty]);
  assert.equal(missing.code, 2, missing.stdout + missing.stderr);
  assert.match(missing.stderr, /^Cannot read backup '.*': no backup state .*--backup-root\n$/);
});

Deno.test("find --json met by a damaged state partway ends its document whole, the error in it", async () => {
  const name = (i: number) => `f${String(i).padStart(5, "0")}.txt`;
  using fx = makeFixture(
    Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [name(i), "x"])),
  );
  assert.equal((await fx.cli("run", "-q")).code, 0);
  // The copies table's last page: its rows are summed up long after the first 64 KiB is
  // written (the paths themselves are read from the index, whole).
  damageLastCopiesPage(fx.backup);

  const r = await fx.cli("find", "*.txt", "--json");
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^Find failed: Cannot read backup state .*malformed/);
  assert.ok(r.stdout.length > 64 * 1024, "some of the document was written before the error");
  const doc = JSON.parse(r.stdout);
  assert.ok(doc.matches.length > 0 && doc.matches.length < 3000, String(doc.matches.length));
  assert.equal(doc.matches.at(-1).path, `source/${name(doc.matches.length - 1)}`);
  assert.equal(doc.count, doc.matches.length);
  assert.equal(`Find failed: ${doc.error}\n`, r.stderr);
});

Deno.test("find: a file excluded for a while and followed again since is found in its state now, backed up, and not by --state excluded", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "x.log": "x1\n" }, BASE);
  const run = async () => {
    const r = await fx.cli("run", "-q");
    assert.equal(r.code, 0, r.stdout + r.stderr);
  };
  await run();
  writeConfig(fx.config, { ...BASE, exclude: ["*.log"] });
  await run();
  writeConfig(fx.config, BASE);
  writeTree(fx.source, { "x.log": "x2\n" });
  await run();
  const found = await fx.cli("find", "*.log");
  assert.equal(found.code, 0, found.stderr);
  assert.match(
    found.stdout,
    /^source\/x\.log {2}2 versions {2}first \S+ {2}last \S+ {2}backed up$/m,
  );
  const excluded = await fx.cli("find", "*.log", "--state", "excluded");
  assert.equal(excluded.code, 0, excluded.stderr);
  assert.equal(excluded.stdout, "No recorded path matching '*.log' is excluded now\n");
  // Its span is history's to say.
  assert.match(
    (await fx.cli("history", "x.log")).stdout,
    /^Excluded from \S+ to \S+ \(followed again\)/m,
  );
});

Deno.test("find: a file purged, then backed up again, counts its purged version as purged, not as pruned or lost", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "x.log": "x1\n" }, BASE);
  const run = async () => {
    const r = await fx.cli("run", "-q");
    assert.equal(r.code, 0, r.stdout + r.stderr);
  };
  await run();
  writeConfig(fx.config, { ...BASE, exclude: ["*.log"] });
  await run();
  const purged = await fx.cli("purge", "x.log", "--yes", "-q");
  assert.equal(purged.code, 0, purged.stdout + purged.stderr);
  writeConfig(fx.config, BASE);
  writeTree(fx.source, { "x.log": "x2\n" });
  await run();
  const found = await fx.cli("find", "*.log");
  assert.equal(found.code, 0, found.stderr);
  assert.match(
    found.stdout,
    /^source\/x\.log {2}2 versions \(1 purged\) {2}first \S+ {2}last \S+ {2}backed up$/m,
  );
  const [m] = JSON.parse((await fx.cli("find", "*.log", "--json")).stdout).matches;
  assert.deepEqual([m.versions, m.stored, m.purged], [2, 1, 1]);
});

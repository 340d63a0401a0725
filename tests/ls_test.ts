/**
 * End-to-end tests of `ls`, through the real CLI on real temp folders: a file edited twice
 * and one deleted, listed now and as of each run's ENDED time (`history --json`) with the
 * content numbers, sizes, modification times and places of their copies; a folder PATH; a
 * version pruned by retention; the `--json` document; the backup root and its state
 * unchanged by it; an unknown PATH (exit 1) and a bad `--at` (exit 2, restore's words);
 * ls and `restore --at` agreeing on the files of a moment; the warning restore gives
 * while a run holds the backup root; and a `--json` document still whole when a damaged
 * page of the state ends the listing partway.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { damageLastCopiesPage, type Fixture, listFiles, makeFixture, runCli } from "./helpers.ts";
import { ok, put } from "./restore_helpers.ts";
import { pausedRun } from "./reliability/util.ts";

/** One file as ls lists it: path, content number, size in bytes, where its copy is. */
type Row = [path: string, version: number, size: number, storedAt: string];

/** What each run changes in the source (null deletes), in turn. */
const RUNS: Record<string, string | null>[] = [
  { "a.txt": "a1\n", "b.txt": "bee\n", "dir/c.txt": "sea\n", "dir/deep/d.txt": "dee\n" },
  { "a.txt": "a2, longer\n", "b.txt": null },
  { "a.txt": "a3, longer still\n" },
];

/** What ls lists as of the end of each run, once the last one is done (in path order). */
const AS_OF_RUN: Row[][] = [
  [
    ["source/a.txt", 1, 3, "versions/a.txt/v1.bak"],
    ["source/b.txt", 1, 4, "_deleted/b.txt"],
    ["source/dir/c.txt", 1, 4, "dir/c.txt"],
    ["source/dir/deep/d.txt", 1, 4, "dir/deep/d.txt"],
  ],
  [
    ["source/a.txt", 2, 11, "versions/a.txt/v2.bak"],
    ["source/dir/c.txt", 1, 4, "dir/c.txt"],
    ["source/dir/deep/d.txt", 1, 4, "dir/deep/d.txt"],
  ],
  [
    ["source/a.txt", 3, 17, "a.txt"],
    ["source/dir/c.txt", 1, 4, "dir/c.txt"],
    ["source/dir/deep/d.txt", 1, 4, "dir/deep/d.txt"],
  ],
];

interface Listed {
  path: string;
  version: number;
  kind: string;
  size: number;
  mtime: string;
  location: string;
  storedAt: string | null;
}

/** Runs each step of `runs` and a backup after it; each run's ENDED time, and mtimes seen. */
async function backUpInTurn(
  fx: Fixture,
  runs: Record<string, string | null>[],
): Promise<{ ended: string[]; mtimes: Map<string, string> }> {
  const mtimes = new Map<string, string>(); // "path@size" → mtime: sizes differ per content
  for (const step of runs) {
    for (const [rel, text] of Object.entries(step)) {
      if (text === null) Deno.removeSync(join(fx.source, rel));
      else {
        put(fx.source, { [rel]: text });
        const at = Deno.statSync(join(fx.source, rel)).mtime!.toISOString();
        mtimes.set(`source/${rel}@${text.length}`, at);
      }
    }
    await ok(fx, "run");
  }
  const history = JSON.parse(await ok(fx, "history", "--json"));
  return { ended: history.runs.map((r: { endedAt: string }) => r.endedAt), mtimes };
}

async function lsJson(fx: Fixture, ...args: string[]) {
  return JSON.parse(await ok(fx, "ls", "--json", ...args));
}

const rowsOf = (files: Listed[]): Row[] =>
  files.map((f) => [f.path, f.version, f.size, f.storedAt!]);

/** Every entry under `root` with its kind, size, mtime (folders too) and bytes' hash. */
function listing(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const e of [...Deno.readDirSync(dir)].sort((a, b) => a.name < b.name ? -1 : 1)) {
      const abs = join(dir, e.name);
      const info = Deno.lstatSync(abs);
      const hash = info.isFile
        ? createHash("sha256").update(Deno.readFileSync(abs)).digest("hex")
        : "";
      out.push(`${rel}${e.name} ${info.mode} ${info.size} ${info.mtime?.getTime()} ${hash}`);
      if (info.isDirectory) walk(abs, `${rel}${e.name}/`);
    }
  };
  out.push(`. ${Deno.statSync(root).mtime?.getTime()}`);
  walk(root, "");
  return out;
}

Deno.test("ls lists each file's content number, size, mtime and copy, now and as of each run", async () => {
  using fx = makeFixture({});
  const { ended, mtimes } = await backUpInTurn(fx, RUNS);
  assert.equal(ended.length, 3);
  for (const [i, at] of ended.entries()) {
    const doc = await lsJson(fx, "--at", at);
    assert.deepEqual(rowsOf(doc.files), AS_OF_RUN[i], `as of run ${i + 1}`);
    for (const f of doc.files as Listed[]) {
      assert.equal(f.mtime, mtimes.get(`${f.path}@${f.size}`), f.path);
      assert.ok(Deno.statSync(join(fx.backup, f.storedAt!)).isFile, f.storedAt!);
    }
    assert.equal(doc.count, AS_OF_RUN[i].length);
    assert.equal(doc.totalBytes, AS_OF_RUN[i].reduce((n, r) => n + r[2], 0));
  }
  assert.deepEqual(rowsOf((await lsJson(fx)).files), AS_OF_RUN[2], "now");
  // The content numbers are history's: a.txt's 2 is the one it lists with this size.
  const history = JSON.parse(await ok(fx, "history", "a.txt", "--json"));
  assert.deepEqual(
    history.versions.map((v: { version: number; size: number }) => [v.version, v.size]),
    [[1, 3], [2, 11], [3, 17]],
  );

  // The text: a line per file, in path order, then the count and total size.
  const text = (await ok(fx, "ls", "--at", ended[0])).trimEnd().split("\n");
  const lines = text.slice(0, -1).map((l) => {
    const m = l.match(/^v(\d+) +(\S+ \S+) {2}(\S+Z) {2}(\S+) {2}in (\S+)$/);
    assert.ok(m, l);
    return [m[4], Number(m[1]), m[2], m[5]];
  });
  assert.deepEqual(lines, AS_OF_RUN[0].map(([p, v, size, at]) => [p, v, `${size} B`, at]));
  assert.equal(text.at(-1), `Listed 4 files, 15 B (as of ${ended[0]})`);
});

Deno.test("ls of a folder lists only what is under it, as restore of it would", async () => {
  using fx = makeFixture({});
  const { ended } = await backUpInTurn(fx, RUNS);
  const doc = await lsJson(fx, "dir", "--at", ended[0]);
  assert.deepEqual(rowsOf(doc.files), AS_OF_RUN[0].filter(([p]) => p.startsWith("source/dir/")));
  const deep = await lsJson(fx, "source/dir/deep");
  assert.deepEqual(rowsOf(deep.files), [["source/dir/deep/d.txt", 1, 4, "dir/deep/d.txt"]]);
  // A deleted file, as of a moment it existed.
  const gone = await lsJson(fx, "b.txt", "--at", ended[0]);
  assert.deepEqual(rowsOf(gone.files), [AS_OF_RUN[0][1]]);
});

Deno.test("ls and restore --at agree on the files of a moment", async () => {
  using fx = makeFixture({});
  const { ended } = await backUpInTurn(fx, RUNS);
  for (const at of [ended[0], ended[1]]) {
    const out = join(fx.dir, `out-${at}`);
    await ok(fx, "restore", "--at", at, "--to", out);
    const listed = (await lsJson(fx, "--at", at)).files.map((f: Listed) => f.path);
    assert.deepEqual(listed, listFiles(out).map((rel) => `source/${rel}`), at);
  }
});

Deno.test("ls lists a version retention pruned as PRUNED, and exits 0", async () => {
  using fx = makeFixture({}, { retention: { max_versions_per_file: 1 } });
  const { ended } = await backUpInTurn(fx, RUNS);
  const doc = await lsJson(fx, "--at", ended[0]);
  assert.deepEqual(rowsOf(doc.files), AS_OF_RUN[0].filter(([p]) => p !== "source/a.txt"));
  assert.deepEqual(
    doc.problems.map((q: { path: string; version: number; kind: string }) => [
      q.path,
      q.version,
      q.kind,
    ]),
    [["source/a.txt", 1, "pruned"]],
  );
  assert.equal(doc.exitCode, 0);
  const r = await fx.cli("ls", "--at", ended[0]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^PRUNED: source\/a\.txt \(v1\): version 1 was pruned by retention at /m);
  assert.match(
    r.stdout,
    /^Listed 3 files, 12 B \(as of .*\); 1 not restorable \(pruned or lost\)$/m,
  );
  // Its next version is kept.
  const second = await lsJson(fx, "a.txt", "--at", ended[1]);
  assert.deepEqual(rowsOf(second.files), [AS_OF_RUN[1][0]]);
});

Deno.test("ls --json prints one document of this shape", async () => {
  using fx = makeFixture({});
  const { ended } = await backUpInTurn(fx, RUNS);
  const doc = await lsJson(fx, "--at", ended[1]);
  assert.deepEqual(Object.keys(doc), [
    "command",
    "at",
    "files",
    "count",
    "symlinks",
    "totalBytes",
    "problems",
    "ok",
    "exitCode",
  ]);
  assert.equal(doc.command, "ls");
  assert.equal(doc.at, ended[1]);
  assert.deepEqual(doc.files[0], {
    path: "source/a.txt",
    version: 2,
    kind: "file",
    size: 11,
    mtime: doc.files[0].mtime,
    location: "version",
    storedAt: "versions/a.txt/v2.bak",
  });
  assert.deepEqual([doc.count, doc.symlinks, doc.totalBytes, doc.ok], [3, 0, 19, true]);
  const now = await lsJson(fx);
  assert.equal(now.at, undefined, "no --at: the latest");
  assert.equal(now.files[0].location, "latest");
});

Deno.test("ls changes nothing in the backup root, its state included", async () => {
  using fx = makeFixture({});
  const { ended } = await backUpInTurn(fx, RUNS);
  const before = listing(fx.backup);
  assert.ok(before.some((l) => l.startsWith(".backup-tool/state.db ")), before.join("\n"));
  await ok(fx, "ls");
  await ok(fx, "ls", "--json", "--at", ended[0]);
  await ok(fx, "ls", "dir", "--at", ended[1]);
  const bare = await runCli(["ls", "--backup-root", fx.backup]);
  assert.equal(bare.code, 0, bare.stderr);
  assert.match(bare.stdout, /^Listed 3 files, 25 B \(latest\)$/m);
  assert.equal((await fx.cli("ls", "nothing/here")).code, 1);
  assert.deepEqual(listing(fx.backup), before);
});

Deno.test("ls: an unknown PATH exits 1 saying so; a bad --at exits 2 with restore's words", async () => {
  using fx = makeFixture({});
  const { ended } = await backUpInTurn(fx, RUNS);
  const unknown = await fx.cli("ls", "nothing/here");
  assert.equal(unknown.code, 1);
  assert.equal(
    unknown.stderr,
    "NOT FOUND: nothing/here: 'source/nothing/here' is not in the backup\n",
  );
  assert.equal(unknown.stdout, "Listed 0 files, 0 B (latest)\n");
  // A file deleted since: not in the latest, with a remedy ls takes (it has no --version).
  const deleted = await fx.cli("ls", "b.txt");
  assert.equal(deleted.code, 1);
  assert.match(
    deleted.stderr,
    /^NOT FOUND: b\.txt: 'source\/b\.txt' is not in the backup any more: it was deleted at \S+Z: give --at a time before that, or see 'history source\/b\.txt --config \S+' for its contents\n$/,
  );
  const after = await fx.cli("ls", "b.txt", "--at", ended[ended.length - 1]);
  assert.equal(after.code, 1);
  assert.match(
    after.stderr,
    /: it was deleted at \S+Z: give an earlier time to --at, or see 'history source\/b\.txt --config \S+' for its contents\n$/,
  );
  // A version's place in the backup root: the path to give, without restore's --version.
  const copy = await fx.cli("ls", "versions/a.txt/v1.bak");
  assert.equal(copy.code, 1);
  assert.match(
    copy.stderr,
    /it is where the backup keeps content number 1 of 'source\/a\.txt': give that path\n$/,
  );
  const json = await fx.cli("ls", "nothing/here", "--json");
  assert.equal(json.code, 1);
  const doc = JSON.parse(json.stdout);
  assert.deepEqual([doc.ok, doc.exitCode, doc.files, doc.problems[0].kind], [
    false,
    1,
    [],
    "not-found",
  ]);
  // Listed as of a moment before the first run: nothing, and the time to give instead.
  const early = await fx.cli("ls", "--at", "2001-01-01Z");
  assert.equal(early.code, 1);
  assert.match(
    early.stderr,
    /^NOT FOUND: the backup holds no files as of 2001-01-01T23:59:59\.999Z: /,
  );
  for (const bad of ["yesterday", "2026-13-01", "2026-11-28T25:00Z"]) {
    const ls = await fx.cli("ls", "--at", bad);
    const restore = await fx.cli("restore", "--at", bad, "--to", join(fx.dir, "never"));
    assert.equal(ls.code, 2, bad);
    assert.equal(ls.stderr, restore.stderr, bad);
    assert.match(ls.stderr, new RegExp(`^Invalid --at value '${bad}': expected an ISO-8601`));
    assert.equal(ls.stdout, "");
  }
  assert.equal((await fx.cli("ls", "--version", "2", "a.txt")).code, 2);
  assert.ok(ended.length > 0);
});

Deno.test("ls while a run holds the backup root warns as restore does, and lists its last commit", async () => {
  using fx = makeFixture({});
  await backUpInTurn(fx, RUNS);
  put(fx.source, { "new.txt": "new\n" });
  {
    await using held = await pausedRun(["run", "--config", fx.config], "folder:1", fx.dir);
    const r = await fx.cli("ls");
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /^WARNING: .* is changing the backup now: this shows it as of its last commit/,
    );
    assert.equal(r.stdout.split("\n").filter((l) => l.startsWith("v")).length, 3, r.stdout);
    held.resume();
    assert.equal((await held.child.status).code, 0);
  }
  assert.equal((await lsJson(fx)).count, 4, "new.txt, once the run committed it");
});

Deno.test("ls --json met by a damaged state partway ends its document whole, the error in it", async () => {
  const name = (i: number) => `f${String(i).padStart(5, "0")}.txt`;
  using fx = makeFixture(
    Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [name(i), "x"])),
  );
  await ok(fx, "run");
  // The copies table's last page: its rows are read long after the first 64 KiB is written.
  damageLastCopiesPage(fx.backup);

  const r = await fx.cli("ls", "--json");
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^Ls failed: Cannot read backup state .*malformed/);
  assert.ok(r.stdout.length > 64 * 1024, "some of the document was written before the error");
  const doc = JSON.parse(r.stdout);
  assert.ok(doc.files.length > 0 && doc.files.length < 3000, String(doc.files.length));
  assert.deepEqual(doc.files.at(-1).path, `source/${name(doc.files.length - 1)}`);
  assert.deepEqual([doc.count, doc.ok, doc.exitCode], [doc.files.length, false, 1]);
  assert.equal(doc.problems.length, 1);
  assert.deepEqual([doc.problems[0].path, doc.problems[0].kind], ["", "error"]);
  assert.equal(`Ls failed: ${doc.problems[0].reason}\n`, r.stderr);
});

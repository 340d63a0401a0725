/**
 * Hostile names and shapes. Each entry must be backed up exactly (its stored bytes, or
 * symlink target, equal the source's) or be named in a clear ERROR or SKIP line; the run
 * exits 0, or 1 with the reason, and never crashes ("Backup failed") or hangs (every run
 * has a timeout). Later runs must modify, archive and delete such entries just as safely.
 * Names Deno cannot hold (invalid UTF-8) and paths longer than PATH_MAX are created with
 * bash (`$'..'` bytes, relative `cd` chains).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { listFiles, makeFixture } from "../helpers.ts";
import {
  allLogLines,
  checkBackup,
  countsOf,
  digestPath,
  runTool,
  sh,
  sha256,
  type Snap,
  type ToolResult,
} from "./util.ts";

/** Readable entries (Deno strings) written by the test, path → content or symlink. */
const NAMES: Record<string, string> = {
  "line\nbreak.txt": "newline in the name",
  "cr\rreturn": "carriage return",
  "tab\there": "tab",
  "quote\"s'.txt": "quotes",
  "-leading-dash.txt": "dash",
  "--rf": "double dash",
  "-": "single dash",
  "back\\slash.txt": "backslash",
  "dir\\with\\backslashes/f.txt": "backslash folder",
  " lead space": "leading space",
  "trail space ": "trailing space",
  "*glob?[x]": "glob characters",
  "#hash": "gitignore comment syntax",
  "!bang": "gitignore negation syntax",
  "a.~2": "looks like a collision suffix",
  "v1.bak": "looks like a version",
  "caf\u00e9.txt": "NFC é",
  "cafe\u0301.txt": "NFD e + combining acute",
  "\u{1F600}\u200b\u202e.txt": "emoji, zero-width space, RTL override",
  [`${"a".repeat(251)}.txt`]: "255-byte name",
  [`${"\u00e9".repeat(127)}x`]: "255 bytes of 2-byte characters",
  [`${"d/".repeat(200)}leaf.txt`]: "200 levels deep",
  "empty": "",
  "sub/empty": "",
  "versions/x.txt": "source folder named like versions/",
  "_deleted/y.txt": "source folder named like _deleted/",
  "_duplicates": "source file named like _duplicates/",
  ".backup-tool/state.db": "not the real state",
  "_sources/z": "source folder named like _sources/",
  "VERSIONS~/upper": "escaped spelling, other case",
  "hl_a": "hard-linked content",
};

const LINKS: Record<string, string> = {
  "loop1": "loop2",
  "loop2": "loop1",
  "self": "self",
  "dirloop": ".",
  "up": "..",
  "outside": "/etc/passwd",
  "rootlink": "/",
  "dangling": "/nonexistent/x",
};

/** Hard links, made with bash. */
const LINK_SETUP = "set -e; ln hl_a hl_b; ln empty hl_empty";

/** Made with bash: names Deno cannot hold, a path over 4096 bytes (relative `cd` chain). */
const UNADDRESSABLE_SETUP = `
set -e
printf 'invalid utf-8' > $'invalid-utf8-\\xff\\xfe-name'
mkdir $'invalid-dir-\\xfe' && printf 'below an invalid name' > $'invalid-dir-\\xfe/inside.txt'
mkdir longpath && cd longpath
for i in $(seq -w 1 17); do d="L$i$(printf 'x%.0s' $(seq 1 247))"; mkdir "$d"; cd "$d"; done
printf 'beyond PATH_MAX' > leaf.txt
`;

/** Walks the source with Deno; entries it cannot reach (long paths, bad names) are listed. */
function reachable(root: string): { files: Map<string, Snap>; unreachable: string[] } {
  const files = new Map<string, Snap>();
  const unreachable: string[] = [];
  const walk = (dir: string, rel: string) => {
    let names: string[];
    try {
      names = [...Deno.readDirSync(dir)].map((e) => e.name);
    } catch {
      unreachable.push(rel);
      return;
    }
    for (const name of names) {
      const abs = join(dir, name);
      const r = rel === "" ? name : `${rel}/${name}`;
      let info: Deno.FileInfo;
      try {
        info = Deno.lstatSync(abs);
      } catch {
        unreachable.push(r);
        continue;
      }
      if (info.isDirectory) walk(abs, r);
      else files.set(r, { kind: info.isSymlink ? "symlink" : "file", hash: digestPath(abs) });
    }
  };
  walk(root, "");
  return { files, unreachable };
}

/** ERROR or SKIP lines (stderr and the run logs) that name `rel`. */
function reported(fx: { logs: string }, r: ToolResult, rel: string): boolean {
  const lines = [...r.stderr.split("\n"), ...allLogLines(fx.logs)];
  return lines.some((l) => /^(ERROR|SKIP[A-Z ]*):/.test(l) && l.includes(`source/${rel}`));
}

/** Every reachable source entry is stored exactly, or reported; returns what was reported. */
function checkExact(
  fx: { source: string; backup: string; logs: string },
  r: ToolResult,
  context: string,
): string[] {
  assert.ok(r.code === 0 || r.code === 1, `${context}: exit ${r.code}\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /Backup failed/, `${context}: the run aborted`);
  const check = checkBackup(fx.backup);
  assert.deepEqual(check.problems, [], `${context}: the backup disagrees with its state`);
  const byId = new Map(check.state.copies.map((c) => [c.id, c]));
  const tracked = new Map(check.state.files.map((f) => [f.path, f]));
  const { files, unreachable } = reachable(fx.source);
  const skipped: string[] = [];
  for (const [rel, snap] of files) {
    const f = tracked.get(`source/${rel}`);
    const stored = f && byId.get(f.copy_id)?.stored_at;
    if (stored && check.stored.get(stored) === snap.hash) continue;
    assert.ok(
      reported(fx, r, rel),
      `${context}: ${JSON.stringify(rel)} is neither backed up exactly nor reported`,
    );
    skipped.push(rel);
  }
  for (const rel of unreachable) {
    // Deno cannot address it, so the tool cannot either: it must say so (showing the name
    // as it likes: a report naming its readable start is enough).
    const readable = rel.split(/[^\x20-\x7e]/)[0];
    assert.ok(
      reported(fx, r, rel) || (readable.length >= 8 && reported(fx, r, readable)),
      `${context}: ${JSON.stringify(rel)} cannot be read and is not reported`,
    );
    skipped.push(rel);
  }
  if (r.code === 1) assert.match(r.stderr, /^ERROR: /m, `${context}: exit 1 without a reason`);
  return skipped;
}

Deno.test("hostile names and shapes: backed up and restored exactly; never a crash or a hang", async () => {
  using fx = makeFixture(NAMES);
  for (const [name, target] of Object.entries(LINKS)) {
    Deno.symlinkSync(target, join(fx.source, name));
  }
  await sh(LINK_SETUP, fx.source);
  const run = (...args: string[]) =>
    runTool([...args, "--config", fx.config], { timeoutMs: 60_000 });

  const first = await run("run", "--json");
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(checkExact(fx, first, "first run"), [], "every entry is backed up");
  const restored = join(fx.dir, "restored");
  const restore = await run("restore", "--to", restored);
  assert.equal(restore.code, 0, `restore: ${restore.stdout}\n${restore.stderr}`);
  assert.deepEqual(reachable(restored).files, reachable(fx.source).files, "restore differs");
  // Hard links come back as hard links: one file under both names, an empty one's too.
  for (const [a, b] of [["hl_a", "hl_b"], ["empty", "hl_empty"]]) {
    const ino = (name: string) => Deno.lstatSync(join(restored, name)).ino;
    assert.equal(ino(a), ino(b), `${a} and ${b} restored as one file`);
  }
  // What the layout promises for the names the backup uses itself.
  const stored = checkBackup(fx.backup).stored;
  for (
    const p of [
      "versions~/x.txt",
      "_deleted~/y.txt",
      "_duplicates~",
      ".backup-tool~/state.db",
      "_sources~/z",
      "VERSIONS~~/upper",
    ]
  ) assert.ok(stored.has(p), `reserved name not escaped: ${p}`);
  for (const [name, target] of Object.entries(LINKS)) {
    assert.equal(Deno.readLinkSync(join(fx.backup, name)), target, name);
  }
  assert.equal(stored.get("caf\u00e9.txt") !== stored.get("cafe\u0301.txt"), true, "NFC/NFD");

  const second = await run("run", "--json");
  checkExact(fx, second, "second run");
  const c = countsOf(second);
  assert.equal(c.backup + c.modified + c.duplicate + c.delete, 0, "the second run is a no-op");

  // Modify and delete hostile entries: archives and _deleted/ must handle the names too.
  const before = new Set(checkBackup(fx.backup).contents);
  for (const name of ["line\nbreak.txt", "versions/x.txt", "caf\u00e9.txt", "#hash", "-"]) {
    Deno.writeTextFileSync(join(fx.source, name), `${name} changed`);
  }
  for (
    const name of ["-leading-dash.txt", "_deleted/y.txt", ".backup-tool/state.db", "tab\there"]
  ) {
    Deno.removeSync(join(fx.source, name));
  }
  Deno.removeSync(join(fx.source, "d"), { recursive: true });
  const third = await run("run", "--json");
  checkExact(fx, third, "after modifying and deleting hostile entries");
  const after = checkBackup(fx.backup);
  for (const h of before) assert.ok(after.contents.has(h), `content lost: ${h}`);
  assert.ok(after.stored.has("versions/versions~/x.txt/v1.bak"), [...after.stored.keys()].join());
  assert.ok(after.stored.has("_deleted/_deleted~/y.txt"));
  assert.ok(after.stored.has("_deleted/.backup-tool~/state.db"));
  const again = join(fx.dir, "restored-again");
  assert.equal((await run("restore", "--to", again)).code, 0);
  assert.deepEqual(reachable(again).files, reachable(fx.source).files, "second restore differs");
});

Deno.test("names Deno cannot address (invalid UTF-8, a path over 4096 bytes) are reported, never silently skipped", async () => {
  using fx = makeFixture({ "plain.txt": "plain" });
  await sh(UNADDRESSABLE_SETUP, fx.source);
  const r = await runTool(["run", "--config", fx.config], { timeoutMs: 60_000 });
  assert.equal(r.code, 1, `they cannot be backed up, so the run must say so\n${r.stderr}`);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "plain.txt")), "plain");
  const skipped = checkExact(fx, r, "names Deno cannot address");
  assert.equal(skipped.length, 3, JSON.stringify(skipped));
  // A failure each, the folder too (it was passed over as vanished, its files unsaid).
  for (const name of ["invalid-utf8-", "invalid-dir-"]) {
    assert.match(r.stderr, new RegExp(`^ERROR: source/${name}.*not valid UTF-8`, "m"), name);
  }
});

Deno.test("a 255-byte name can be deleted, re-created and deleted again", async () => {
  const long = `${"b".repeat(251)}.txt`;
  using fx = makeFixture({ [long]: "first", "k1": "1", "k2": "2", "k3": "3" });
  const run = () => runTool(["run", "--config", fx.config], { timeoutMs: 30_000 });
  const path = join(fx.source, long);
  assert.equal((await run()).code, 0);
  Deno.removeSync(path);
  assert.equal((await run()).code, 0);
  Deno.writeTextFileSync(path, "second");
  assert.equal((await run()).code, 0);
  Deno.removeSync(path);
  // The second deletion collides with the first in _deleted/: the suffix that makes the
  // name unique must not push it past the 255-byte limit of a file name.
  const r = await run();
  assert.equal(r.code, 0, `${r.stderr.replace(/b{20,}/g, "b…")}`);
  const check = checkBackup(fx.backup);
  assert.deepEqual(check.problems, []);
  assert.ok(!check.state.files.some((f) => f.path.includes(long)), "still tracked");
  for (const text of ["first", "second"]) {
    assert.ok(check.contents.has(sha256(text)), `the content '${text}' was lost`);
  }
});

Deno.test("a name that is not valid UTF-8 beside its decoded twin: named each run, the twin stored once", async () => {
  using fx = makeFixture({});
  // \xff decodes to U+FFFD, which is the twin's first character (UTF-8 EF BF BD).
  await sh(
    `mkdir $'\\xffdir' $'\\xef\\xbf\\xbddir' && printf lost > $'\\xffdir/b' && ` +
      `printf kept > $'\\xef\\xbf\\xbddir/g'`,
    fx.source,
  );
  for (const round of [1, 2]) {
    const r = await runTool(["run", "--config", fx.config]);
    assert.equal(r.code, 1, `round ${round}: ${r.stderr}`);
    assert.match(
      r.stderr,
      /^ERROR: source\/\uFFFDdir: .*not valid UTF-8: it reads as '\uFFFDdir'/m,
    );
  }
  assert.deepEqual(listFiles(join(fx.backup, "\uFFFDdir")), ["g"]); // not g.~2, g.~3...
});

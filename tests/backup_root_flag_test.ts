/**
 * End-to-end tests of reading a backup without its config (`--backup-root DIR` of restore,
 * history and verify): the computer and its config lost, the backup disk alone gives back
 * every source's files, as of any moment, in place or under --to; bad folders are refused
 * with the folder to give instead, and nothing is written.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture, readTree, runCli, writeConfig, writeTree } from "./helpers.ts";
import { runTool } from "./reliability/util.ts";

/** Two sources backed up twice (a change and a deletion between), then their config lost. */
async function lostComputer(): Promise<Fixture & { pics: string; firstEnd: string }> {
  const f = makeFixture({ "a.txt": "first", "sub/b.txt": "b" });
  const pics = join(f.dir, "pics");
  writeTree(pics, { "p.jpg": "jpeg" });
  writeConfig(f.config, { sources: ["./source", "./pics"], backup_root: "./backup" });
  assert.equal((await f.cli("run")).code, 0);
  const firstEnd = JSON.parse((await f.cli("history", "--json")).stdout).runs[0].endedAt;
  writeTree(f.source, { "a.txt": "second" });
  Deno.removeSync(join(f.source, "sub", "b.txt"));
  assert.equal((await f.cli("run")).code, 0);
  for (const gone of [f.source, pics, f.config]) Deno.removeSync(gone, { recursive: true });
  return Object.assign(f, { pics, firstEnd });
}

Deno.test("--backup-root: restore gives back every source, now and as of an earlier run", async () => {
  using f = await lostComputer();
  const out = join(f.dir, "out");
  const now = await runCli(["restore", "--backup-root", f.backup, "--to", out]);
  assert.equal(now.code, 0, now.stderr);
  assert.deepEqual(readTree(out), { "source/a.txt": "second", "pics/p.jpg": "jpeg" });
  const then = join(f.dir, "then");
  const at = ["--at", f.firstEnd, "--to", then];
  assert.equal((await runCli(["restore", "--backup-root", f.backup, ...at])).code, 0);
  assert.deepEqual(readTree(then), {
    "source/a.txt": "first",
    "source/sub/b.txt": "b",
    "pics/p.jpg": "jpeg",
  });
});

Deno.test("--backup-root: restore in place writes back to the folders backed up", async () => {
  using f = await lostComputer();
  const r = await runCli(["restore", "--backup-root", f.backup]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readTree(f.source), { "a.txt": "second" });
  assert.deepEqual(readTree(f.pics), { "p.jpg": "jpeg" });
});

Deno.test("--backup-root: a source renamed in the config, kept at its folder, is not restored in place from either name", async () => {
  using f = makeFixture({ "a.txt": "old", "gone.txt": "deleted since" });
  writeConfig(f.config, { sources: [{ path: "./source", name: "docs" }], backup_root: "./backup" });
  assert.equal((await f.cli("run")).code, 0);
  writeConfig(f.config, {
    sources: [{ path: "./source", name: "documents" }],
    backup_root: "./backup",
  });
  writeTree(f.source, { "a.txt": "new" });
  Deno.removeSync(join(f.source, "gone.txt"));
  assert.equal((await f.cli("run")).code, 0);
  for (const gone of [f.source, f.config]) Deno.removeSync(gone, { recursive: true });

  // Both names recorded at one folder: in place, the old name's files would stand in for
  // the new one's (a.txt "old", gone.txt back); neither is written there.
  const inPlace = await runCli(["restore", "--backup-root", f.backup]);
  assert.equal(inPlace.code, 1, inPlace.stderr);
  assert.throws(() => Deno.lstatSync(f.source), Deno.errors.NotFound); // nothing in place
  assert.match(
    inPlace.stderr,
    /Cannot restore 'docs\/a\.txt' in place: source 'docs' was backed up from '[^']*source' and source 'documents' from '[^']*source', one folder or one inside the other: one of them was left out of the config since, and the backup alone cannot tell which holds the newer files: use --to DIR/,
  );
  const out = join(f.dir, "out");
  const to = await runCli(["restore", "--backup-root", f.backup, "--to", out]);
  assert.equal(to.code, 0, to.stderr);
  assert.deepEqual(readTree(out), {
    "docs/a.txt": "old",
    "docs/gone.txt": "deleted since",
    "documents/a.txt": "new",
  });
});

Deno.test("--backup-root: history and verify read the backup, from any folder", async () => {
  using f = await lostComputer();
  const elsewhere = { cwd: Deno.makeTempDirSync({ prefix: "bt-cwd-" }) };
  try {
    const h = await runCli(
      ["history", "source/a.txt", "--backup-root", f.backup, "--json"],
      elsewhere,
    );
    assert.equal(h.code, 0, h.stderr);
    assert.deepEqual(JSON.parse(h.stdout).versions.map((v: { size: number }) => v.size), [5, 6]);
    const runs = await runCli(["history", "--backup-root", f.backup, "--json"], elsewhere);
    assert.equal(JSON.parse(runs.stdout).runs.length, 2);
    const v = await runCli(["verify", "--backup-root", f.backup], elsewhere);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /intact/);
  } finally {
    Deno.removeSync(elsewhere.cwd, { recursive: true });
  }
});

Deno.test("--backup-root: a folder above the backup is named with the one to give", async () => {
  using f = await lostComputer();
  const before = readTree(f.dir, []);
  const r = await runCli(["restore", "--backup-root", f.dir, "--to", join(f.dir, "out")]);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr.trim(),
    `Cannot read backup '${f.dir}': no backup state ('.backup-tool/state.db') in it: ` +
      `'${f.backup}' holds one: give that folder to --backup-root`,
  );
  assert.deepEqual(readTree(f.dir, []), before);
});

Deno.test("--backup-root: a folder inside the backup is named with the backup to give", async () => {
  using f = await lostComputer();
  const before = readTree(f.dir, []);
  // The state's own folder, or one of the backup's, as a user looking at the disk may give.
  for (const inside of [".backup-tool", "versions", join("_sources", "pics")]) {
    const given = join(f.backup, inside);
    const r = await runCli(["history", "--backup-root", given]);
    assert.equal(r.code, 2, inside);
    assert.equal(
      r.stderr.trim(),
      `Cannot read backup '${given}': no backup state ('.backup-tool/state.db') in it: it is ` +
        `inside the backup '${f.backup}': give that folder to --backup-root`,
    );
  }
  assert.deepEqual(readTree(f.dir, []), before);
});

Deno.test("--backup-root: refused with --config, a repair from inside the backup, an empty DIR, or a file", async () => {
  using f = await lostComputer();
  const cases: [string[], string][] = [
    [
      ["history", "--backup-root", f.backup, "--config", "x.jsonc"],
      "Cannot show history: give --config FILE or --backup-root DIR, not both: see 'history --help'",
    ],
    [
      ["verify", "--repair", "--backup-root", "."],
      `Cannot write the repair's log in '${join(f.backup, "logs")}': it is inside the backup ` +
      `root '${f.backup}', whose folders mirror the sources: run it from a folder outside the ` +
      "backup root",
    ],
    [
      ["restore", "--backup-root", ""],
      "Cannot read backup: --backup-root needs a folder path (an unset variable?): give the " +
      "folder that holds '.backup-tool'",
    ],
    [
      ["restore", "--backup-root", join(f.backup, ".backup-tool", "state.db")],
      `Cannot read backup '${join(f.backup, ".backup-tool", "state.db")}': it is not a folder: ` +
      "give the folder that holds '.backup-tool' to --backup-root",
    ],
  ];
  const before = readTree(f.dir, []);
  for (const [args, line] of cases) {
    const r = await runCli(args, { cwd: f.backup });
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.stderr.trim(), line);
  }
  assert.deepEqual(readTree(f.dir, []), before);
});

Deno.test("--backup-root: verify --repair finishes a run killed before it recorded its batch, its log in ./logs", async () => {
  using f = makeFixture({ "a.txt": "first" });
  assert.equal((await f.cli("run")).code, 0);
  writeTree(f.source, { "a.txt": "second", "n.txt": "new" });
  const killed = await runTool(["run", "--config", f.config], {
    env: { BACKUP_TOOL_FAULT: "journaled:1" },
  });
  assert.equal(killed.code, 137);
  for (const gone of [f.source, f.config, f.logs]) Deno.removeSync(gone, { recursive: true });
  const here = join(f.dir, "elsewhere");
  Deno.mkdirSync(here);
  const before = await runCli(["restore", "--backup-root", f.backup, "--to", "before"], {
    cwd: here,
  });
  assert.match(before.stderr, /interrupted before it recorded 2 action\(s\)/);
  assert.deepEqual(readTree(join(here, "before")), { "a.txt": "first" });
  const repair = await runCli(["verify", "--repair", "--backup-root", f.backup], { cwd: here });
  assert.equal(repair.code, 0, repair.stdout + repair.stderr);
  assert.equal(Deno.readDirSync(join(here, "logs")).toArray().length, 1);
  const after = await runCli(["restore", "--backup-root", f.backup, "--to", "after"], {
    cwd: here,
  });
  assert.equal(after.code, 0, after.stderr);
  assert.doesNotMatch(after.stderr, /interrupted before it recorded/);
  assert.deepEqual(readTree(join(here, "after")), { "a.txt": "second", "n.txt": "new" });
});

Deno.test("--backup-root: verify --repair from a folder whose ./logs leads into the backup is refused", async () => {
  using f = await lostComputer();
  const here = join(f.dir, "elsewhere");
  Deno.mkdirSync(here);
  // A `logs` symlink into the backup (a folder of it), as a config's log_dir is refused.
  const inside = join(f.backup, "source", "sub");
  Deno.mkdirSync(inside, { recursive: true });
  Deno.symlinkSync(inside, join(here, "logs"));
  const before = readTree(f.backup, []);
  const r = await runCli(["verify", "--repair", "--backup-root", f.backup], { cwd: here });
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.equal(
    r.stderr.trim(),
    `Cannot write the repair's log in '${join(here, "logs")}', which leads to '${inside}': ` +
      `it is inside the backup root '${f.backup}', whose folders mirror the sources: run it ` +
      "from a folder outside the backup root",
  );
  assert.deepEqual(readTree(f.backup, []), before, "nothing written in the backup");
});

Deno.test("--backup-root: a state folder that cannot be looked at for another reason is said as such, not as a permission", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-loop-" });
  try {
    Deno.symlinkSync(".backup-tool", join(dir, ".backup-tool")); // a link to itself: ELOOP
    const r = await runCli(["history", "--backup-root", dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^Cannot read backup '[^']+': Too many levels of symbolic links/);
    assert.doesNotMatch(r.stderr, /run as a user/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

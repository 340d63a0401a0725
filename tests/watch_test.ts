/**
 * End-to-end tests of `watch` on real temporary folders, mostly through the real CLI as a
 * subprocess. Every time-based wait polls for the expected result with a generous
 * deadline; nothing sleeps a fixed time and hopes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../src/config/config.ts";
import { startWatch } from "../src/watch/watch.ts";
import {
  type Fixture,
  listFiles,
  makeFixture,
  poll,
  readTree,
  runCli,
  writeTree,
} from "./helpers.ts";
import { backedUp, DEADLINE_MS, filler, readOrUndefined, WatchProcess } from "./watch_helpers.ts";
import {
  asNobody,
  exists as existsNow,
  isRoot,
  NOBODY,
  pausedRun,
  prepareDenoDir,
  sh,
} from "./reliability/util.ts";

/** Small debounce so the tests run fast; no periodic rescan, so events alone must do it. */
const WATCH = { watch: { debounce_ms: 200, rescan_interval: 0 } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("watch: new, modified and deleted files are backed up", async () => {
  using fx = makeFixture({ ...filler(), "doc.txt": "v1\n" }, WATCH);
  await using w = new WatchProcess(fx);
  await w.ready();
  assert.equal(readOrUndefined(join(fx.backup, "doc.txt")), "v1\n");

  writeTree(fx.source, { "new.txt": "new\n" });
  await backedUp(fx.backup, "new.txt", "new\n");
  Deno.writeTextFileSync(join(fx.source, "doc.txt"), "v2\n");
  await backedUp(fx.backup, "doc.txt", "v2\n");
  assert.equal(readOrUndefined(join(fx.backup, "versions/doc.txt/v1.bak")), "v1\n");
  Deno.removeSync(join(fx.source, "new.txt"));
  await backedUp(fx.backup, "_deleted/new.txt", "new\n");
  assert.equal(readOrUndefined(join(fx.backup, "new.txt")), undefined);

  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  assert.match(exit.stdout, /batch: 1 new, 0 updated, 0 deleted \(1 path\)/);
  assert.ok(fx.logLines().includes("UPDATED: source/doc.txt → backup/doc.txt"));
});

/** A backup of `z.key` and filler, then a config that excludes `*.key`. */
async function keyBackedUpThenExcluded() {
  const fx = makeFixture({ ...filler(), "z.key": "secret\n" }, WATCH);
  assert.equal((await runCli(["run", "--config", fx.config])).code, 0);
  const config = JSON.parse(Deno.readTextFileSync(fx.config));
  Deno.writeTextFileSync(fx.config, JSON.stringify({ ...config, exclude: ["*.key"] }));
  return fx;
}

Deno.test("watch: an excluded file the backup holds, deleted, is archived as run archives it", async () => {
  using fx = await keyBackedUpThenExcluded();
  await using w = new WatchProcess(fx);
  await w.ready(); // its first pass marks z.key excluded, its copy kept
  assert.equal(readOrUndefined(join(fx.backup, "z.key")), "secret\n");
  Deno.removeSync(join(fx.source, "z.key"));
  await backedUp(fx.backup, "_deleted/z.key", "secret\n"); // before: only the next run did
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
});

Deno.test("watch: an excluded file the backup holds, replaced by a folder at once, is archived as run archives it", async () => {
  using fx = await keyBackedUpThenExcluded();
  await using w = new WatchProcess(fx);
  await w.ready(); // its first pass marks z.key excluded, its copy kept
  // Both done before the watch reads the events: each then names a folder.
  Deno.removeSync(join(fx.source, "z.key"));
  Deno.mkdirSync(join(fx.source, "z.key"));
  await backedUp(fx.backup, "_deleted/z.key", "secret\n"); // before: kept as current
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
});

Deno.test("watch: renamed files and folders: old path archived, new path backed up", async () => {
  using fx = makeFixture({ ...filler(), "a.txt": "a\n", "dir/x.txt": "x\n" }, WATCH);
  await using w = new WatchProcess(fx);
  await w.ready();
  Deno.renameSync(join(fx.source, "a.txt"), join(fx.source, "b.txt"));
  await backedUp(fx.backup, "b.txt", "a\n");
  await backedUp(fx.backup, "_deleted/a.txt", "a\n");
  Deno.renameSync(join(fx.source, "dir"), join(fx.source, "dir2"));
  await backedUp(fx.backup, "dir2/x.txt", "x\n");
  await backedUp(fx.backup, "_deleted/dir/x.txt", "x\n");
  // The renamed folder is still followed.
  writeTree(fx.source, { "dir2/y.txt": "y\n" });
  await backedUp(fx.backup, "dir2/y.txt", "y\n");
  assert.equal((await w.stop()).code, 0);
});

Deno.test("watch: folders created and filled at once, or moved in, are backed up", async () => {
  using fx = makeFixture(filler(), WATCH);
  const outside = join(fx.dir, "outside");
  writeTree(outside, { "m/n/1.txt": "m1\n", "m/n/o/2.txt": "m2\n" });
  await using w = new WatchProcess(fx);
  await w.ready();
  const tree: Record<string, string> = {};
  for (const dir of ["deep", "deep/a", "deep/a/b", "deep/a/b/c"]) {
    for (let i = 0; i < 20; i++) tree[`${dir}/f${i}.txt`] = `${dir} ${i}\n`;
  }
  writeTree(fx.source, tree);
  Deno.renameSync(join(outside, "m"), join(fx.source, "moved"));
  const expected = { ...tree, "moved/n/1.txt": "m1\n", "moved/n/o/2.txt": "m2\n" };
  await poll("every new file in the backup", () => {
    const backup = readTree(fx.backup);
    return Object.entries(expected).every(([p, c]) => backup[p] === c);
  }, DEADLINE_MS);
  assert.equal((await w.stop()).code, 0);
});

Deno.test("watch: a burst of 3000 files is backed up completely", async () => {
  using fx = makeFixture(filler(), WATCH);
  await using w = new WatchProcess(fx);
  await w.ready();
  const tree: Record<string, string> = {};
  for (let i = 0; i < 3000; i++) tree[`burst/d${i % 30}/f${i}.txt`] = `file ${i}\n`;
  writeTree(fx.source, tree);
  const wanted = Object.keys(tree).sort();
  const missing = () => {
    const have = new Set(listFiles(join(fx.backup, "burst")).map((p) => `burst/${p}`));
    return wanted.filter((p) => !have.has(p));
  };
  await poll("3000 files in the backup", () => missing().length === 0, 2 * DEADLINE_MS).catch(
    (e) => {
      const m = missing();
      throw new Error(
        `${e.message}: ${m.length} missing (${m.slice(0, 5).join(", ")}…)\n` +
          `stdout: ${w.stdout}\nstderr: ${w.stderr}`,
      );
    },
  );
  assert.equal(readOrUndefined(join(fx.backup, "burst/d7/f2707.txt")), "file 2707\n");
  const exit = await w.stop();
  assert.equal(exit.code, 0);
  assert.doesNotMatch(exit.stderr, /ERROR/);
});

Deno.test("watch: a file appended to for seconds ends fully backed up", async () => {
  using fx = makeFixture(filler(), WATCH);
  await using w = new WatchProcess(fx);
  await w.ready();
  const file = join(fx.source, "app.log");
  let final = "";
  // 30 appends 150 ms apart: 4.5 s of writing, longer than the 10 × 200 ms postponement cap.
  for (let i = 0; i < 30; i++) {
    const line = `line ${i} ${"x".repeat(1000)}\n`;
    Deno.writeTextFileSync(file, line, { append: true });
    final += line;
    await sleep(150);
  }
  await backedUp(fx.backup, "app.log", final);
  // Copies made while it grew are kept as versions; each is a whole earlier state.
  for (const v of listFiles(join(fx.backup, "versions/app.log"))) {
    const text = Deno.readTextFileSync(join(fx.backup, "versions/app.log", v));
    assert.ok(final.startsWith(text), `${v} is not an earlier state of the file`);
  }
  assert.equal((await w.stop()).code, 0);
});

Deno.test("watch: a backup root inside the source never backs itself up", async () => {
  using fx = makeFixture(filler(), { ...WATCH, backup_root: "./source/backup" });
  const backup = join(fx.source, "backup");
  await using w = new WatchProcess(fx);
  await w.ready();
  writeTree(fx.source, { "one.txt": "one\n" });
  await backedUp(backup, "one.txt", "one\n");
  // Anything the first batch's own writes set off is applied before this second change.
  writeTree(fx.source, { "two.txt": "two\n" });
  await backedUp(backup, "two.txt", "two\n");
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  const nested = listFiles(backup).filter((p) => /(^|\/)backup\//.test(p));
  assert.deepEqual(nested, []);
  assert.ok(!fx.logLines().some((l) => l.includes("source/backup/")));
  assert.ok(!/batch: 0 new, 0 updated, 0 deleted/.test(exit.stdout), exit.stdout);
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`watch: ${signal} stops it cleanly and releases the lock`, async () => {
    using fx = makeFixture({ ...filler(), "a.txt": "a\n" }, WATCH);
    await using w = new WatchProcess(fx);
    await w.ready();
    const locked = await fx.cli("run");
    assert.equal(locked.code, 3, locked.stderr);
    const started = Date.now();
    const exit = await w.stop(signal);
    assert.equal(exit.code, 0, exit.stderr);
    assert.ok(Date.now() - started < 10_000, "took more than 10 s to stop");
    assert.ok(fx.lastLog().some((l) => l.startsWith("Watch stopped")), fx.lastLog().join("\n"));
    const after = await fx.cli("run");
    assert.equal(after.code, 0, after.stderr);
  });
}

Deno.test("watch: a signal during the first pass lets that pass finish, then stops", async () => {
  const tree: Record<string, string> = {};
  for (let i = 0; i < 500; i++) tree[`many/f${i}.txt`] = `${i}\n`;
  using fx = makeFixture(tree, WATCH);
  await using w = new WatchProcess(fx, ["--quiet"]);
  // In the first pass: its first batch is in the log (the session's start is there as soon
  // as the session is open, before the pass).
  await poll(
    "the first batch in the log",
    () => fx.logLines().some((l) => l.startsWith("BACKUP: ")),
    DEADLINE_MS,
  );
  const exit = await w.stop("SIGINT");
  assert.equal(exit.code, 0, exit.stderr);
  assert.equal(exit.stdout, "");
  const log = fx.lastLog();
  assert.equal(log[log.length - 1], "Watch stopped (1 pass)");
  assert.equal(listFiles(join(fx.backup, "many")).length, 500);
  assert.equal((await fx.cli("run")).code, 0);
});

Deno.test("watch: --json prints one JSON object per batch", async () => {
  using fx = makeFixture(filler(), WATCH);
  await using w = new WatchProcess(fx, ["--json"]);
  await w.ready();
  writeTree(fx.source, { "j.txt": "j\n" });
  await backedUp(fx.backup, "j.txt", "j\n");
  const exit = await w.stop();
  const batches = exit.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(batches[0].full, "start");
  assert.equal(batches[0].counts.backup, 10);
  assert.ok(batches.some((b) => b.full === undefined && b.counts.backup === 1 && b.paths === 1));
});

Deno.test("watch: a restart backs up what changed while it was stopped", async () => {
  using fx = makeFixture({ ...filler(), "a.txt": "a1\n" }, WATCH);
  {
    await using w = new WatchProcess(fx);
    await w.ready();
    assert.equal((await w.stop()).code, 0);
  }
  writeTree(fx.source, { "a.txt": "a2\n", "b.txt": "b\n" });
  Deno.removeSync(join(fx.source, "keep/k0.txt"));
  await using w = new WatchProcess(fx);
  await w.ready(); // the first pass is done when `Watch started` is logged
  assert.equal(readOrUndefined(join(fx.backup, "a.txt")), "a2\n");
  assert.equal(readOrUndefined(join(fx.backup, "versions/a.txt/v1.bak")), "a1\n");
  assert.equal(readOrUndefined(join(fx.backup, "b.txt")), "b\n");
  assert.equal(readOrUndefined(join(fx.backup, "_deleted/keep/k0.txt")), "keep 0\n");
  assert.equal((await w.stop()).code, 0);
});

Deno.test("watch: killed in the middle of a batch, the next session completes it", async () => {
  using fx = makeFixture(filler(), WATCH);
  {
    // The 2nd journaled batch (the 1st is the first pass) dies before its files move.
    await using w = new WatchProcess(fx, [], { BACKUP_TOOL_FAULT: "journaled:2" });
    await w.ready();
    writeTree(fx.source, { "crash.txt": "crash\n" });
    const exit = await w.stop("SIGCONT"); // a no-op signal: wait for the fault's own exit
    assert.equal(exit.code, 137, exit.stderr);
  }
  assert.equal(readOrUndefined(join(fx.backup, "crash.txt")), undefined);
  await using w = new WatchProcess(fx);
  await w.ready();
  assert.equal(readOrUndefined(join(fx.backup, "crash.txt")), "crash\n");
  assert.ok(fx.lastLog().some((l) => l.startsWith("RECOVER: completed 1 action(s)")));
  const next = await w.stop();
  assert.equal(next.code, 0);
  // The killed session said nothing; the next one says it did not finish, for the journal.
  assert.match(next.stderr, /^WARNING: a watch \(pid \d+ on .*\) did not finish: it was killed/m);
});

Deno.test("watch: one that takes a killed run's lock over says so before its first pass, which may be killed too", async () => {
  using fx = makeFixture(filler(), WATCH);
  assert.equal((await fx.cli("run")).code, 0);
  writeTree(fx.source, { "b.txt": "b\n" });
  // A run killed while it applies its batch (SIGKILL: the out-of-memory killer).
  await using killed = await pausedRun(["run", "-q", "--config", fx.config], "applying:1", fx.dir);
  killed.child.kill("SIGKILL");
  await killed.child.status;
  // The watch dies in its first pass as well (the same file, the same killer): what it
  // said before that is all the journal gets.
  await using w = new WatchProcess(fx, [], { BACKUP_TOOL_FAULT: "journaled:1" });
  const exit = await w.stop("SIGCONT"); // a no-op signal: wait for the fault's own exit
  assert.equal(exit.code, 137, exit.stderr);
  assert.match(
    exit.stderr,
    new RegExp(
      `^WARNING: a run \\(pid ${killed.child.pid} on .*\\) did not finish: it was killed`,
      "m",
    ),
  );
});

Deno.test("watch: in process, stop() closes every watcher, timer and file", async () => {
  using fx = makeFixture(filler(), WATCH);
  const config = loadConfig(fx.config);
  const batches: { at: number; paths: number }[] = [];
  const handle = await startWatch(config, {
    onBatch: (b) => batches.push({ at: Date.now(), paths: b.paths }),
  });
  try {
    await handle.ready;
    const written = Date.now();
    writeTree(fx.source, { "fast.txt": "fast\n" });
    await backedUp(fx.backup, "fast.txt", "fast\n");
    const latency = Date.now() - written;
    console.log(`event → backed up: ${latency} ms (debounce 200 ms)`);
    assert.ok(batches.some((b) => b.paths === 1));
  } finally {
    const totals = await handle.stop();
    assert.equal(totals.counts.backup, 11);
  }
  assert.equal(await handle.stop(), await handle.done); // idempotent
});

Deno.test("watch: --help shows usage and examples", async () => {
  const r = await runCli(["watch", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: backup-tool watch/);
  assert.match(r.stdout, /Examples:/);
});

Deno.test("watch: a tree deleted folder by folder meets the mass-deletion guard as a whole", async () => {
  const tree: Record<string, string> = {};
  for (const d of ["a", "b", "c", "d"]) {
    for (let i = 0; i < 5; i++) tree[`${d}/${i}.txt`] = `${d}${i}\n`;
  }
  using fx = makeFixture(tree, WATCH); // 20 files; the guard allows 50%
  await using w = new WatchProcess(fx);
  await w.ready();
  // One folder at a time, each a batch of its own: 25%, then 50% (at the limit) pass.
  for (const d of ["a", "b"]) {
    Deno.removeSync(join(fx.source, d), { recursive: true });
    await backedUp(fx.backup, `_deleted/${d}/4.txt`, `${d}4\n`);
  }
  // The third would make 75% since the session's full pass: held back, copies in place.
  Deno.removeSync(join(fx.source, "c"), { recursive: true });
  await poll("the guard to hold the third", () => w.stderr.includes("Deletions held back"));
  assert.match(
    w.stderr,
    /15 of 20 tracked files would be archived as deleted since the watch began or last rescanned/,
  );
  assert.equal(readOrUndefined(join(fx.backup, "c/0.txt")), "c0\n");
  assert.equal(readOrUndefined(join(fx.backup, "_deleted/c/0.txt")), undefined);
  // The fourth is held back too: the third, held back but gone, counts with it (it used to
  // be left out, which put the fourth at 10 of 20, archived).
  Deno.removeSync(join(fx.source, "d"), { recursive: true });
  await poll("the guard to hold the fourth", () => w.stderr.includes("20 of 20 tracked"));
  assert.equal(readOrUndefined(join(fx.backup, "d/0.txt")), "d0\n");
  assert.equal(readOrUndefined(join(fx.backup, "_deleted/d/0.txt")), undefined);
  assert.equal((await w.stop()).code, 0);
});

Deno.test("watch: files the guard held back that come back no longer count as deleted", async () => {
  const tree: Record<string, string> = {};
  for (let i = 0; i < 10; i++) tree[`f${i}.txt`] = `${i}\n`;
  using fx = makeFixture(tree, WATCH); // the guard allows 50%
  await using w = new WatchProcess(fx);
  await w.ready();
  const away = join(fx.dir, "away");
  Deno.mkdirSync(away);
  const moved = [0, 1, 2, 3, 4, 5].map((i) => `f${i}.txt`);
  for (const f of moved) Deno.renameSync(join(fx.source, f), join(away, f));
  await poll("the guard to hold them", () => w.stderr.includes("Deletions held back"));
  for (const f of moved) Deno.renameSync(join(away, f), join(fx.source, f));
  // Back in place: a later single deletion is 1 (or, with what was archived before the
  // guard held the rest, a few) of 10, not 7 of 10.
  Deno.removeSync(join(fx.source, "f9.txt"));
  await backedUp(fx.backup, "_deleted/f9.txt", "9\n");
  assert.equal((await w.stop()).code, 0);
});

Deno.test("watch: one source of several deleted folder by folder meets the guard as a whole too", async () => {
  // Source "big" holds 40 files, "small" 20 in four folders: the whole stays far below the
  // limit, but "small" alone does not once half of it is gone since the full pass.
  const tree: Record<string, string> = {};
  for (let i = 0; i < 40; i++) tree[`big/${i}.txt`] = `big${i}\n`;
  for (const d of ["a", "b", "c", "d"]) {
    for (let i = 0; i < 5; i++) tree[`small/${d}/${i}.txt`] = `${d}${i}\n`;
  }
  using fx = makeFixture(tree, { ...WATCH, sources: ["./source/big", "./source/small"] });
  await using w = new WatchProcess(fx);
  await w.ready();
  const small = join(fx.source, "small");
  for (const d of ["a", "b"]) {
    Deno.removeSync(join(small, d), { recursive: true });
    await backedUp(fx.backup, `_deleted/_sources/small/${d}/4.txt`, `${d}4\n`);
  }
  Deno.removeSync(join(small, "c"), { recursive: true });
  await poll("the guard to hold the third", () => w.stderr.includes("Deletions held back"));
  assert.match(
    w.stderr,
    /15 of the 20 tracked files of source 'small' would be archived as deleted since the watch began or last rescanned/,
  );
  assert.equal(readOrUndefined(join(fx.backup, "_sources/small/c/0.txt")), "c0\n");
  assert.equal((await w.stop()).code, 0);
});

Deno.test("watch: one source of several moved away and back is followed again within seconds", async () => {
  using fx = makeFixture({ "a/1.txt": "a1\n", "b/1.txt": "b1\n" }, {
    ...WATCH,
    sources: ["./source/a", "./source/b"],
  });
  await using w = new WatchProcess(fx);
  await w.ready();
  const a = join(fx.source, "a");
  Deno.renameSync(a, join(fx.source, "a.away"));
  // The watchers are reopened around it: the other source is followed meanwhile.
  await poll(
    "the watchers to go around it",
    () => w.stderr.includes(`Cannot follow events in '${a}'`),
  );
  Deno.renameSync(join(fx.source, "a.away"), a);
  // Back well within the half-minute check of the sources' folders, which never saw it
  // gone (before, it was then never followed again: only a rescan found its changes).
  writeTree(a, { "1.txt": "a1 changed\n", "2.txt": "a2\n" });
  await backedUp(fx.backup, "_sources/a/2.txt", "a2\n");
  await backedUp(fx.backup, "_sources/a/1.txt", "a1 changed\n");
  writeTree(a, { "3.txt": "a3\n" }); // followed by events again, not just rescanned once
  await backedUp(fx.backup, "_sources/a/3.txt", "a3\n");
  assert.equal((await w.stop()).code, 0);
});

Deno.test("watch: temporary files created and deleted never add up to trip the guard", async () => {
  const tree: Record<string, string> = {};
  for (let i = 0; i < 20; i++) tree[`f${i}.txt`] = `f${i}\n`;
  using fx = makeFixture(tree, WATCH);
  await using w = new WatchProcess(fx);
  await w.ready();
  for (let i = 0; i < 12; i++) {
    writeTree(fx.source, { [`t${i}.tmp`]: `t${i}\n` });
    await backedUp(fx.backup, `t${i}.tmp`, `t${i}\n`);
    Deno.removeSync(join(fx.source, `t${i}.tmp`));
    await backedUp(fx.backup, `_deleted/t${i}.tmp`, `t${i}\n`);
  }
  assert.doesNotMatch(w.stderr, /Deletions held back/);
  assert.equal((await w.stop()).code, 0);
});

/** Runs `mount`/`umount` (root only); true when it worked. */
async function mountCommand(...args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(args[0], { args: args.slice(1), stderr: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

const canMount = Deno.build.os === "linux" && Deno.uid?.() === 0;
if (!canMount) console.log("SKIP watch remount test: needs root on Linux to mount a tmpfs");

Deno.test({
  name:
    "watch: a source disk unmounted and mounted again is followed again, guard holding meanwhile",
  ignore: !canMount,
  fn: async () => {
    using fx = makeFixture({}, WATCH);
    // The source folder is a mount point: a tmpfs stands for the user's disk.
    if (!(await mountCommand("mount", "-t", "tmpfs", "none", fx.source))) {
      console.log("SKIP watch remount test: cannot mount a tmpfs here (no CAP_SYS_ADMIN?)");
      return;
    }
    let mounted = true;
    // Written before the session starts: its first pass backs them up, and no event about
    // them is left to apply after the unmount.
    writeTree(fx.source, { "a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n" });
    const warnings: string[] = [];
    const guards: string[] = [];
    const rescans: number[] = [];
    const handle = await startWatch(loadConfig(fx.config), {
      rootCheckMs: 100,
      onWarning: (m) => warnings.push(m),
      onBatch: (b) => {
        if (b.result.deleteGuard) guards.push(b.result.deleteGuard);
        if (b.full === "the watcher was reopened") rescans.push(Date.now());
      },
    });
    try {
      await handle.ready;
      await backedUp(fx.backup, "c.txt", "c\n");
      // Unmounted: Deno.watchFs says nothing of it; the identity check does, and what the
      // empty mount point shows is held back by the guard.
      assert.ok(await mountCommand("umount", fx.source));
      mounted = false;
      await poll("the guard to hold the deletions", () => guards.length > 0, DEADLINE_MS);
      const noticed = () => warnings.some((w) => w.includes("(a disk unmounted or mounted)"));
      await poll(`the change to be noticed (${warnings})`, noticed, DEADLINE_MS);
      // Mounted again: the watcher follows the new disk (no periodic rescan is configured,
      // so only its events, or the rescan of its reopening, can bring d.txt in).
      assert.ok(await mountCommand("mount", "-t", "tmpfs", "none", fx.source));
      mounted = true;
      const remounted = Date.now();
      writeTree(fx.source, { "a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n" });
      await poll("a rescan of the new disk", () => rescans.some((t) => t > remounted), DEADLINE_MS);
      writeTree(fx.source, { "d.txt": "after the remount\n" });
      await backedUp(fx.backup, "d.txt", "after the remount\n");
      assert.deepEqual(listFiles(join(fx.backup, "_deleted")), []);
      assert.equal(readOrUndefined(join(fx.backup, "a.txt")), "a\n");
    } finally {
      await handle.stop();
      if (mounted) await mountCommand("umount", fx.source);
    }
  },
});

Deno.test("watch: periodic rescans count unchanged files in one line, not a SKIP line each", async () => {
  using fx = makeFixture(filler(20), { watch: { debounce_ms: 200, rescan_interval: 1 } });
  await using w = new WatchProcess(fx);
  await w.ready();
  await poll(
    "two rescans logged",
    () => fx.logLines().filter((l) => l.startsWith("RESCAN done: ")).length >= 2,
    DEADLINE_MS,
  );
  assert.equal((await w.stop()).code, 0);
  const lines = fx.logLines();
  const firstRescan = lines.findIndex((l) => l.startsWith("RESCAN: "));
  assert.ok(firstRescan > 0, lines.join("\n"));
  // The start pass logs each file as run does (a first backup here); rescans only count.
  assert.equal(lines.slice(0, firstRescan).filter((l) => l.startsWith("BACKUP: ")).length, 20);
  assert.deepEqual(lines.slice(firstRescan).filter((l) => l.startsWith("SKIP: ")), []);
  assert.ok(lines.includes("RESCAN done: 20 unchanged"), lines.join("\n"));
});

Deno.test("watch: a file whose only event is a close after writing (as through a memory mapping) is backed up", async () => {
  using fx = makeFixture({ ...filler(), "mapped.db": "v1\n" }, WATCH);
  // A second name outside the source: writing through it makes no event in the source.
  const link = join(fx.dir, "mapped-link.db");
  Deno.linkSync(join(fx.source, "mapped.db"), link);
  await using w = new WatchProcess(fx);
  await w.ready();
  Deno.writeTextFileSync(link, "v2\n");
  // Opened for writing and closed unwritten: one close-after-write event ("access").
  Deno.openSync(join(fx.source, "mapped.db"), { write: true }).close();
  await backedUp(fx.backup, "mapped.db", "v2\n");
  assert.equal((await w.stop()).code, 0);
});

Deno.test("watch: with an 'only these files' exclude set, a folder moved in or renamed is followed", async () => {
  using fx = makeFixture(
    { ...filler(), "docs/a.txt": "a\n", "docs/skip.bin": "x" },
    { ...WATCH, exclude: ["*", "!*/", "!*.txt"] },
  );
  writeTree(join(fx.dir, "outside"), { "new/b.txt": "b\n", "new/deep/c.txt": "c\n" });
  await using w = new WatchProcess(fx);
  await w.ready();
  Deno.renameSync(join(fx.dir, "outside", "new"), join(fx.source, "new"));
  await backedUp(fx.backup, "new/deep/c.txt", "c\n");
  Deno.renameSync(join(fx.source, "docs"), join(fx.source, "docs2"));
  await backedUp(fx.backup, "docs2/a.txt", "a\n");
  await backedUp(fx.backup, "_deleted/docs/a.txt", "a\n");
  assert.equal(readOrUndefined(join(fx.backup, "docs2/skip.bin")), undefined, "still excluded");
  assert.equal((await w.stop()).code, 0);
});

Deno.test("watch: a folder a folder-only pattern excludes, made or removed, or a file excluded where folders are not, runs no pass", async () => {
  using fx = makeFixture(
    { ...filler(), "a.txt": "a\n", "data/keep/k.txt": "k\n" },
    { ...WATCH, exclude: ["node_modules/", "/data/*", "!/data/*/"] },
  );
  await using w = new WatchProcess(fx, ["--json"]);
  await w.ready();
  // As each `npm ci` does. An event names the folder itself, which could be a file of that
  // name (followed): before, each ran a pass that found nothing to do, said on stdout.
  writeTree(fx.source, { "node_modules/pkg/index.js": "x\n" });
  writeTree(fx.source, { "b.txt": "b\n" });
  await backedUp(fx.backup, "b.txt", "b\n");
  Deno.removeSync(join(fx.source, "node_modules"), { recursive: true });
  // A file written to, whose name could be a folder's (followed), the same.
  writeTree(fx.source, { "data/x.db": "1\n" });
  writeTree(fx.source, { "c.txt": "c\n" });
  await backedUp(fx.backup, "c.txt", "c\n");
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  const batches = exit.stdout.trim().split("\n").map((l) => JSON.parse(l)).filter((b) => !b.full);
  const seen = batches.map((b) => ({ paths: b.paths, backup: b.counts.backup }));
  assert.deepEqual(seen, [{ paths: 1, backup: 1 }, { paths: 1, backup: 1 }], exit.stdout);
});

Deno.test("watch: a folder excluded after its files were backed up, moved away and made again, has them archived", async () => {
  using fx = makeFixture({ ...filler(), "cache/x.bin": "x\n" }, WATCH);
  assert.equal((await fx.cli("run", "-q")).code, 0);
  const config = JSON.parse(Deno.readTextFileSync(fx.config));
  Deno.writeTextFileSync(fx.config, JSON.stringify({ ...config, exclude: ["cache/"] }));
  await using w = new WatchProcess(fx);
  await w.ready(); // its first pass marks cache/x.bin excluded, its copy kept
  // Moved away, no event names its files: the one for the folder made again stands for them.
  Deno.renameSync(join(fx.source, "cache"), join(fx.dir, "away"));
  Deno.mkdirSync(join(fx.source, "cache"));
  await backedUp(fx.backup, "_deleted/cache/x.bin", "x\n");
  assert.equal((await w.stop()).code, 0);
});

Deno.test({
  name: "watch: an event for a name that is not UTF-8 leaves the watcher running, and says so once",
  ignore: Deno.build.os !== "linux", // names are bytes on Linux; macOS and Windows refuse these
  fn: async () => {
    using fx = makeFixture(filler(), WATCH);
    await using w = new WatchProcess(fx);
    await w.ready();
    const bad = new Deno.Command("sh", {
      args: ["-c", 'for i in 1 2 3; do echo $i >> "$(printf "bad\\377name")"; done'],
      cwd: fx.source,
    }).outputSync();
    assert.equal(bad.code, 0, new TextDecoder().decode(bad.stderr));
    writeTree(fx.source, { "after.txt": "after\n" });
    await backedUp(fx.backup, "after.txt", "after\n");
    await poll("the warning", () => /not valid UTF-8/.test(w.stderr), DEADLINE_MS);
    const exit = await w.stop();
    assert.equal(exit.code, 0, exit.stderr);
    assert.equal(exit.stderr.match(/not valid UTF-8/g)?.length, 1, exit.stderr);
    assert.doesNotMatch(exit.stderr, /Watcher failed/);
  },
});

Deno.test("watch: its backup root removed while watching, it stops at the next change (exit 1) and never writes into a new one", async () => {
  using fx = makeFixture({ ...filler(), "a.txt": "a\n" }, WATCH);
  await using w = new WatchProcess(fx);
  await w.ready();
  Deno.removeSync(fx.backup, { recursive: true }); // or another disk mounted in its place
  // A run makes a new backup root (the watch's lock went with the old one), and is held
  // in the middle of its pass, its state's -wal and -shm files open, while the watch stops.
  // It logs elsewhere: with this log_dir, whose logs name the root, it would refuse to
  // start a new backup there (a disk not mounted, it would think).
  const other = join(fx.dir, "other.jsonc");
  const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
  Deno.writeTextFileSync(other, JSON.stringify({ ...cfg, log_dir: "./other-logs" }));
  await using run = await pausedRun(["run", "--config", other], "folder:2", fx.dir);
  const wal = join(fx.backup, ".backup-tool", "state.db-wal");
  try {
    assert.ok(existsNow(wal), "the run's WAL");
    writeTree(fx.source, { "b.txt": "b\n" });
    const exit = await w.exited();
    assert.equal(exit.code, 1, exit.stderr);
    assert.match(exit.stderr, /^WARNING: Watch stopped: backup root '.*' was removed or replaced/m);
    assert.equal(readOrUndefined(join(fx.backup, "b.txt")), undefined, "the watch wrote nothing");
    assert.ok(existsNow(wal), "the stopping watch left the run's WAL alone");
  } finally {
    run.resume();
  }
  assert.equal((await run.child.output()).code, 0);
  const again = await runCli(["run", "--config", fx.config]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(readOrUndefined(join(fx.backup, "b.txt")), "b\n");
  assert.equal((await runCli(["verify", "--config", fx.config])).code, 0);
});

Deno.test({
  name: "watch: a folder it cannot read is left out, and everything else is still followed",
  // Root reads every folder: as root, the watch is run as nobody, the fixture made its own.
  ignore: Deno.build.os === "windows",
  fn: async () => {
    using fx = makeFixture({ ...filler(), "locked/l.txt": "l\n", "open/o.txt": "o1\n" }, WATCH);
    const prefix = await unprivilegedPrefix(fx);
    if (typeof prefix === "string") return console.log(`SKIP unreadable folder test: ${prefix}`);
    const locked = join(fx.source, "locked");
    Deno.chmodSync(locked, 0o000);
    try {
      await using w = new WatchProcess(fx, [], {}, prefix);
      await w.ready();
      await poll(
        "the warning",
        () => /Cannot follow events in '.*locked'/.test(w.stderr),
        DEADLINE_MS,
      );
      Deno.writeTextFileSync(join(fx.source, "open/o.txt"), "o2\n");
      await backedUp(fx.backup, "open/o.txt", "o2\n");
      writeTree(fx.source, { "new/deep/n.txt": "n\n" });
      await backedUp(fx.backup, "new/deep/n.txt", "n\n");
      Deno.chmodSync(locked, 0o755); // readable again: followed from then on
      await backedUp(fx.backup, "locked/l.txt", "l\n");
      writeTree(fx.source, { "locked/l2.txt": "l2\n" });
      await backedUp(fx.backup, "locked/l2.txt", "l2\n");
      // One that appears unreadable below a folder followed whole, after that new plan
      // (moved in so: writable, which moving a folder to another needs).
      writeTree(fx.dir, { "late/x.txt": "x\n" });
      Deno.chmodSync(join(fx.dir, "late"), 0o300);
      Deno.renameSync(join(fx.dir, "late"), join(fx.source, "open/late"));
      await poll(
        "its warning",
        () => /Cannot follow events in '.*late'/.test(w.stderr),
        DEADLINE_MS,
      );
      Deno.chmodSync(join(fx.source, "open/late"), 0o755);
      await backedUp(fx.backup, "open/late/x.txt", "x\n");
      writeTree(fx.source, { "open/late/y.txt": "y\n" });
      await backedUp(fx.backup, "open/late/y.txt", "y\n");
      assert.equal((await w.stop()).code, 0);
    } finally {
      Deno.chmodSync(locked, 0o755);
      for (const late of [join(fx.dir, "late"), join(fx.source, "open/late")]) {
        try {
          Deno.chmodSync(late, 0o755);
        } catch { /* not there */ }
      }
    }
  },
});

/**
 * No prefix where the tests do not run as root; as root, the command that runs the tool as
 * nobody, with the fixture given to nobody (or why that is impossible here).
 */
async function unprivilegedPrefix(fx: Fixture): Promise<string[] | string> {
  if (!isRoot()) return [];
  const denoDir = join(fx.dir, "deno-dir");
  const prefix = asNobody(denoDir);
  if (typeof prefix === "string") return prefix;
  if (!Deno.env.get("BACKUP_TOOL_BIN")) await prepareDenoDir(denoDir);
  await sh(`chown -R ${NOBODY}:${NOBODY} '${fx.dir}' && chmod 755 '${fx.dir}'`);
  return prefix;
}

Deno.test("watch: its log folder removed meanwhile, the log goes on in a new file there", async () => {
  using fx = makeFixture(filler(), WATCH);
  await using w = new WatchProcess(fx);
  await w.ready();
  Deno.removeSync(fx.logs, { recursive: true });
  writeTree(fx.source, { "after.txt": "after\n" });
  await backedUp(fx.backup, "after.txt", "after\n");
  await poll(
    "the new log file",
    () => fx.logLines().some((l) => l.includes("after.txt")),
    DEADLINE_MS,
  );
  assert.match(
    fx.logLines()[0],
    /^LOG continued from .*-watch\.log, which was removed for backup root '.*backup'$/,
  );
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  assert.match(exit.stderr, /WARNING: The log file was removed: the log goes on in '.*'/);
  assert.ok(fx.logLines().some((l) => /^Watch stopped \(\d+ passes\)$/.test(l)), "ends there");
});

Deno.test({
  name: "watch: a folder made while watching has its mode recorded, and a restore gives it back",
  ignore: Deno.build.os === "windows", // no POSIX permission bits there
  fn: async () => {
    using fx = makeFixture({ ...filler(), "a.txt": "a\n" }, WATCH);
    await using w = new WatchProcess(fx);
    await w.ready();
    Deno.mkdirSync(join(fx.source, "private"));
    Deno.chmodSync(join(fx.source, "private"), 0o700);
    writeTree(fx.source, { "private/key": "k\n" });
    await backedUp(fx.backup, "private/key", "k\n");
    assert.equal((await w.stop()).code, 0);
    const out = join(fx.dir, "out");
    const r = await runCli(["restore", "private", "--to", out, "--config", fx.config]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(Deno.statSync(join(out, "private")).mode! & 0o777, 0o700);
  },
});

Deno.test("watch: a source folder removed and made again is followed again after one full rescan, not in a loop", async () => {
  using fx = makeFixture({ "a.txt": "a\n" }, {
    ...WATCH,
    safety: { max_delete_percent: 100 }, // the removal archives a.txt
  });
  await using w = new WatchProcess(fx);
  await w.ready();
  Deno.removeSync(fx.source, { recursive: true });
  Deno.mkdirSync(fx.source);
  writeTree(fx.source, { "b.txt": "b\n" });
  await backedUp(fx.backup, "b.txt", "b\n");
  // Followed again: a later change comes as an event (no periodic rescan here).
  writeTree(fx.source, { "c.txt": "c\n" });
  await backedUp(fx.backup, "c.txt", "c\n");
  // Each full pass renewed the watchers, which asked for another: 150 passes a second.
  const rescans = fx.logLines().filter((l) => l === "RESCAN: the watcher was reopened");
  assert.ok(rescans.length <= 2, `${rescans.length} rescans`);
  assert.equal((await w.stop()).code, 0);
});

Deno.test("watch: with one source of two gone (a disk unmounted), the other is still followed", async () => {
  using fx = makeFixture({}, {
    ...WATCH,
    sources: ["./one", "./two"],
  });
  writeTree(join(fx.dir, "one"), { "a.txt": "a\n" });
  writeTree(join(fx.dir, "two"), { "b.txt": "b\n" });
  await using w = new WatchProcess(fx);
  await w.ready();
  Deno.renameSync(join(fx.dir, "two"), join(fx.dir, "two-away"));
  await poll("the watchers to go around it", () => w.stderr.includes("Cannot follow events in"));
  writeTree(join(fx.dir, "one"), { "new.txt": "new\n" });
  await backedUp(fx.backup, "_sources/one/new.txt", "new\n");
  assert.equal((await w.stop()).code, 0);
});

Deno.test("watch: its one source moved away is planned around, nothing archived, and followed again once back", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n" }, {
    ...WATCH,
    safety: { max_delete_percent: 100 }, // the guard would not stop deletions here
  });
  await using w = new WatchProcess(fx);
  await w.ready();
  const away = join(fx.dir, "source.away");
  Deno.renameSync(fx.source, away);
  await poll("the missing source to be said", () => w.stderr.includes("it is missing (moved"));
  assert.ok(!existsNow(join(fx.backup, "_deleted")), "a source moved away is not a deletion");
  assert.doesNotMatch(w.stderr, /DELETE GUARD|--force/);
  Deno.renameSync(away, fx.source);
  writeTree(fx.source, { "c.txt": "c\n" });
  await backedUp(fx.backup, "c.txt", "c\n");
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  assert.ok(!existsNow(join(fx.backup, "_deleted")), "nothing archived on its return either");
  assert.ok(!fx.logLines().some((l) => l.includes("ARCHIVE DELETE")));
});

Deno.test("watch: a file in log_dir named as a run log but not one is backed up as it changes", async () => {
  using fx = makeFixture({ "notes.txt": "n\n" }, { ...WATCH, log_dir: "./source/logs" });
  await using w = new WatchProcess(fx);
  await backedUp(fx.backup, "notes.txt", "n\n"); // the first pass (its log is not fx's)
  // Another job's file, or a user's, of such a name: run backs it up, and so must watch.
  const name = "2021-01-01T00-00-00.000Z-notes.log";
  writeTree(join(fx.source, "logs"), { [name]: "not a run log\n" });
  await backedUp(fx.backup, `logs/${name}`, "not a run log\n");
  // Its own log, written all along, is still never backed up.
  assert.equal((await w.stop()).code, 0);
  const stored = listFiles(join(fx.backup, "logs"));
  assert.deepEqual(stored, [name]);
});

Deno.test("watch: stopped during its first pass, it says so, and the next run backs up the rest", async () => {
  const tree: Record<string, string> = {};
  for (let d = 0; d < 40; d++) {
    for (let i = 0; i < 50; i++) tree[`d${d}/f${i}.txt`] = `${d} ${i}\n`;
  }
  using fx = makeFixture(tree, WATCH);
  const marker = join(fx.dir, "paused");
  // Held as the first pass enters its third folder, so the signal comes in the pass.
  await using w = new WatchProcess(fx, [], { BACKUP_TOOL_PAUSE: `folder:3:${marker}` });
  await poll("the first pass to be held", () => existsNow(marker));
  const stopping = w.stop("SIGINT");
  Deno.removeSync(marker);
  const exit = await stopping;
  assert.equal(exit.code, 0, exit.stderr);
  assert.match(exit.stdout, /full pass \(start\): .*; stopped before it finished: what it did not/);
  const log = fx.lastLog();
  assert.ok(log.some((l) => l.startsWith("FIRST PASS stopped before it finished")), log.join("\n"));
  assert.ok(!log.some((l) => l.startsWith("Watch started")), "it never followed anything");
  assert.ok(listFiles(fx.backup).filter((p) => p.endsWith(".txt")).length < 2000);
  assert.equal((await fx.cli("run")).code, 0);
  assert.equal(listFiles(fx.backup).filter((p) => p.endsWith(".txt")).length, 2000);
});

Deno.test("watch: a config edited in its comments only is read again and said so, with no pass", async () => {
  using fx = makeFixture({ "a.txt": "a\n" }, WATCH);
  await using w = new WatchProcess(fx);
  await w.ready();
  Deno.writeTextFileSync(fx.config, `// edited\n${Deno.readTextFileSync(fx.config)}`);
  const note = `NOTE: Config '${fx.config}' read again: nothing this watch uses changed`;
  await poll("the note", () => w.stderr.includes(note));
  assert.equal((await w.stop()).code, 0);
  const log = fx.lastLog();
  assert.ok(log.some((l) => l.startsWith(note)), log.join("\n"));
  assert.ok(!log.some((l) => l.startsWith("RESCAN")), log.join("\n"));
});

Deno.test({
  name: "watch: a warning naming a file with a newline in its name is one line, as run writes it",
  ignore: Deno.build.os === "windows", // no newline in a file name there
  fn: async () => {
    const name = "new\nline.txt";
    using fx = makeFixture({ ...filler(), [name]: "v1\n" }, WATCH);
    assert.equal((await fx.cli("run", "-q")).code, 0);
    // Its copy gone by hand, then changed: the pass archives it and warns the copy was lost.
    Deno.removeSync(join(fx.backup, name));
    Deno.writeTextFileSync(join(fx.source, name), "v2\n");
    await using w = new WatchProcess(fx);
    await w.ready();
    const exit = await w.stop();
    assert.equal(exit.code, 0, exit.stderr);
    const warning = exit.stderr.split("\n").find((l) => l.startsWith("WARNING: source/new"));
    assert.ok(warning, exit.stderr);
    assert.match(warning, /^WARNING: source\/new\\nline\.txt: .*'new\\nline\.txt' was missing/);
  },
});

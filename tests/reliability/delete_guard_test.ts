/**
 * The mass-deletion guard (`safety.max_delete_percent`, default 50; `--force`). An emptied
 * source folder (a mount point with nothing mounted) must not empty the backup: the run
 * archives nothing, says why, exits 1, and keeps doing so until `--force`. Held-back
 * deletions do not stop the rest of the run. A missing source folder stops the run before
 * anything changes (exit 2).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture, writeConfig, writeTree } from "../helpers.ts";
import {
  assertConverged,
  checkBackup,
  countsOf,
  listDir,
  runTool,
  snapshot,
  type ToolResult,
} from "./util.ts";

function tree(n: number, dir = ""): Record<string, string> {
  return Object.fromEntries(
    Array.from({ length: n }, (_, i) => [`${dir}f${i}.txt`, `content ${dir}${i}\n`]),
  );
}

const run = (fx: Fixture, ...args: string[]): Promise<ToolResult> =>
  runTool([...args, "--config", fx.config], { timeoutMs: 30_000 });

function assertHeld(
  fx: Fixture,
  r: ToolResult,
  tracked: number,
  context: string,
  deletedBefore: string[] = [],
): void {
  assert.equal(r.code, 1, `${context}: ${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /Deletions held back: \d+ of (the )?\d+ tracked files/, context);
  assert.match(r.stderr, /max_delete_percent/, context);
  assert.match(r.stderr, /--force/, context);
  // The log's last line says why a run with no failed file exits 1.
  assert.match(
    fx.lastLog().at(-1) ?? "",
    /Run complete with \d+ failure\(s\), deletions held back by the deletion guard$/,
    context,
  );
  const check = checkBackup(fx.backup);
  assert.deepEqual(check.problems, [], context);
  assert.equal(check.state.files.length, tracked, `${context}: paths were forgotten`);
  assert.deepEqual(
    listDir(join(fx.backup, "_deleted")),
    deletedBefore,
    `${context}: something was archived`,
  );
}

Deno.test("an emptied source folder does not empty the backup; --force does", async () => {
  using fx = makeFixture({ ...tree(10), ...tree(5, "sub/") });
  assert.equal((await run(fx, "run")).code, 0);
  const captured = [...snapshot(fx.source).values()].map((s) => s.hash);
  const before = snapshot(fx.backup, [".backup-tool"]);
  for (const e of Deno.readDirSync(fx.source)) {
    Deno.removeSync(join(fx.source, e.name), { recursive: true });
  }
  const plan = await run(fx, "plan", "--json");
  assert.equal(plan.code, 1, plan.stderr);
  assert.equal(JSON.parse(plan.stdout).counts.delete, 0);
  assert.match(JSON.parse(plan.stdout).deleteGuard, /15 of 15/);
  // As a run says it: on stderr, with --quiet too (it exits 1, and says why).
  const quietPlan = await run(fx, "plan", "-q");
  assert.equal(quietPlan.code, 1, quietPlan.stderr);
  assert.match(quietPlan.stderr, /^Deletions held back: 15 of 15 tracked files/m);
  assert.doesNotMatch(quietPlan.stdout, /held back/);
  for (let i = 0; i < 2; i++) {
    const held = await run(fx, "run");
    assertHeld(fx, held, 15, `held run ${i + 1}`);
    assert.deepEqual(snapshot(fx.backup, [".backup-tool"]), before, "the backup changed");
  }
  const forced = await run(fx, "run", "--force", "--json");
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(countsOf(forced).delete, 15);
  assertConverged(fx, captured, "after --force");
  assert.equal(listDir(join(fx.backup, "_deleted")).length, 11); // 10 files + sub/
});

Deno.test("held-back deletions do not stop new and changed files from being backed up", async () => {
  using fx = makeFixture({ ...tree(6, "photos/"), "a.txt": "a v1\n", "b.txt": "b\n" });
  assert.equal((await run(fx, "run")).code, 0);
  Deno.removeSync(join(fx.source, "photos"), { recursive: true });
  Deno.writeTextFileSync(join(fx.source, "a.txt"), "a v2\n");
  Deno.writeTextFileSync(join(fx.source, "new.txt"), "new\n");
  const held = await run(fx, "run", "--json");
  assert.equal(held.code, 1, held.stderr);
  const c = countsOf(held);
  assert.deepEqual([c.delete, c.modified, c.backup], [0, 1, 1]);
  const check = checkBackup(fx.backup);
  assert.deepEqual(check.problems, []);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "a v2\n");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "versions/a.txt/v1.bak")), "a v1\n");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "new.txt")), "new\n");
  assert.equal(listDir(join(fx.backup, "photos")).length, 6, "photos were archived");
  // The folder comes back (the disk is mounted again): nothing to do for it.
  for (const [rel, text] of Object.entries(tree(6, "photos/"))) {
    Deno.mkdirSync(join(fx.source, "photos"), { recursive: true });
    Deno.writeTextFileSync(join(fx.source, rel), text);
  }
  const back = await run(fx, "run", "--json");
  assert.equal(back.code, 0, back.stderr);
  const b = countsOf(back);
  assert.equal(b.backup + b.modified + b.delete + b.duplicate, 0);
  assertConverged(fx, [], "after the folder came back");
});

Deno.test("a file replaced by a folder of its name is archived even when the guard holds the rest", async () => {
  using fx = makeFixture({ ...tree(6, "photos/"), "a": "a file\n", "b.txt": "b\n" });
  assert.equal((await run(fx, "run")).code, 0);
  Deno.removeSync(join(fx.source, "photos"), { recursive: true });
  Deno.removeSync(join(fx.source, "a"));
  Deno.mkdirSync(join(fx.source, "a"));
  Deno.writeTextFileSync(join(fx.source, "a", "n.txt"), "in the folder\n");
  const held = await run(fx, "run", "--json");
  assert.equal(held.code, 1, held.stderr);
  assert.match(JSON.parse(held.stdout).deleteGuard, /^6 of 8 tracked files/);
  assert.deepEqual([countsOf(held).delete, countsOf(held).backup], [1, 1]);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "_deleted/a")), "a file\n");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a/n.txt")), "in the folder\n");
  assert.equal(listDir(join(fx.backup, "photos")).length, 6, "photos were archived");
  // The whole tree as the backup has it now restores: no file and folder share a name.
  const to = join(fx.dir, "restored");
  const restore = await run(fx, "restore", "--to", to);
  assert.equal(restore.code, 0, `${restore.stdout}\n${restore.stderr}`);
  assert.equal(Deno.readTextFileSync(join(to, "a", "n.txt")), "in the folder\n");
});

Deno.test("a folder replaced by a file or symlink of its name: its files are archived past the guard", async () => {
  for (const replacement of ["file", "symlink"] as const) {
    using fx = makeFixture({ ...tree(3, "d/"), "k.txt": "kept\n" });
    assert.equal((await run(fx, "run")).code, 0);
    Deno.removeSync(join(fx.source, "d"), { recursive: true });
    if (replacement === "file") Deno.writeTextFileSync(join(fx.source, "d"), "now a file\n");
    else Deno.symlinkSync("k.txt", join(fx.source, "d"));
    // 3 of 4 tracked files gone is over the limit, but the folder's place holds something.
    const swapped = await run(fx, "run", "--json");
    assert.equal(swapped.code, 0, `${replacement}: ${swapped.stdout}\n${swapped.stderr}`);
    assert.deepEqual([countsOf(swapped).delete, countsOf(swapped).backup], [3, 1], replacement);
    assert.equal(listDir(join(fx.backup, "_deleted", "d")).length, 3, replacement);
    const stored = join(fx.backup, "d");
    if (replacement === "file") assert.equal(Deno.readTextFileSync(stored), "now a file\n");
    else assert.equal(Deno.readLinkSync(stored), "k.txt");
    const to = join(fx.dir, "restored");
    const restore = await run(fx, "restore", "--to", to);
    assert.equal(restore.code, 0, `${replacement}: ${restore.stdout}\n${restore.stderr}`);
    assert.equal(Deno.lstatSync(join(to, "d")).isDirectory, false, replacement);
  }
});

Deno.test("the guard's threshold: at the limit proceeds, above it holds; 0 holds every deletion", async () => {
  using fx = makeFixture(tree(10), { safety: { max_delete_percent: 20 } });
  assert.equal((await run(fx, "run")).code, 0);
  Deno.removeSync(join(fx.source, "f0.txt"));
  Deno.removeSync(join(fx.source, "f1.txt"));
  const atLimit = await run(fx, "run", "--json");
  assert.equal(atLimit.code, 0, "2 of 10 is 20%: allowed");
  assert.equal(countsOf(atLimit).delete, 2);
  for (const n of [2, 3, 4]) Deno.removeSync(join(fx.source, `f${n}.txt`));
  assertHeld(fx, await run(fx, "run"), 8, "3 of 8 is above 20%", ["f0.txt", "f1.txt"]);

  using zero = makeFixture(tree(10), { safety: { max_delete_percent: 0 } });
  assert.equal((await run(zero, "run")).code, 0);
  Deno.removeSync(join(zero.source, "f9.txt"));
  assertHeld(zero, await run(zero, "run"), 10, "max_delete_percent 0");
  assert.equal((await run(zero, "run", "--force")).code, 0);
});

Deno.test("a fractional limit: the base is counted only as far as needed, and judged alike", async () => {
  // 153 of 1,000 is 15.3%, well under 40.8%; the count stops at the smallest base that
  // lets 153 pass, 375 by ceil(15300 / 40.8), where 40.8 × 375 is 15,299.999… in floating
  // point: that base must be judged passing too (it was not: held, "153 of 375").
  using fx = makeFixture(tree(1000), { safety: { max_delete_percent: 40.8 } });
  assert.equal((await run(fx, "run")).code, 0);
  for (let i = 0; i < 153; i++) Deno.removeSync(join(fx.source, `f${i}.txt`));
  const passed = await run(fx, "run", "--json");
  assert.equal(passed.code, 0, passed.stderr);
  assert.equal(countsOf(passed).delete, 153);
  // 348 more: 348 of the 847 left is 41.1%, above it: held, with the real base named.
  for (let i = 153; i < 501; i++) Deno.removeSync(join(fx.source, `f${i}.txt`));
  const archived = listDir(join(fx.backup, "_deleted"));
  assert.equal(archived.length, 153);
  const held = await run(fx, "run");
  assertHeld(fx, held, 847, "348 of 847 is above 40.8%", archived);
  assert.match(held.stderr, /348 of 847 tracked files would be archived as deleted/);
});

Deno.test("with several sources, one emptied (a small unmounted disk) is held back too", async () => {
  using fx = makeFixture({ ...tree(20, "big/"), ...tree(5, "usb/") }, {
    sources: ["./source/big", "./source/usb"],
  });
  assert.equal((await run(fx, "run")).code, 0);
  for (let i = 0; i < 5; i++) Deno.removeSync(join(fx.source, "usb", `f${i}.txt`));
  // 5 of 25 tracked files is under the limit, but all of the source 'usb'.
  const held = await run(fx, "run");
  assertHeld(fx, held, 25, "an emptied source");
  assert.match(held.stderr, /5 of the 5 tracked files of source 'usb'/);
  assert.match(held.stderr, /if 'usb' is mounted and the deletions are intended/);
  const forced = await run(fx, "run", "--force");
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(listDir(join(fx.backup, "_deleted", "_sources", "usb")).length, 5);
  // A few deletions in each source are not a mass deletion: archived without --force.
  Deno.writeTextFileSync(join(fx.source, "usb", "new1.txt"), "n1");
  Deno.writeTextFileSync(join(fx.source, "usb", "new2.txt"), "n2");
  assert.equal((await run(fx, "run")).code, 0);
  Deno.removeSync(join(fx.source, "usb", "new1.txt"));
  Deno.removeSync(join(fx.source, "big", "f0.txt"));
  Deno.removeSync(join(fx.source, "big", "f1.txt"));
  const few = await run(fx, "run");
  assert.equal(few.code, 0, few.stderr);
  assert.equal(listDir(join(fx.backup, "_deleted", "_sources", "big")).length, 2);
});

Deno.test("held back over everything tracked, with several sources: the message names the sources to check", async () => {
  using fx = makeFixture({ ...tree(4, "a/"), ...tree(4, "b/") }, {
    sources: ["./source/a", "./source/b"],
  });
  assert.equal((await run(fx, "run")).code, 0);
  // 5 of 8 is over the limit: the message over everything tracked (judged before each
  // source's), whose remedy named "the source" (which one?) until 2026-12-05.
  for (let i = 0; i < 2; i++) Deno.removeSync(join(fx.source, "a", `f${i}.txt`));
  for (let i = 0; i < 2; i++) Deno.removeSync(join(fx.source, "b", `f${i}.txt`));
  Deno.removeSync(join(fx.source, "b", "f2.txt"));
  const held = await run(fx, "run");
  assertHeld(fx, held, 8, "two sources");
  assert.match(held.stderr, /5 of 8 tracked files would be archived as deleted/);
  assert.match(held.stderr, /if 'a' and 'b' are mounted and the deletions are intended/);
  assert.doesNotMatch(held.stderr, /the source is mounted/);
});

Deno.test("files still tracked from a source no longer configured do not dilute the guard", async () => {
  // The user renames the source folder and the config with it: the old source's files stay
  // tracked (and kept), so an emptied new source is half of everything tracked, not more.
  using fx = makeFixture(tree(10, "docs/"), { sources: ["./source/docs"] });
  assert.equal((await run(fx, "run")).code, 0);
  Deno.renameSync(join(fx.source, "docs"), join(fx.source, "Documents"));
  writeConfig(fx.config, { sources: ["./source/Documents"], backup_root: "./backup" });
  assert.equal((await run(fx, "run")).code, 0);
  for (let i = 0; i < 10; i++) Deno.removeSync(join(fx.source, "Documents", `f${i}.txt`));
  const held = await run(fx, "run");
  assertHeld(fx, held, 20, "an emptied renamed source");
  assert.match(held.stderr, /10 of the 10 tracked files of source 'Documents'/);
  assert.deepEqual(listDir(join(fx.backup, "_deleted")), []);
});

Deno.test("held-back deletions are said on stderr, with --quiet too (a scheduled run's mail)", async () => {
  using fx = makeFixture(tree(4));
  assert.equal((await run(fx, "run")).code, 0);
  for (let i = 0; i < 4; i++) Deno.removeSync(join(fx.source, `f${i}.txt`));
  const quiet = await run(fx, "run", "--quiet");
  assertHeld(fx, quiet, 4, "--quiet");
  assert.equal(quiet.stdout, "");
  assert.equal(quiet.stderr.trim().split("\n").length, 1, quiet.stderr);
});

Deno.test("a missing source folder stops the run before anything changes (exit 2)", async () => {
  using fx = makeFixture(tree(4));
  assert.equal((await run(fx, "run")).code, 0);
  const before = snapshot(fx.backup);
  const logs = listDir(fx.logs);
  Deno.removeSync(fx.source, { recursive: true });
  const r = await run(fx, "run");
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, /does not exist/);
  assert.deepEqual(snapshot(fx.backup), before);
  assert.deepEqual(listDir(fx.logs), logs);
});

Deno.test("deleting an excluded folder is archived without tripping the guard; the followed files still are guarded", async () => {
  using fx = makeFixture({ ...tree(5, "src/"), ...tree(30, "node_modules/") });
  assert.equal((await run(fx, "run")).code, 0);
  const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
  writeConfig(fx.config, { ...cfg, exclude: ["node_modules/"] });
  assert.equal((await run(fx, "run")).code, 0); // the 30 are now excluded, copies kept
  Deno.removeSync(join(fx.source, "node_modules"), { recursive: true });
  const r = await run(fx, "run", "--json");
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.equal(countsOf(r).delete, 30);
  assert.equal(listDir(join(fx.backup, "_deleted", "node_modules")).length, 30);
  // The 5 followed files going at once is still a mass deletion: held back.
  Deno.removeSync(join(fx.source, "src"), { recursive: true });
  assertHeld(fx, await run(fx, "run"), 5, "followed files emptied", ["node_modules"]);
});

Deno.test("an exclude added in the run that finds the source emptied does not dilute the guard", async () => {
  using fx = makeFixture({ ...tree(3, "work/"), ...tree(20, "node_modules/") });
  assert.equal((await run(fx, "run")).code, 0);
  const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
  writeConfig(fx.config, { ...cfg, exclude: ["node_modules/"] });
  for (const dir of ["work", "node_modules"]) {
    Deno.removeSync(join(fx.source, dir), { recursive: true }); // an unmounted disk
  }
  // The 3 followed files are all gone: held back; the 20 newly excluded ones do not count,
  // and are held back with them (they were archived, under "nothing was archived").
  assertHeld(fx, await run(fx, "run"), 23, "emptied with a new exclude");
});

Deno.test("a source emptied (a disk unmounted) holds back its excluded files' deletions too", async () => {
  using fx = makeFixture({ ...tree(4, "docs/"), ...tree(4, "big/") });
  assert.equal((await run(fx, "run")).code, 0);
  const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
  writeConfig(fx.config, { ...cfg, exclude: ["big/"] });
  assert.equal((await run(fx, "run")).code, 0); // the 4 are now excluded, copies kept
  for (const e of Deno.readDirSync(fx.source)) {
    Deno.removeSync(join(fx.source, e.name), { recursive: true });
  }
  const held = await run(fx, "run");
  assertHeld(fx, held, 8, "emptied, with excluded files");
  assert.match(
    held.stderr,
    /nothing was archived \(nor were 4 excluded file\(s\) deleted with them\)/,
  );
  // Back (mounted again): nothing to do, and the excluded files' copies never left.
  writeTree(fx.source, { ...tree(4, "docs/"), ...tree(4, "big/") });
  const back = await run(fx, "run", "--json");
  assert.equal(back.code, 0, back.stderr);
  assert.equal(countsOf(back).delete, 0);
});

Deno.test("thousands of deletions: judged together, applied a batch at a time, emptied folders removed", async () => {
  // 2,050 of 2,501 tracked files go, more than the two batches of 1,024 actions a pass
  // applies them in (vanished.ts): 20 folders whole, half of another.
  const files: Record<string, string> = { "keep.txt": "kept\n" };
  for (let d = 0; d < 25; d++) Object.assign(files, tree(100, `d${d}/`));
  using fx = makeFixture(files);
  assert.equal((await run(fx, "run")).code, 0);
  const captured = [...snapshot(fx.source).values()].map((s) => s.hash);
  for (let d = 0; d < 20; d++) Deno.removeSync(join(fx.source, `d${d}`), { recursive: true });
  for (let i = 0; i < 50; i++) Deno.removeSync(join(fx.source, "d20", `f${i}.txt`));
  assertHeld(fx, await run(fx, "run"), 2501, "2,050 of 2,501 held back");
  assert.match(fx.lastLog().join("\n"), /DELETE GUARD: 2050 of 2501 tracked files/);

  const forced = await run(fx, "run", "--force", "--json");
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(countsOf(forced).delete, 2050);
  assertConverged(fx, captured, "after --force");
  const deleted = join(fx.backup, "_deleted");
  assert.deepEqual(listDir(deleted), [...Array.from({ length: 21 }, (_, d) => `d${d}`)].sort());
  for (let d = 0; d < 20; d++) {
    assert.equal(listDir(join(deleted, `d${d}`)).length, 100, `_deleted/d${d}`);
    assert.equal(Deno.readTextFileSync(join(deleted, `d${d}`, "f99.txt")), `content d${d}/99\n`);
  }
  assert.equal(listDir(join(deleted, "d20")).length, 50);
  // The mirror keeps no emptied folder, and every folder that still holds files.
  assert.deepEqual(
    listDir(fx.backup).filter((n) => /^d\d+$/.test(n)),
    ["d20", "d21", "d22", "d23", "d24"],
  );
  assert.equal(listDir(join(fx.backup, "d20")).length, 50);
  const log = fx.lastLog();
  assert.equal(log.filter((l) => l.startsWith("ARCHIVE DELETE: ")).length, 2050);
  const verify = await run(fx, "verify");
  assert.equal(verify.code, 0, `${verify.stdout}\n${verify.stderr}`);
});

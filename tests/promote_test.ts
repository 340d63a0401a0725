/**
 * End-to-end tests of promotions through the real CLI: a duplicate whose original no
 * longer holds its content (deleted, or modified) moves from `_duplicates/` to its own
 * path in the run that releases the content, and so does one an earlier run left so (a
 * folder renamed past the mass-deletion guard, then `--force`). A plain rename needs none.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, listFiles, makeFixture, readTree } from "./helpers.ts";
import { runTool } from "./reliability/util.ts";

async function run(fx: Fixture, ...args: string[]): Promise<Record<string, number>> {
  const r = await fx.cli("run", "--json", ...args);
  assert.equal(r.code, 0, `run ${args.join(" ")}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout).counts;
}

/** Stored files of the backup root, outside `.backup-tool/`. */
const stored = (fx: Fixture) => listFiles(fx.backup).filter((p) => !p.startsWith(".backup-tool/"));

async function assertNoOp(fx: Fixture, context: string): Promise<void> {
  const c = await run(fx);
  for (const k of ["backup", "modified", "duplicate", "delete", "prune", "promote", "failed"]) {
    assert.equal(c[k], 0, `${context}: the next run was not a no-op (${k})`);
  }
}

async function assertVerifies(fx: Fixture): Promise<void> {
  const v = await fx.cli("verify");
  assert.equal(v.code, 0, `verify: ${v.stdout}\n${v.stderr}`);
}

Deno.test("promotion: a folder renamed past the delete guard, then --force: its files move to their own paths", async () => {
  using fx = makeFixture({
    "Photos/p1.jpg": "photo 1\n",
    "Photos/p2.jpg": "photo 2\n",
    "Photos/p3.jpg": "photo 3\n",
    "Photos/p4.jpg": "photo 4\n",
    "notes.txt": "notes\n",
  });
  await run(fx);
  Deno.renameSync(join(fx.source, "Photos"), join(fx.source, "Pictures"));
  const held = await fx.cli("run");
  assert.equal(held.code, 1, "the guard holds the 4 deletions back");
  assert.ok(stored(fx).includes("_duplicates/Pictures/p1.jpg"), "stored as duplicates meanwhile");
  const beforeForce = readTree(fx.backup);
  await new Promise((r) => setTimeout(r, 20));
  const moment = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 20));

  const c = await run(fx, "--force");
  assert.equal(c.delete, 4);
  assert.equal(c.promote, 4);
  assert.deepEqual(stored(fx), [
    "Pictures/p1.jpg",
    "Pictures/p2.jpg",
    "Pictures/p3.jpg",
    "Pictures/p4.jpg",
    "_deleted/Photos/p1.jpg",
    "_deleted/Photos/p2.jpg",
    "_deleted/Photos/p3.jpg",
    "_deleted/Photos/p4.jpg",
    "notes.txt",
  ]);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "Pictures", "p1.jpg")), "photo 1\n");
  assert.ok(
    fx.lastLog().includes(
      "PROMOTED: backup/_duplicates/Pictures/p1.jpg → backup/Pictures/p1.jpg " +
        "(its original no longer holds this content)",
    ),
    fx.lastLog().join("\n"),
  );
  await assertVerifies(fx);

  // As of a moment before the promotion: the tree of then, byte for byte.
  const out = join(fx.dir, "then");
  const r = await fx.cli("restore", "--at", moment, "--to", out);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readTree(out), {
    "Photos/p1.jpg": "photo 1\n",
    "Photos/p2.jpg": "photo 2\n",
    "Photos/p3.jpg": "photo 3\n",
    "Photos/p4.jpg": "photo 4\n",
    "Pictures/p1.jpg": "photo 1\n",
    "Pictures/p2.jpg": "photo 2\n",
    "Pictures/p3.jpg": "photo 3\n",
    "Pictures/p4.jpg": "photo 4\n",
    "notes.txt": "notes\n",
  });
  assert.notDeepEqual(readTree(fx.backup), beforeForce);

  // One content, current, whose copy is the latest at its own path.
  const h = await fx.cli("history", "Pictures/p1.jpg", "--json");
  assert.equal(h.code, 0, h.stderr);
  const versions = JSON.parse(h.stdout).versions;
  assert.equal(versions.length, 1);
  assert.equal(versions[0].location, "latest");
  assert.equal(versions[0].storedAt, "Pictures/p1.jpg");
  assert.equal(versions[0].replaced, null);
  await assertNoOp(fx, "after the promotion");
});

Deno.test("promotion: an original modified: its duplicate moves to its own path in the same run", async () => {
  using fx = makeFixture({ "a.txt": "shared\n", "b.txt": "shared\n" });
  await run(fx);
  assert.ok(stored(fx).includes("_duplicates/b.txt"));
  Deno.writeTextFileSync(join(fx.source, "a.txt"), "a changed\n");
  const c = await run(fx);
  assert.equal(c.modified, 1);
  assert.equal(c.promote, 1);
  assert.deepEqual(stored(fx), ["a.txt", "b.txt", "versions/a.txt/v1.bak"]);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "b.txt")), "shared\n");
  await assertVerifies(fx);
  await assertNoOp(fx, "after the promotion");
});

Deno.test("promotion: an original deleted with two duplicates: the first in path order is promoted", async () => {
  using fx = makeFixture({
    "a.txt": "shared\n",
    "b.txt": "shared\n",
    "c.txt": "shared\n",
    "other1.txt": "1\n",
    "other2.txt": "2\n",
    "other3.txt": "3\n",
  });
  await run(fx);
  Deno.removeSync(join(fx.source, "a.txt"));
  const c = await run(fx);
  assert.equal(c.delete, 1);
  assert.equal(c.promote, 1);
  assert.deepEqual(stored(fx), [
    "_deleted/a.txt",
    "_duplicates/c.txt",
    "b.txt",
    "other1.txt",
    "other2.txt",
    "other3.txt",
  ]);
  const h = JSON.parse((await fx.cli("history", "c.txt", "--json")).stdout).versions;
  assert.equal(h[0].location, "duplicate", "c.txt stays a duplicate (now of b.txt)");
  await assertVerifies(fx);
  await assertNoOp(fx, "after the promotion");
  // A later file with that content is a duplicate of the promoted one.
  Deno.writeTextFileSync(join(fx.source, "d.txt"), "shared\n");
  await run(fx);
  assert.ok(
    fx.lastLog().includes(
      "DUPLICATE: source/d.txt → backup/_duplicates/d.txt",
    ),
    fx.lastLog().join("\n"),
  );
});

Deno.test("promotion: a plain rename needs none; a renamed original's duplicate takes its place", async () => {
  using fx = makeFixture({
    "old.txt": "renamed\n",
    "a.txt": "shared\n",
    "b.txt": "shared\n",
    "k1.txt": "1\n",
    "k2.txt": "2\n",
    "k3.txt": "3\n",
    "k4.txt": "4\n",
  });
  await run(fx);
  Deno.renameSync(join(fx.source, "old.txt"), join(fx.source, "new.txt"));
  const c = await run(fx);
  assert.deepEqual([c.delete, c.backup, c.duplicate, c.promote], [1, 1, 0, 0]);
  assert.ok(!fx.lastLog().some((l) => l.startsWith("PROMOTED")), fx.lastLog().join("\n"));
  assert.ok(stored(fx).includes("new.txt") && stored(fx).includes("_deleted/old.txt"));

  // The original renamed to a name after its duplicate's: the duplicate, first in path
  // order now, is the original, at its own path; the renamed file its duplicate.
  Deno.renameSync(join(fx.source, "a.txt"), join(fx.source, "c.txt"));
  const r = await run(fx);
  assert.deepEqual([r.delete, r.duplicate, r.promote], [1, 1, 1]);
  assert.deepEqual(stored(fx).filter((p) => /(^|\/)[abc]\.txt$/.test(p)), [
    "_deleted/a.txt",
    "_duplicates/c.txt",
    "b.txt",
  ]);
  await assertVerifies(fx);
  await assertNoOp(fx, "after the renames");
});

Deno.test("promotion: never of an excluded file's duplicate; the first in code point order", async () => {
  // B.tmp, a duplicate of A, becomes excluded as A is deleted: C is promoted, not B.tmp.
  using fx = makeFixture({
    "A": "shared\n",
    "B.tmp": "shared\n",
    "C": "shared\n",
    "O": "o\n",
    "O2": "o2\n",
    "O3": "o3\n",
    "Z": "emoji\n",
    "！": "emoji\n", // U+FF01: before U+1F600 by code point, after it in UTF-16
    "😀": "emoji\n",
  });
  await run(fx);
  const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
  Deno.writeTextFileSync(fx.config, JSON.stringify({ ...cfg, exclude: ["*.tmp"] }));
  Deno.removeSync(join(fx.source, "A"));
  Deno.removeSync(join(fx.source, "Z"));
  const c = await run(fx);
  assert.equal(c.promote, 2);
  const log = fx.lastLog();
  assert.ok(
    log.includes(
      "PROMOTED: backup/_duplicates/C → backup/C (its original no longer holds this content)",
    ),
    log.join("\n"),
  );
  assert.ok(
    log.includes(
      "PROMOTED: backup/_duplicates/！ → backup/！ (its original no longer holds this content)",
    ),
    log.join("\n"),
  );
  assert.ok(stored(fx).includes("_duplicates/B.tmp"));
  assert.ok(stored(fx).includes("_duplicates/😀"));
  await assertNoOp(fx, "after the promotions");
});

Deno.test("promotion: a content with many duplicates whose original is renamed: one promotion, then none", async () => {
  // The shape that once made every later full run's sweep for orphaned contents quadratic
  // in the number of copies (12,000 copies: 13 s a run; timed by hand, not here).
  const tree = Object.fromEntries(
    Array.from({ length: 60 }, (_, i) => [`b/f${String(i).padStart(2, "0")}`, "same\n"]),
  );
  using fx = makeFixture(tree);
  await run(fx);
  Deno.renameSync(join(fx.source, "b/f00"), join(fx.source, "a_first"));
  const c = await run(fx);
  // The renamed file, stored as a duplicate, is first in path order: it is the original
  // now, a new copy recorded after all of its duplicates.
  assert.deepEqual([c.delete, c.duplicate, c.promote], [1, 1, 1]);
  assert.equal(readTree(fx.backup)["a_first"], "same\n");
  assert.equal(stored(fx).filter((p) => p.startsWith("_duplicates/")).length, 59);
  await assertNoOp(fx, "after the rename");
  await assertVerifies(fx);
});

Deno.test("promotion: a run killed before its promotions leaves the layout an uninterrupted one gives", async () => {
  // `a` is the original of `d`; `a` is deleted, and the run dies once that is committed,
  // before promoting `d`. A new `c` of the same bytes then sorts before `d`: it was
  // promoted in `d`'s place, where an uninterrupted run had made `d` the original.
  const layouts = [];
  for (const fault of [undefined, "committed:1"]) {
    using fx = makeFixture({ "a": "same\n", "d": "same\n", "other": "other\n" });
    await run(fx);
    Deno.removeSync(join(fx.source, "a"));
    const env: Record<string, string> = fault ? { BACKUP_TOOL_FAULT: fault } : {};
    const cut = await runTool(["run", "--config", fx.config], { env });
    assert.equal(cut.code, fault ? 137 : 0, cut.stderr);
    Deno.writeTextFileSync(join(fx.source, "c"), "same\n");
    const plan = JSON.parse((await fx.cli("plan", "--json")).stdout);
    const c = await run(fx);
    assert.deepEqual(plan.counts, c, "the plan predicts the run");
    layouts.push(stored(fx));
    await assertNoOp(fx, fault ?? "uninterrupted");
  }
  assert.deepEqual(layouts[0], ["_deleted/a", "_duplicates/c", "d", "other"]);
  assert.deepEqual(layouts[1], layouts[0]);
});

Deno.test("promotion: plan after a killed run predicts the change of a duplicate it promotes first", async () => {
  using fx = makeFixture({ "a": "same\n", "d": "same\n" });
  await run(fx);
  Deno.removeSync(join(fx.source, "a"));
  const cut = await runTool(["run", "--config", fx.config], {
    env: { BACKUP_TOOL_FAULT: "committed:1" },
  });
  assert.equal(cut.code, 137, cut.stderr);
  Deno.writeTextFileSync(join(fx.source, "d"), "changed\n");
  // The plan commits nothing: it must archive `d` from where it promoted it, as the run does.
  const plan = (await fx.cli("plan", "--all")).stdout.split("\n");
  await run(fx);
  const steps = (lines: string[]) => lines.filter((l) => /^(PROMOTED|ARCHIVE|UPDATED):/.test(l));
  assert.deepEqual(steps(plan), [
    "PROMOTED: backup/_duplicates/d → backup/d (its original no longer holds this content)",
    "ARCHIVE: backup/d → versions/d/v1.bak",
    "UPDATED: source/d → backup/d",
  ]);
  assert.deepEqual(steps(fx.lastLog()), steps(plan));
});

Deno.test("promotion: a leftover duplicate whose copy is missing is copied again, then promoted, in one run, with no failure", async () => {
  using fx = makeFixture({ "a": "same\n", "d": "same\n", "x1": "1\n", "x2": "2\n", "x3": "3\n" });
  // Past the window in which a fingerprint is not trusted (a change in the same moment as
  // the run): d's is trusted from the first run on, so no run reads d unless told to. (A
  // precondition, not a wait for an outcome: a test run slow enough crossed it by chance,
  // and the promotion then failed on the missing copy, now and then in CI.)
  await new Promise((r) => setTimeout(r, 2100));
  await run(fx);
  Deno.removeSync(join(fx.source, "a"));
  const cut = await runTool(["run", "--config", fx.config], {
    env: { BACKUP_TOOL_FAULT: "committed:1" },
  });
  assert.equal(cut.code, 137, cut.stderr);
  // Lost from the backup since (by hand, or a disk fault): the run reads d (its fingerprint
  // alone would have it skipped), copies it again from the unchanged source, as it does
  // every missing copy, and only then promotes it.
  Deno.removeSync(join(fx.backup, "_duplicates/d"));
  const plan = JSON.parse((await fx.cli("plan", "--json")).stdout);
  const r = await fx.cli("run", "--json");
  // Exit 1 for the missing copy it names (a warning), as for any; no failure.
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /WARNING: source\/d: Its copy '_duplicates\/d' was missing/);
  const c = JSON.parse(r.stdout).counts;
  assert.equal(c.promote, 1);
  assert.equal(c.failed, 0, r.stderr);
  assert.deepEqual(plan.counts, c, "the plan predicts the run");
  assert.ok(!fx.lastLog().some((l) => l.startsWith("ERROR")), fx.lastLog().join("\n"));
  assert.deepEqual(stored(fx), ["_deleted/a", "d", "x1", "x2", "x3"]);
  await assertNoOp(fx, "after the promotion");
  await assertVerifies(fx);
});

/**
 * What `restore` and `ls` say of a deleted file or folder whose `_deleted/` copy
 * `retention.keep_deleted_days` has pruned: that its last content went, and when, with a
 * remedy that works (an earlier version still stored) or that no copy is left; never the
 * `--at` or `--version` that would restore the pruned content. The runs are made in the
 * past (Date.now moved back, in process, each file's mtime with it); restore and ls go
 * through the CLI.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture } from "./helpers.ts";
import { JanuaryRuns } from "./january_runs.ts";

Deno.test("retention keep_deleted_days: a file whose last copy went says so in restore and ls, with no remedy that would fail", async () => {
  using fx = makeFixture({
    "gone.txt": "gone\n",
    "two.txt": "one\n",
    "kept.txt": "kept\n",
    "dir/x.txt": "x\n",
  }, {
    retention: { keep_deleted_days: 30 },
    safety: { max_delete_percent: 100 },
  });
  {
    using runs = new JanuaryRuns(fx);
    for (const name of ["gone.txt", "two.txt", "kept.txt", "dir/x.txt"]) runs.write(name, 1);
    await runs.runAt(1);
    runs.write("two.txt", 2, "two\n"); // version 1 to versions/, which keep_deleted_days keeps
    await runs.runAt(2);
    Deno.removeSync(join(fx.source, "gone.txt"));
    Deno.removeSync(join(fx.source, "two.txt"));
    Deno.removeSync(join(fx.source, "dir"), { recursive: true });
    await runs.runAt(3);
    await runs.runAt(20); // a run every few weeks: the clock guard (deleted_guard.ts) asks none
    await runs.runAt(40); // both _deleted/ copies pruned
  }
  const gone = await fx.cli("restore", "gone.txt", "--to", join(fx.dir, "out"));
  assert.equal(gone.code, 1);
  assert.match(
    gone.stderr,
    /'source\/gone\.txt' is not in the backup any more: it was deleted at \S+Z, and its last content \(version 1\) was pruned by retention at \S+Z: no copy of it is left\n/,
  );
  const listed = await fx.cli("ls", "gone.txt", "--at", "2026-01-20");
  assert.equal(listed.code, 1);
  assert.match(listed.stderr, /was pruned by retention at \S+Z: no copy of it is left\n/);
  const two = await fx.cli("restore", "two.txt", "--to", join(fx.dir, "out"));
  assert.match(
    two.stderr,
    /it was deleted at \S+Z, and its last content \(version 2\) was pruned by retention at \S+Z: restore an earlier one with --version 1 \(see 'history source\/two\.txt --config \S+'\)\n/,
  );
  const dir = await fx.cli("ls", "dir");
  assert.equal(dir.code, 1);
  assert.match(
    dir.stderr,
    /'source\/dir' is not in the backup any more: the last of its files was deleted at \S+Z, and their copies were pruned by retention \(the last at \S+Z\): no copy of them is left\n/,
  );
  // The remedy given works.
  const v1 = await fx.cli("restore", "two.txt", "--version", "1", "--to", join(fx.dir, "out"));
  assert.equal(v1.code, 0, v1.stdout + v1.stderr);
  assert.equal(Deno.readTextFileSync(join(fx.dir, "out", "two.txt")), "one\n");
});

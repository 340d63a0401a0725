/**
 * `verify --forget-missing`: old versions and deleted files whose copies were removed by
 * hand (to free space) are recorded as lost, so that verify passes again; current copies
 * are never forgotten; more than `safety.max_delete_percent` of the copies is refused
 * (a wrong disk) unless `--force`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, writeTree } from "./helpers.ts";

Deno.test("verify --forget-missing records removed old copies as lost, never a current one", async () => {
  using fx = makeFixture({
    "a.txt": "a1\n",
    "b.txt": "b\n",
    "c.txt": "c1\n",
    "d.txt": "d\n",
    "e.txt": "e1\n",
  });
  assert.equal((await fx.cli("run")).code, 0);
  const whileB = new Date().toISOString();
  // Two old copies kept, so that the two removed are half of them: within the limit.
  writeTree(fx.source, { "a.txt": "a2\n", "e.txt": "e2\n" });
  assert.equal((await fx.cli("run")).code, 0);
  writeTree(fx.source, { "e.txt": "e3\n" });
  Deno.removeSync(join(fx.source, "b.txt"));
  assert.equal((await fx.cli("run")).code, 0);
  // Removed by hand: an old version, a deleted file's copy, and a current copy whose source
  // changed since (nothing holds its content any more).
  Deno.removeSync(join(fx.backup, "versions/a.txt/v1.bak"));
  Deno.removeSync(join(fx.backup, "_deleted/b.txt"));
  Deno.removeSync(join(fx.backup, "c.txt"));
  writeTree(fx.source, { "c.txt": "c2\n" });

  const forgot = await fx.cli("verify", "--forget-missing", "--json");
  assert.equal(forgot.code, 1, forgot.stdout + forgot.stderr);
  const report = JSON.parse(forgot.stdout);
  assert.deepEqual(
    report.forgotten.map((o: { file: string }) => o.file).sort(),
    ["_deleted/b.txt", "versions/a.txt/v1.bak"],
  );
  assert.deepEqual(report.notRepaired.map((o: { file: string }) => o.file), ["c.txt"]);
  // forgetRefused is there only when the limit held the copies back (verify --help).
  assert.equal("forgetRefused" in report, false);
  const log = fx.lastLog();
  assert.ok(
    log.some((l) => l.startsWith("FORGOTTEN: _deleted/b.txt (source/b.txt v1)")),
    log.join("\n"),
  );
  assert.ok(log.some((l) => l.startsWith("FORGOTTEN: versions/a.txt/v1.bak (source/a.txt v1)")));
  // Each copy named once: forgotten, or not repaired.
  assert.deepEqual(
    log.filter((l) => l.startsWith("NOT REPAIRED: ")).map((l) => l.split(" ")[2]),
    ["c.txt"],
  );
  assert.ok(
    log.includes("Verify complete: 0 repaired, 1 not repaired, 2 forgotten, 0 unknown file(s)"),
  );

  // verify names only the current copy now; history and restore say the others are lost.
  const verify = await fx.cli("verify");
  assert.equal(verify.code, 1);
  assert.deepEqual(verify.stderr.trim().split("\n"), ["MISSING: c.txt (source/c.txt v1)"]);
  const history = await fx.cli("history", "source/b.txt");
  assert.match(history.stdout, /lost: found missing from the backup root at /);
  const restore = await fx.cli(
    "restore",
    "source/b.txt",
    "--at",
    whileB,
    "--to",
    join(fx.dir, "r"),
  );
  assert.equal(restore.code, 1);
  assert.match(restore.stderr, /its copy is lost/);

  // The run archives the changed file, finds its copy missing, and records it lost itself
  // (with a warning: exit 1).
  const run = await fx.cli("run");
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stderr, /the copy 'c.txt' was missing from the backup root .*recorded as lost/);
  const intact = await fx.cli("verify");
  assert.equal(intact.code, 0, intact.stdout + intact.stderr);
});

Deno.test("verify --forget-missing: more than max_delete_percent is refused, changing nothing, until --force", async () => {
  using fx = makeFixture({ "a.txt": "a1\n", "b.txt": "b1\n", "c.txt": "c\n", "d.txt": "d\n" });
  assert.equal((await fx.cli("run")).code, 0);
  writeTree(fx.source, { "a.txt": "a2\n", "b.txt": "b2\n" });
  Deno.removeSync(join(fx.source, "c.txt"));
  assert.equal((await fx.cli("run")).code, 0);
  // 2 of the 3 old copies: more than the default limit of 50%, though only 2 of all 6.
  Deno.removeSync(join(fx.backup, "versions"), { recursive: true });

  const usage = await fx.cli("verify", "--force");
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /'--force' of 'verify' applies to --forget-missing only/);

  const refused = await fx.cli("verify", "--forget-missing");
  assert.equal(refused.code, 1, refused.stdout + refused.stderr);
  assert.match(
    refused.stderr,
    /Cannot forget the missing copies: 2 of the 3 stored old copies \(versions and deleted files\) would be forgotten, more than safety.max_delete_percent \(50%\).*--force/,
  );
  assert.match(refused.stdout, /0 forgotten/);
  const refusedJson = JSON.parse((await fx.cli("verify", "--forget-missing", "--json")).stdout);
  assert.deepEqual(refusedJson.forgotten, []);
  assert.match(refusedJson.forgetRefused, /^Cannot forget the missing copies: 2 of the 3 /);
  assert.equal((await fx.cli("verify")).code, 1, "something was forgotten");

  const forced = await fx.cli("verify", "--forget-missing", "--force");
  assert.equal(forced.code, 0, forced.stdout + forced.stderr);
  assert.match(
    forced.stdout,
    /Repair: 0 repaired, 0 not repaired, 2 forgotten, 0 unknown file\(s\): intact/,
  );
  assert.equal((await fx.cli("verify")).code, 0);
});

Deno.test("verify --forget-missing forgets no copy a symlink put by hand may lead to: versions/ moved to another disk and linked back, that disk not mounted", async () => {
  using fx = makeFixture({ "a.txt": "a1\n", "b.txt": "b1\n", "c.txt": "c\n" });
  assert.equal((await fx.cli("run")).code, 0);
  writeTree(fx.source, { "a.txt": "a2\n", "b.txt": "b2\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const moved = join(fx.dir, "other-disk-versions");
  const unmounted = join(fx.dir, "other-disk-unmounted");
  Deno.renameSync(join(fx.backup, "versions"), moved);
  Deno.symlinkSync(moved, join(fx.backup, "versions"));
  Deno.renameSync(moved, unmounted); // the link leads nowhere: its disk is not mounted

  const r = await fx.cli("verify", "--forget-missing", "--force", "--json");
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout);
  assert.deepEqual(report.forgotten, []);
  assert.deepEqual(
    report.notRepaired.map((o: { file: string; error: string }) => [o.file, o.error]),
    ["a.txt", "b.txt"].map((f) => [
      `versions/${f}/v1.bak`,
      "no file the repair may read holds this content, but 'versions' is a symlink put in " +
      "the backup root by hand, which it never follows, and the copy may be behind it: put " +
      "what it leads to back in its place (or remove it), then repair again",
    ]),
  );

  // The disk back: verify checks the copies through the link, as restore reads them.
  Deno.renameSync(unmounted, moved);
  const through = await fx.cli("verify");
  assert.equal(through.code, 0, through.stdout + through.stderr);
  assert.match(through.stderr, /^WARNING: 'versions' is a symlink put in the backup root by hand/);
  // Put back: every copy there is found again, and restored.
  Deno.removeSync(join(fx.backup, "versions"));
  Deno.renameSync(moved, join(fx.backup, "versions"));
  const back = await fx.cli("verify");
  assert.equal(back.code, 0, back.stdout + back.stderr);
  assert.equal(back.stderr, "");
  const to = join(fx.dir, "restored");
  const restore = await fx.cli("restore", "a.txt", "--version", "1", "--to", to);
  assert.equal(restore.code, 0, restore.stdout + restore.stderr);
  assert.equal(Deno.readTextFileSync(join(to, "a.txt")), "a1\n");
});

Deno.test("verify --forget-missing forgets no copy replaced by hand by a symlink", async () => {
  using fx = makeFixture({ "a.txt": "a1\n", "b.txt": "b\n" });
  assert.equal((await fx.cli("run")).code, 0);
  writeTree(fx.source, { "a.txt": "a2\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const elsewhere = join(fx.dir, "a-v1-elsewhere");
  Deno.renameSync(join(fx.backup, "versions/a.txt/v1.bak"), elsewhere);
  Deno.symlinkSync(elsewhere, join(fx.backup, "versions/a.txt/v1.bak"));

  const r = await fx.cli("verify", "--forget-missing", "--force");
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout + r.stderr, /FORGOTTEN/);
  assert.match(
    r.stderr,
    /NOT REPAIRED: versions\/a.txt\/v1.bak \(source\/a.txt v1\): .* 'versions\/a.txt\/v1.bak' is a symlink/,
  );
  const history = await fx.cli("history", "a.txt");
  assert.doesNotMatch(history.stdout, /lost/);
});

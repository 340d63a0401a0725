/**
 * `verify --repair` end to end: missing and changed copies are made again from a source
 * file that holds the same content now (the path's own, or another), symlinks from their
 * recorded target, empty files from nothing, each with its recorded mode and time; a
 * changed copy is moved to .backup-tool/damaged/, never deleted; a copy no source file
 * holds is named and left; the lock is respected.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, writeTree } from "./helpers.ts";
import { runTool } from "./reliability/util.ts";

Deno.test("verify --repair makes missing and changed copies again from the sources", async () => {
  using fx = makeFixture({ "a/x.txt": "one\n", "a/y.txt": "two\n", "empty": "" });
  Deno.symlinkSync("a/x.txt", join(fx.source, "link"));
  Deno.chmodSync(join(fx.source, "a/y.txt"), 0o640);
  assert.equal((await fx.cli("run")).code, 0);
  writeTree(fx.source, { "a/x.txt": "three\n" }); // v1 of a/x.txt goes to versions/
  assert.equal((await fx.cli("run")).code, 0);
  writeTree(fx.source, { "old-copy.txt": "one\n" }); // a file holding v1's content now
  assert.equal((await fx.cli("run")).code, 0);
  const yInfo = Deno.statSync(join(fx.backup, "a/y.txt"));

  for (const p of ["a/x.txt", "link", "empty", "versions/a/x.txt/v1.bak"]) {
    Deno.removeSync(join(fx.backup, p));
  }
  Deno.writeTextFileSync(join(fx.backup, "a/y.txt"), "rot\n");

  const r = await fx.cli("verify", "--repair");
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /REPAIRED: a\/x.txt \(source\/a\/x.txt v2\) from source\/a\/x.txt/);
  assert.match(
    r.stdout,
    /REPAIRED: versions\/a\/x.txt\/v1.bak \(source\/a\/x.txt v1\) from source\/old-copy.txt/,
  );
  assert.match(r.stdout, /REPAIRED: link .* from recorded symlink target/);
  assert.match(r.stdout, /REPAIRED: empty .* from empty file/);
  assert.match(r.stdout, /the damaged copy is kept at .backup-tool\/damaged\/a\/y.txt/);
  assert.match(r.stdout, /Repair: 5 repaired, 0 not repaired, 0 unknown file\(s\): intact/);

  assert.equal(Deno.readTextFileSync(join(fx.backup, "a/x.txt")), "three\n");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "versions/a/x.txt/v1.bak")), "one\n");
  assert.equal(Deno.readLinkSync(join(fx.backup, "link")), "a/x.txt");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "empty")), "");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a/y.txt")), "two\n");
  const repairedY = Deno.statSync(join(fx.backup, "a/y.txt"));
  assert.equal(repairedY.mode! & 0o777, 0o640);
  assert.equal(repairedY.mtime?.getTime(), yInfo.mtime?.getTime());
  assert.equal(
    Deno.readTextFileSync(join(fx.backup, ".backup-tool/damaged/a/y.txt")),
    "rot\n",
  );
  assert.ok(fx.lastLog().some((l) => l.startsWith("REPAIRED: a/y.txt")), fx.lastLog().join("\n"));
  assert.ok(
    fx.lastLog().includes("Verify complete: 5 repaired, 0 not repaired, 0 unknown file(s)"),
  );

  const verify = await fx.cli("verify");
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  const again = await fx.cli("run");
  assert.match(again.stdout, /0 new, 0 updated, 0 duplicate, 5 unchanged, 0 deleted/);
});

Deno.test("verify --repair names what no source file holds and leaves it", async () => {
  using fx = makeFixture({ "a.txt": "first\n", "b.txt": "bee\n" });
  assert.equal((await fx.cli("run")).code, 0);
  writeTree(fx.source, { "a.txt": "second\n" });
  assert.equal((await fx.cli("run")).code, 0);
  Deno.removeSync(join(fx.backup, "versions/a.txt/v1.bak")); // "first" is nowhere now
  Deno.removeSync(join(fx.backup, "b.txt"));
  writeTree(fx.source, { "b.txt": "changed since\n" }); // the source moved on

  const r = await fx.cli("verify", "--repair", "--json");
  assert.equal(r.code, 1, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.ok, false);
  assert.deepEqual(doc.repaired, []);
  assert.deepEqual(
    doc.notRepaired.map((
      o: { file: string; error: string },
    ) => [o.file, /no file in the sources/.test(o.error)]),
    [["b.txt", true], ["versions/a.txt/v1.bak", true]],
  );
  assert.deepEqual([...Deno.readDirSync(join(fx.backup, ".backup-tool/tmp"))], []);
  const run = await fx.cli("run"); // the changed source is backed up as usual
  assert.equal(run.code, 1, "the old copy of b.txt is missing: recorded as lost");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "b.txt")), "changed since\n");
});

Deno.test("verify --repair --quiet says the problems found and its summary, no REPAIRED or FORGOTTEN lines", async () => {
  using fx = makeFixture({ "a.txt": "first\n", "b.txt": "bee\n", "c.txt": "sea\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const intact = await fx.cli("verify", "--repair", "--quiet");
  assert.equal(intact.code, 0, intact.stderr);
  assert.equal(intact.stdout + intact.stderr, "");
  writeTree(fx.source, { "a.txt": "second\n" });
  assert.equal((await fx.cli("run")).code, 0);
  Deno.removeSync(join(fx.backup, "b.txt"));
  Deno.writeTextFileSync(join(fx.backup, "c.txt"), "rot\n");
  const r = await fx.cli("verify", "--repair", "-q");
  assert.equal(r.code, 0, r.stdout + r.stderr);
  // Before: a REPAIRED line for each copy made again, on stdout.
  assert.doesNotMatch(r.stdout, /REPAIRED/);
  assert.match(r.stderr, /^MISSING: b\.txt /m);
  assert.match(r.stderr, /^CHANGED: c\.txt /m);
  assert.equal(r.stdout, "Repair: 2 repaired, 0 not repaired, 0 unknown file(s): intact\n");
  assert.ok(fx.lastLog().some((l) => l.startsWith("REPAIRED: b.txt")), fx.lastLog().join("\n"));
  // A copy nothing holds: said as not repaired; forgotten, it is counted, not named.
  Deno.removeSync(join(fx.backup, "versions/a.txt/v1.bak"));
  const left = await fx.cli("verify", "--repair", "-q");
  assert.equal(left.code, 1);
  assert.match(left.stderr, /^NOT REPAIRED: versions\/a\.txt\/v1\.bak /m);
  assert.match(left.stdout, /^Repair: 0 repaired, 1 not repaired, /m);
  const forgot = await fx.cli("verify", "--forget-missing", "--force", "-q");
  assert.equal(forgot.code, 0, forgot.stdout + forgot.stderr);
  assert.doesNotMatch(forgot.stdout, /FORGOTTEN/);
  assert.match(forgot.stdout, /^Repair: 0 repaired, 0 not repaired, 1 forgotten, /m);
  assert.ok(fx.lastLog().some((l) => l.startsWith("FORGOTTEN: versions/a.txt/v1.bak")));
  const quiet = await fx.cli("verify", "--repair", "-q");
  assert.equal(quiet.stdout + quiet.stderr, "");
});

Deno.test("verify --repair takes the bytes from another stored copy when no source has them", async () => {
  using fx = makeFixture({ "a.txt": "shared\n", "b.txt": "shared\n" }); // b.txt: a duplicate
  assert.equal((await fx.cli("run")).code, 0);
  Deno.removeSync(join(fx.backup, "a.txt"));
  writeTree(fx.source, { "a.txt": "moved on\n", "b.txt": "moved on too\n" });
  const r = await fx.cli("verify", "--repair");
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(
    r.stdout,
    /REPAIRED: a.txt \(source\/a.txt v1\) from stored copy '_duplicates\/b.txt'/,
  );
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "shared\n");
});

Deno.test("verify --repair takes the bytes from a file renamed by hand in the backup root, and leaves that file", async () => {
  using fx = makeFixture({ "a.txt": "first\n" });
  assert.equal((await fx.cli("run")).code, 0);
  writeTree(fx.source, { "a.txt": "second\n" }); // "first" goes to versions/ only
  assert.equal((await fx.cli("run")).code, 0);
  Deno.renameSync(
    join(fx.backup, "versions/a.txt/v1.bak"),
    join(fx.backup, "versions/a.txt/v1-kept.bak"),
  );
  writeTree(fx.backup, { "stray.txt": "other\n" }); // the same size, another content

  const r = await fx.cli("verify", "--repair");
  assert.equal(r.code, 1, "the unknown files stay, and are named");
  assert.match(
    r.stdout,
    /REPAIRED: versions\/a.txt\/v1.bak \(source\/a.txt v1\) from unknown file 'versions\/a.txt\/v1-kept.bak'/,
  );
  assert.match(r.stdout, /Repair: 1 repaired, 0 not repaired, 2 unknown file\(s\)/);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "versions/a.txt/v1.bak")), "first\n");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "versions/a.txt/v1-kept.bak")), "first\n");
  const to = join(fx.dir, "restored");
  const restore = await fx.cli("restore", "a.txt", "--version", "1", "--to", to);
  assert.equal(restore.code, 0, restore.stdout + restore.stderr);
  assert.equal(Deno.readTextFileSync(join(to, "a.txt")), "first\n");
});

Deno.test("verify --repair takes the bytes from copies renamed by hand over one another, and --forget-missing forgets none of them", async () => {
  using fx = makeFixture({ "a.txt": "first\n" });
  for (const text of ["secnd\n", "third\n", "forth\n"]) { // one size: no unknown file helps
    assert.equal((await fx.cli("run")).code, 0);
    writeTree(fx.source, { "a.txt": text });
  }
  assert.equal((await fx.cli("run")).code, 0);
  const v = (n: number) => join(fx.backup, `versions/a.txt/v${n}.bak`);
  // v1 and v2 swapped by hand: each holds the other's content.
  Deno.renameSync(v(1), join(fx.backup, "swap"));
  Deno.renameSync(v(2), v(1));
  Deno.renameSync(join(fx.backup, "swap"), v(2));

  const r = await fx.cli("verify", "--repair");
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(
    r.stdout,
    /REPAIRED: versions\/a.txt\/v1.bak \(source\/a.txt v1\) from changed copy 'versions\/a.txt\/v2.bak'/,
  );
  assert.match(
    r.stdout,
    /REPAIRED: versions\/a.txt\/v2.bak \(source\/a.txt v2\) from changed copy '.backup-tool\/damaged\/versions\/a.txt\/v1.bak'/,
  );
  assert.equal(Deno.readTextFileSync(v(1)), "first\n");
  assert.equal(Deno.readTextFileSync(v(2)), "secnd\n");
  const damaged = join(fx.backup, ".backup-tool/damaged/versions/a.txt");
  assert.equal(Deno.readTextFileSync(join(damaged, "v1.bak")), "secnd\n"); // kept all the same
  assert.equal(Deno.readTextFileSync(join(damaged, "v2.bak")), "first\n");
  assert.equal((await fx.cli("verify")).code, 0);

  // v1 moved over v2: v1 missing, its bytes at v2's name. Never "nothing holds it".
  Deno.renameSync(v(1), v(2));
  const forget = await fx.cli("verify", "--forget-missing", "--force");
  assert.equal(forget.code, 1, "v2's own content is gone");
  assert.doesNotMatch(forget.stdout, /FORGOTTEN/);
  assert.match(
    forget.stdout,
    /REPAIRED: versions\/a.txt\/v1.bak \(source\/a.txt v1\) from changed copy 'versions\/a.txt\/v2.bak'/,
  );
  const to = join(fx.dir, "restored");
  const restore = await fx.cli("restore", "a.txt", "--version", "1", "--to", to);
  assert.equal(restore.code, 0, restore.stdout + restore.stderr);
  assert.equal(Deno.readTextFileSync(join(to, "a.txt")), "first\n");
});

Deno.test("a copy lost before any run saw it, its bytes stored only under another hash algorithm: restored and repaired from there", async () => {
  using fx = makeFixture({ "a.txt": "shared\n" }, { hash_algorithm: "sha256" });
  assert.equal((await fx.cli("run")).code, 0);
  writeTree(fx.source, { "a.txt": "moved on\n" }); // "shared" becomes a.txt's v1 (sha256)
  assert.equal((await fx.cli("run")).code, 0);
  const config = JSON.parse(Deno.readTextFileSync(fx.config));
  Deno.writeTextFileSync(fx.config, JSON.stringify({ ...config, hash_algorithm: "sha512" }));
  // Read before b.txt (storage path order): the same size, other bytes.
  writeTree(fx.source, { "_a.txt": "sharep\n", "b.txt": "shared\n" }); // recorded under sha512
  assert.equal((await fx.cli("run")).code, 0);
  Deno.removeSync(join(fx.backup, "versions/a.txt/v1.bak"));

  const to = join(fx.dir, "out");
  const restore = await fx.cli("restore", "a.txt", "--version", "1", "--to", to);
  assert.equal(restore.code, 0, restore.stdout + restore.stderr);
  assert.match(
    restore.stderr,
    /its copy 'versions\/a.txt\/v1.bak' is missing .* read from 'b.txt'/,
  );
  assert.equal(Deno.readTextFileSync(join(to, "a.txt")), "shared\n");

  const r = await fx.cli("verify", "--repair");
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(
    r.stdout,
    /REPAIRED: versions\/a.txt\/v1.bak \(source\/a.txt v1\) from stored copy 'b.txt'/,
  );
  assert.equal(Deno.readTextFileSync(join(fx.backup, "versions/a.txt/v1.bak")), "shared\n");
});

Deno.test("verify --repair takes the lock: exit 3 while a backup holds it", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  assert.equal((await fx.cli("run")).code, 0);
  using held = Deno.openSync(join(fx.backup, ".backup-tool", "lock"), { read: true, write: true });
  held.lockSync(true);
  const r = await fx.cli("verify", "--repair");
  assert.equal(r.code, 3, r.stdout + r.stderr);
  const plain = await fx.cli("verify");
  assert.equal(plain.code, 0, "a plain verify takes no lock");
});

Deno.test("verify --repair killed between keeping a damaged copy and replacing it loses neither", async () => {
  using fx = makeFixture({ "a.txt": "good\n" });
  assert.equal((await fx.cli("run")).code, 0);
  Deno.writeTextFileSync(join(fx.backup, "a.txt"), "rot\n");
  const killed = await runTool(["verify", "--repair", "--config", fx.config], {
    env: { BACKUP_TOOL_FAULT: "aside:1" },
  });
  assert.equal(killed.code, 137);
  // The path still holds a copy (the damaged one); the damaged one has its second name too.
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "rot\n");
  assert.equal(Deno.readTextFileSync(join(fx.backup, ".backup-tool/damaged/a.txt")), "rot\n");
  const again = await fx.cli("verify", "--repair");
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "good\n");
  // Kept once: the name the killed repair gave it is taken again, not a second one.
  const damaged = [...Deno.readDirSync(join(fx.backup, ".backup-tool/damaged"))].map((e) => e.name);
  assert.deepEqual(damaged, ["a.txt"]);
  assert.equal(Deno.readTextFileSync(join(fx.backup, ".backup-tool/damaged/a.txt")), "rot\n");
  assert.match(again.stdout, /kept at \.backup-tool\/damaged\/a\.txt$/m);
  assert.equal((await fx.cli("verify")).code, 0);
});

Deno.test("verify --repair past a folder in a copy's place names each file in it once, as verify then does", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n" });
  const cli = (...args: string[]) => runTool([...args, "--config", fx.config]);
  assert.equal((await cli("run")).code, 0);
  Deno.removeSync(join(fx.backup, "a.txt"));
  writeTree(fx.backup, { "a.txt/x": "mine\n" });
  const repair = await cli("verify", "--repair", "--json");
  assert.equal(repair.code, 1, repair.stdout + repair.stderr);
  const doc = JSON.parse(repair.stdout);
  assert.deepEqual(doc.unknown, [{ file: "a.txt/x" }]);
  assert.equal(doc.repaired[0].movedTo, "a.txt.~2");
  const verify = JSON.parse((await cli("verify", "--json")).stdout);
  assert.deepEqual([verify.unknown, verify.missing], [[{ file: "a.txt/x" }], []]);
});

Deno.test("verify --repair after a hash_algorithm change: an old version whose only holder is a copy repaired in the same session is repaired too", async () => {
  using fx = makeFixture({ "a.txt": "X\n" });
  const run = (...args: string[]) => runTool([...args, "--config", fx.config]);
  assert.equal((await run("run")).code, 0); // X recorded under sha256
  writeTree(fx.source, { "a.txt": "Y\n" });
  assert.equal((await run("run")).code, 0); // X archived as versions/a.txt/v1.bak
  const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
  Deno.writeTextFileSync(fx.config, JSON.stringify({ ...cfg, hash_algorithm: "sha512" }));
  writeTree(fx.source, { "z.txt": "X\n" });
  assert.equal((await run("run")).code, 0); // X again, at z.txt, recorded under sha512
  Deno.writeTextFileSync(join(fx.backup, "versions/a.txt/v1.bak"), "Q\n");
  Deno.writeTextFileSync(join(fx.backup, "z.txt"), "Q\n");
  const r = await run("verify", "--repair");
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Repair: 2 repaired, 0 not repaired/);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "versions/a.txt/v1.bak")), "X\n");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "z.txt")), "X\n");
});

Deno.test("verify --repair killed midway has logged each copy it made again before", async () => {
  using fx = makeFixture({ "a.txt": "a good\n", "b.txt": "b good\n" });
  assert.equal((await fx.cli("run")).code, 0);
  for (const f of ["a.txt", "b.txt"]) Deno.writeTextFileSync(join(fx.backup, f), "rot\n");
  const killed = await runTool(["verify", "--repair", "--config", fx.config], {
    env: { BACKUP_TOOL_FAULT: "aside:2" }, // in the second copy's repair
  });
  assert.equal(killed.code, 137);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "a good\n");
  assert.ok(fx.logLines().some((l) => /^REPAIRED: a\.txt /.test(l)), fx.logLines().join("\n"));
  // And on the terminal: what verify found, then each copy as it was made again.
  assert.match(killed.stderr, /^CHANGED: a\.txt /m);
  assert.match(killed.stdout, /^REPAIRED: a\.txt /m);
});

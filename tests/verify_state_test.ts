/**
 * End-to-end tests of verify on a state damaged where its copies are not read: a page of
 * the tracked files' table or of an index overwritten (a disk fault) leaves the copies'
 * own table whole, which verify reads, while restore and history meet the damage. Verify
 * checks the state itself first: exit 2, the file named with what to do, nothing changed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fingerprint, makeFixture } from "./helpers.ts";

/** Overwrites with zeros the page where the table or index `name` of the state starts. */
function zeroRootPage(db: string, name: string): void {
  const state = new DatabaseSync(db, { readOnly: true });
  const { rootpage } = state.prepare("SELECT rootpage FROM sqlite_master WHERE name = ?")
    .get(name) as { rootpage: number };
  const { page_size } = state.prepare("PRAGMA page_size").get() as { page_size: number };
  state.close();
  const bytes = Deno.readFileSync(db);
  bytes.fill(0, (rootpage - 1) * page_size, rootpage * page_size);
  Deno.writeFileSync(db, bytes);
}

for (const damaged of ["files", "copies_versions"]) {
  Deno.test(`verify of a state whose '${damaged}' page is overwritten: exit 2, named, nothing changed`, async () => {
    using fx = makeFixture({ "a.txt": "one\n", "d/b.txt": "two\n" });
    assert.equal((await fx.cli("run")).code, 0);
    Deno.writeTextFileSync(join(fx.source, "a.txt"), "one, changed\n");
    assert.equal((await fx.cli("run")).code, 0);
    const db = join(fx.backup, ".backup-tool", "state.db");
    zeroRootPage(db, damaged);
    const before = fingerprint(fx.backup);
    for (const args of [["verify"], ["verify", "--sample", "10"], ["verify", "--repair"]]) {
      const r = await fx.cli(...args);
      assert.equal(r.code, 2, `${args}: ${r.stdout}${r.stderr}`);
      assert.doesNotMatch(r.stdout, /intact/, `${args}`);
      const line = r.stderr.trim().split("\n").at(-1)!;
      assert.ok(line.startsWith(`Cannot read backup state '${db}': `), `${args}: ${r.stderr}`);
      assert.match(line, /integrity check/);
      assert.match(line, /the state is damaged; put back a copy of it if you have one/);
      assert.deepEqual(fingerprint(fx.backup), before, `${args} changed the backup root`);
    }
    const json = await fx.cli("verify", "--json");
    assert.equal(json.code, 2);
    assert.equal(json.stdout, "");
  });
}

Deno.test("verify of a backup root whose .backup-tool/ was removed says it holds a backup without its state, not 'run a backup first'", async () => {
  using fx = makeFixture({ "a.txt": "one\n" });
  assert.equal((await fx.cli("run")).code, 0);
  Deno.writeTextFileSync(join(fx.source, "a.txt"), "two\n");
  assert.equal((await fx.cli("run")).code, 0);
  Deno.removeSync(join(fx.backup, ".backup-tool"), { recursive: true });
  const before = fingerprint(fx.backup);
  for (const args of [["verify"], ["verify", "--repair"]]) {
    const r = await fx.cli(...args);
    assert.equal(r.code, 2, `${args}: ${r.stdout}${r.stderr}`);
    assert.doesNotMatch(r.stderr, /run a backup first/, `${args}`);
    assert.match(
      r.stderr,
      /it holds a backup \(its folder 'versions'\) but not its state '.*\.backup-tool': put that folder back/,
    );
    assert.deepEqual(fingerprint(fx.backup), before, `${args} changed the backup root`);
  }
});

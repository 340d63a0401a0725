/**
 * A PATH copied from a look at the backup root (`/backup/versions/a.txt/v2.bak`, or
 * `versions/a.txt/v2.bak` given there or anywhere) names a stored copy, not a source's
 * path: `restore` and `history` say whose copy it is and what to give instead, where they
 * said only "not inside a configured source" or "not in the backup".
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, runCli } from "./helpers.ts";

Deno.test("restore and history of a copy's place in the backup root name the path it is a copy of, and its number", async () => {
  using fx = makeFixture({ "notes/a.txt": "a1\n", "gone.txt": "g\n" });
  assert.equal((await fx.cli("run")).code, 0);
  for (const text of ["a2\n", "a3\n"]) {
    Deno.writeTextFileSync(join(fx.source, "notes/a.txt"), text);
    assert.equal((await fx.cli("run")).code, 0);
  }
  Deno.removeSync(join(fx.source, "gone.txt"));
  assert.equal((await fx.cli("run")).code, 0);
  const to = join(fx.dir, "out");
  const restore = (path: string, cwd?: string) =>
    runCli(["restore", path, "--to", to, "--config", fx.config], { cwd });
  const hint = (what: string, version?: number) =>
    `: it is where the backup keeps ${what}: give that path` +
    (version === undefined ? "" : ` (with --version ${version} to restore that content)`);

  const abs = await restore(join(fx.backup, "versions/notes/a.txt/v2.bak"));
  assert.equal(abs.code, 2, abs.stderr);
  assert.equal(
    abs.stderr,
    `Cannot use path '${join(fx.backup, "versions/notes/a.txt/v2.bak")}': it is not inside ` +
      `a configured source${hint("content number 2 of 'source/notes/a.txt'", 2)}\n`,
  );
  const latest = await restore(join(fx.backup, "notes/a.txt"));
  assert.equal(latest.code, 2);
  assert.match(latest.stderr, /the latest content of 'source\/notes\/a\.txt': give that path\n$/);

  const relative = await restore("_deleted/gone.txt");
  assert.equal(relative.code, 1, relative.stderr);
  assert.match(
    relative.stderr,
    new RegExp(
      "^NOT RESTORED: _deleted/gone\\.txt: '_deleted/gone\\.txt' is not a source's path: it " +
        "is where the backup keeps the last content of 'source/gone\\.txt' \\(number 1\\), " +
        "deleted from its source since: give that path \\(with --version 1 ",
      "m",
    ),
  );
  // Given from inside the backup root, as a path from there.
  const inside = await restore("./v1.bak", join(fx.backup, "versions/notes/a.txt"));
  assert.equal(inside.code, 1, inside.stderr);
  assert.match(inside.stderr, /content number 1 of 'source\/notes\/a\.txt'/);

  const history = await fx.cli("history", "versions/notes/a.txt/v1.bak");
  assert.equal(history.code, 1);
  assert.equal(
    history.stderr,
    "Cannot show history of 'versions/notes/a.txt/v1.bak': " +
      "'source/versions/notes/a.txt/v1.bak' was never backed up" +
      `${hint("content number 1 of 'source/notes/a.txt'", 1)}\n`,
  );
  // A PATH that names nothing there is told as before.
  const nothing = await restore("versions/notes/a.txt/v9.bak");
  assert.match(nothing.stderr, /'source\/versions\/notes\/a\.txt\/v9\.bak' is not in the backup/);
  assert.throws(() => Deno.lstatSync(to), Deno.errors.NotFound); // nothing restored
});

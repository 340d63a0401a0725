/**
 * A PATH copied from a look at the backup root (`/backup/versions/a.txt/v2.bak`, or
 * `versions/a.txt/v2.bak` given there or anywhere) names a stored copy, not a source's
 * path: `restore` and `history` say whose copy it is and what to give instead, where they
 * said only "not inside a configured source" or "not in the backup".
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, runCli, writeTree } from "./helpers.ts";
import { filler } from "./watch_helpers.ts";

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

Deno.test("restore of a source's PATH whose spelling is a place in the backup root holding another file's copy says what it says of that path", async () => {
  // The first source keeps the backup root's layout: its `pics/x.jpg` is stored at
  // `pics/x.jpg`, the spelling of the second source's own `pics/x.jpg`.
  using fx = makeFixture({ "pics/x.jpg": "docs' own\n", "a.txt": "top\n", "sub/b.txt": "b\n" });
  assert.equal((await fx.cli("run", "-q")).code, 0);
  const pics = join(fx.dir, "pics");
  writeTree(pics, { "x.jpg": "pics' own\n", ...filler() });
  const config = JSON.parse(Deno.readTextFileSync(fx.config));
  Deno.writeTextFileSync(
    fx.config,
    JSON.stringify({ ...config, sources: [...config.sources, "./pics"] }),
  );
  assert.equal((await fx.cli("run", "-q")).code, 0);
  Deno.removeSync(join(pics, "x.jpg"));
  assert.equal((await fx.cli("run", "-q")).code, 0);
  const to = join(fx.dir, "out");
  const restore = (path: string, cwd?: string) =>
    runCli(["restore", path, "--to", to, "--config", fx.config], { cwd });

  const deleted = await restore("pics/x.jpg");
  assert.equal(deleted.code, 1, deleted.stderr);
  assert.match(
    deleted.stderr,
    /^NOT RESTORED: pics\/x\.jpg: 'pics\/x\.jpg' is not in the backup any more: it was deleted at \S+Z: restore it with --at a time before that, or with --version 1 for its last content$/m,
  );
  assert.doesNotMatch(deleted.stderr, /docs|source\/pics/);
  // `./a.txt` from a folder of a source is that folder's, never the backup root's `a.txt`.
  const here = await restore("./a.txt", join(fx.source, "sub"));
  assert.equal(here.code, 1, here.stderr);
  assert.match(here.stderr, /'source\/sub\/a\.txt' is not in the backup/);
  assert.doesNotMatch(here.stderr, /keeps/);
  assert.throws(() => Deno.lstatSync(to), Deno.errors.NotFound); // nothing restored
});

Deno.test("restore of a source's PATH into a folder named as the backup's own, deleted, says it was deleted, not whose copy the backup keeps there", async () => {
  // The source's own `versions/a.txt/v1.bak` is stored at `versions~/…`; the backup's
  // `versions/a.txt/v1.bak` is content 1 of `a.txt`.
  using fx = makeFixture({ "a.txt": "a1\n", "versions/a.txt/v1.bak": "mine\n", ...filler() });
  assert.equal((await fx.cli("run", "-q")).code, 0);
  Deno.writeTextFileSync(join(fx.source, "a.txt"), "a2\n");
  Deno.removeSync(join(fx.source, "versions"), { recursive: true });
  assert.equal((await fx.cli("run", "-q")).code, 0);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "versions/a.txt/v1.bak")), "a1\n");
  const to = join(fx.dir, "out");
  const r = await runCli(["restore", "versions/a.txt/v1.bak", "--to", to, "--config", fx.config]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /'source\/versions\/a\.txt\/v1\.bak' is not in the backup any more: it was deleted/,
  );
  assert.doesNotMatch(r.stderr, /keeps/);
});

Deno.test("with several sources, a copy's place given from outside or inside the backup root names the path it is a copy of", async () => {
  using fx = makeFixture({ "a.txt": "a1\n" });
  const pics = join(fx.dir, "pics");
  writeTree(pics, { "p.jpg": "p\n" });
  const config = JSON.parse(Deno.readTextFileSync(fx.config));
  Deno.writeTextFileSync(
    fx.config,
    JSON.stringify({ ...config, sources: [...config.sources, "./pics"] }),
  );
  assert.equal((await fx.cli("run", "-q")).code, 0);
  Deno.writeTextFileSync(join(fx.source, "a.txt"), "a2\n");
  assert.equal((await fx.cli("run", "-q")).code, 0);
  const to = join(fx.dir, "out");
  const several = "Cannot find '%s' in the backup: with several sources a path starts with " +
    "the source name (pics, source): it is where the backup keeps ";

  const version = await runCli([
    "restore",
    "versions/_sources/source/a.txt/v1.bak",
    "--to",
    to,
    "--config",
    fx.config,
  ]);
  assert.equal(version.code, 2, version.stderr);
  assert.equal(
    version.stderr,
    several.replace("%s", "versions/_sources/source/a.txt/v1.bak") +
      "content number 1 of 'source/a.txt': give that path (with --version 1 to restore that " +
      "content)\n",
  );
  const latest = await fx.cli("history", "_sources/pics/p.jpg");
  assert.equal(latest.code, 2, latest.stderr);
  assert.equal(
    latest.stderr,
    several.replace("%s", "_sources/pics/p.jpg") +
      "the latest content of 'pics/p.jpg': give that path\n",
  );
  // From inside the backup root, a path from there.
  const inside = await runCli(["history", "./v1.bak", "--config", fx.config], {
    cwd: join(fx.backup, "versions/_sources/source/a.txt"),
  });
  assert.equal(inside.code, 2, inside.stderr);
  assert.match(inside.stderr, /keeps content number 1 of 'source\/a\.txt'/);
  // A path that names no place there is told as before.
  const nothing = await fx.cli("history", "nothing/x.txt");
  assert.equal(
    nothing.stderr,
    "Cannot find 'nothing/x.txt' in the backup: with several sources a path starts with the " +
      "source name (pics, source)\n",
  );
  assert.throws(() => Deno.lstatSync(to), Deno.errors.NotFound); // nothing restored
});

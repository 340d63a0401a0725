/**
 * A backup root that holds a backup but not its state (`.backup-tool/` deleted, or left out
 * by `cp -r backup/*`): `run`, `watch` and `plan` refuse it (exit 2, one line, nothing
 * made), where a new state would have stored every file again beside its old copy under a
 * `.~2` name and exited 0. The remedy's own way to start anew is kept, and a root of
 * unrelated files is still used as it is.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { listFiles, makeFixture, writeTree } from "./helpers.ts";

/** Every path under `dir`, folders too (`/` at their end), and each file's bytes. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string, rel: string) => {
    for (const e of [...Deno.readDirSync(at)].sort((a, b) => a.name < b.name ? -1 : 1)) {
      const path = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory) {
        out.push(`${path}/`);
        walk(join(at, e.name), path);
      } else out.push(`${path} ${Deno.readTextFileSync(join(at, e.name))}`);
    }
  };
  walk(dir, "");
  return out;
}

Deno.test("a backup whose .backup-tool/ was deleted: run, watch and plan refuse (exit 2), nothing made; an empty .backup-tool/ made by hand starts anew", async () => {
  using fx = makeFixture({ "a.txt": "a1\n", "b.txt": "b\n" });
  assert.equal((await fx.cli("run")).code, 0);
  Deno.writeTextFileSync(join(fx.source, "a.txt"), "a2\n");
  assert.equal((await fx.cli("run")).code, 0); // versions/ now
  const stateDir = join(fx.backup, ".backup-tool");
  Deno.removeSync(stateDir, { recursive: true });
  const before = snapshot(fx.dir);
  for (const command of ["run", "watch", "plan"]) {
    const r = await fx.cli(command);
    assert.equal(r.code, 2, `${command}: ${r.stdout}${r.stderr}`);
    assert.equal(
      r.stderr,
      `Cannot back up to '${fx.backup}': it holds a backup (its folder 'versions') but not ` +
        `its state '${stateDir}': put that folder back (a copy made with 'cp -r backup/*' ` +
        "leaves it out) and run again; to start a new backup beside it instead (a copy " +
        "stored under another name where one of its files stands), create the empty folder " +
        `'${stateDir}' first\n`,
    );
    assert.deepEqual(snapshot(fx.dir), before, command);
  }
  Deno.mkdirSync(stateDir);
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt.~2")), "a2\n");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "a2\n"); // left as it was
});

Deno.test("a backup without its state is told by the logs that record runs into it, or, copied elsewhere (cp -r backup/*), by its own folders", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  assert.equal((await fx.cli("run")).code, 0);
  Deno.removeSync(join(fx.backup, ".backup-tool"), { recursive: true });
  // Only the logs can tell that a.txt is a copy of this backup's: no folder of its own yet.
  const r = await fx.cli("run");
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /^Cannot back up to '.*': it holds a backup \(a log in '.*' records runs into it\) but not its state '.*\.backup-tool': put that folder back/,
  );
  assert.equal(r.stderr.trim().split("\n").length, 1);
  // A copy of a backup that had deleted files and duplicates, the config pointed at it.
  writeTree(fx.backup, { "_deleted/old.txt": "old\n", "_duplicates/d.txt": "a\n" });
  const copy = join(fx.dir, "copy");
  Deno.mkdirSync(copy);
  for (const e of Deno.readDirSync(fx.backup)) {
    Deno.renameSync(join(fx.backup, e.name), join(copy, e.name));
  }
  const config = JSON.parse(Deno.readTextFileSync(fx.config));
  Deno.writeTextFileSync(fx.config, JSON.stringify({ ...config, backup_root: copy }));
  const moved = await fx.cli("run");
  assert.equal(moved.code, 2, moved.stderr);
  assert.match(moved.stderr, /it holds a backup \(its folders '_duplicates', '_deleted'\)/);
  assert.deepEqual(listFiles(copy), ["_deleted/old.txt", "_duplicates/d.txt", "a.txt"]);
});

Deno.test("a backup root the reference tool wrote (state.json) is refused as such; one of unrelated files is used as it is", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  writeTree(fx.backup, {
    "state.json": "{}",
    "a.txt": "a\n",
    "versions/a.txt/v1.bak": "a0\n",
  });
  const r = await fx.cli("run");
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /^Cannot back up to '.*': it holds a backup made by the reference tool \('state\.json'\), which this tool does not take over: point backup_root at a new folder; to start a new backup beside it instead/,
  );
  assert.deepEqual(listFiles(fx.backup), ["a.txt", "state.json", "versions/a.txt/v1.bak"]);

  using other = makeFixture({ "a.txt": "a\n" });
  writeTree(other.backup, { "notes.txt": "mine\n", "a.txt": "someone else's\n" });
  const first = await other.cli("run");
  assert.equal(first.code, 0, first.stderr);
  assert.equal(Deno.readTextFileSync(join(other.backup, "a.txt")), "someone else's\n");
  assert.equal(Deno.readTextFileSync(join(other.backup, "a.txt.~2")), "a\n");
});

Deno.test("a first backup into a folder holding a 'versions' folder of its own (no version copy in it) is not refused; a copied backup's 'versions' alone is", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  writeTree(fx.backup, { "versions/draft-2.txt": "mine\n", "versions/old/v1.txt": "mine too\n" });
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(listFiles(fx.backup).filter((f) => !f.startsWith(".backup-tool/")), [
    "a.txt",
    "versions/draft-2.txt",
    "versions/old/v1.txt",
  ]);

  // A backup's versions/ alone (its latest copies and state left behind): refused.
  using copied = makeFixture({ "a.txt": "a\n" });
  writeTree(copied.backup, { "a.txt": "a\n", "versions/a.txt/v1.bak": "a0\n" });
  const refused = await copied.cli("run");
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /it holds a backup \(its folder 'versions'\) but not its state/);
  assert.deepEqual(listFiles(copied.backup), ["a.txt", "versions/a.txt/v1.bak"]);
});

Deno.test("restore, history and verify of a backup of one run whose .backup-tool/ was deleted say what run says of it (the logs tell), not 'run a backup first'", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  assert.equal((await fx.cli("run")).code, 0); // no folder of its own yet: only the logs tell
  Deno.removeSync(join(fx.backup, ".backup-tool"), { recursive: true });
  const before = snapshot(fx.dir);
  const restored = join(fx.dir, "restored");
  for (const args of [["verify"], ["history", "a.txt"], ["restore", "--to", restored]]) {
    const r = await fx.cli(...args);
    assert.equal(r.code, 2, `${args}: ${r.stdout}${r.stderr}`);
    assert.match(
      r.stderr,
      /^Cannot read backup '.*': it holds a backup \(a log in '.*' records runs into it\) but not its state '.*\.backup-tool': put that folder back/,
      `${args}`,
    );
    assert.deepEqual(snapshot(fx.dir), before, `${args}`);
  }
});

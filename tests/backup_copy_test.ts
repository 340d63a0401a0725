/**
 * A backup root copied or put back whole or in part (`cp -r`, `.backup-tool/` from an older
 * snapshot, a copy taken while a run went on): a state older than the files beside it must
 * not have a run file other bytes as a content they do not hold unsaid (archived, deleted,
 * promoted out of `_duplicates/`, or kept for an unchanged file), and a copy that lost only
 * its times must not be taken for a damaged one.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture } from "./helpers.ts";

const STATE = ".backup-tool/state.db";

function write(path: string, text: string, mtimeSec: number): void {
  Deno.writeTextFileSync(path, text);
  Deno.utimeSync(path, mtimeSec, mtimeSec);
}

/**
 * `a.txt` backed up as "one", then as "two" (the same size: only the bytes tell the copies
 * apart), then the state of the first run put back beside the second run's files.
 */
async function stateOlderThanFiles() {
  const fx = makeFixture({ "keep.txt": "keep\n" });
  const a = join(fx.source, "a.txt");
  write(a, "one\n", 1_700_000_000);
  assert.equal((await fx.cli("run")).code, 0);
  const older = join(fx.dir, "state-after-run-1.db");
  Deno.copyFileSync(join(fx.backup, STATE), older);
  write(a, "two\n", 1_700_000_100);
  assert.equal((await fx.cli("run")).code, 0);
  Deno.copyFileSync(older, join(fx.backup, STATE));
  return fx;
}

/** `a.txt` backed up as "one", its copy's time then reset, as `cp -r` of the root leaves it. */
async function copyLostItsTimes() {
  const fx = makeFixture({ "keep.txt": "keep\n" });
  write(join(fx.source, "a.txt"), "one\n", 1_700_000_000);
  assert.equal((await fx.cli("run")).code, 0);
  const now = Date.now() / 1000;
  Deno.utimeSync(join(fx.backup, "a.txt"), now, now);
  return fx;
}

Deno.test("a state put back older than the files: the copy archived under a content it does not hold is warned about, and repaired", async () => {
  using fx = await stateOlderThanFiles(); // one\n now at versions/a.txt/v1.bak
  const a = join(fx.source, "a.txt");
  write(a, "six\n", 1_700_000_200);

  const r = await fx.cli("run");
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  const warned = warnings(r.stderr);
  assert.equal(warned.length, 1, r.stderr);
  assert.match(warned[0], /^WARNING: source\/a.txt: Its previous copy 'a.txt' no longer holds/);
  assert.match(warned[0], /state older than the backup root's files.*verify --repair/);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "six\n");

  const verify = await fx.cli("verify");
  assert.equal(verify.code, 1);
  assert.match(verify.stderr + verify.stdout, /CHANGED: versions\/a.txt\/v1.bak.~2/);
  const repair = await fx.cli("verify", "--repair");
  assert.match(repair.stdout + repair.stderr, /REPAIRED: versions\/a.txt\/v1.bak.~2/);
  const out = join(fx.dir, "restored");
  const restored = await fx.cli("restore", "a.txt", "--version", "1", "--to", out);
  assert.equal(restored.code, 0, restored.stderr);
  assert.equal(Deno.readTextFileSync(join(out, "a.txt")), "one\n");
});

Deno.test("a copy of the backup root that lost its times (cp -r) archives a changed file's copy without a warning", async () => {
  using fx = await copyLostItsTimes();
  const a = join(fx.source, "a.txt");
  write(a, "two\n", 1_700_000_100);

  const r = await fx.cli("run");
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.equal(r.stderr, "");
  assert.equal((await fx.cli("verify")).code, 0);
});

Deno.test("a state put back older than the files: a deleted file's copy holding other bytes is warned about as it moves to _deleted/", async () => {
  using fx = await stateOlderThanFiles();
  const a = join(fx.source, "a.txt");
  Deno.removeSync(a);

  const r = await fx.cli("run");
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  const warned = warnings(r.stderr);
  assert.equal(warned.length, 1, r.stderr);
  assert.match(
    warned[0],
    /^WARNING: source\/a.txt: Its copy 'a.txt' no longer held the content recorded for it/,
  );
  assert.match(warned[0], /state older than the backup root's files.*verify --repair/);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "_deleted/a.txt")), "two\n");
  const verify = await fx.cli("verify");
  assert.equal(verify.code, 1);
  assert.match(verify.stderr + verify.stdout, /CHANGED: _deleted\/a.txt/);
});

Deno.test("a copy of the backup root that lost its times (cp -r) moves a deleted file's copy without a warning", async () => {
  using fx = await copyLostItsTimes();
  const a = join(fx.source, "a.txt");
  Deno.removeSync(a);

  const r = await fx.cli("run");
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.equal(r.stderr, "");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "_deleted/a.txt")), "one\n");
  assert.equal((await fx.cli("verify")).code, 0);
});

/**
 * `b.txt`, a duplicate of `a.txt` ("one"), then a duplicate of `c.txt` ("two": its copy in
 * `_duplicates/` replaced), then the state of the first run put back beside the second
 * run's files, and `b.txt` given "one" back with the time recorded then (as a restore of
 * it gives): unchanged to that state, which has it read and kept as it is.
 */
async function duplicateOlderThanFiles() {
  const fx = makeFixture({});
  const at = (name: string) => join(fx.source, name);
  write(at("a.txt"), "one\n", 1_700_000_000);
  write(at("b.txt"), "one\n", 1_700_000_000);
  write(at("c.txt"), "two\n", 1_700_000_050);
  assert.equal((await fx.cli("run")).code, 0);
  const older = join(fx.dir, "state-after-run-1.db");
  Deno.copyFileSync(join(fx.backup, STATE), older);
  write(at("b.txt"), "two\n", 1_700_000_100);
  assert.equal((await fx.cli("run")).code, 0);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "_duplicates/b.txt")), "two\n");
  Deno.copyFileSync(older, join(fx.backup, STATE));
  write(at("b.txt"), "one\n", 1_700_000_000);
  return fx;
}

function warnings(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith("WARNING: "));
}

Deno.test("a state put back older than the files: a duplicate's copy holding other bytes is warned about as it is promoted", async () => {
  using fx = await duplicateOlderThanFiles();
  Deno.removeSync(join(fx.source, "a.txt")); // b.txt's copy becomes the original of "one"

  const r = await fx.cli("run");
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  const warned = warnings(r.stderr);
  assert.equal(warned.length, 1, r.stderr);
  assert.match(
    warned[0],
    /^WARNING: source\/b.txt: Its copy '_duplicates\/b.txt' no longer held the content recorded for it/,
  );
  assert.match(warned[0], /promoted to 'b.txt' all the same; run 'verify --repair --config \S+'/);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "b.txt")), "two\n");
  const verify = await fx.cli("verify");
  assert.equal(verify.code, 1);
  assert.match(verify.stderr + verify.stdout, /CHANGED: b.txt/);
  const repair = await fx.cli("verify", "--repair");
  assert.match(repair.stdout + repair.stderr, /REPAIRED: b.txt/);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "b.txt")), "one\n");
});

Deno.test("a state put back older than the files: an unchanged file's copy holding other bytes is left as it is, and warned about, when its time is brought up to date", async () => {
  using fx = await stateOlderThanFiles(); // a.txt's copy holds "two", the state says "one"
  write(join(fx.source, "a.txt"), "one\n", 1_700_000_200);

  const r = await fx.cli("run");
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  const warned = warnings(r.stderr);
  assert.equal(warned.length, 1, r.stderr);
  assert.match(
    warned[0],
    /^WARNING: source\/a.txt: Its copy 'a.txt' no longer holds the content recorded for it/,
  );
  assert.match(warned[0], /left as it is; run 'verify --repair --config \S+'/);
  // Not given the file's time: the next move of it would take it for the recorded content.
  const copy = Deno.lstatSync(join(fx.backup, "a.txt"));
  assert.equal(copy.mtime?.getTime(), 1_700_000_100_000);
  const verify = await fx.cli("verify");
  assert.equal(verify.code, 1);
  assert.match(verify.stderr + verify.stdout, /CHANGED: a.txt/);
});

Deno.test("a copy of the backup root that lost its times (cp -r) promotes a duplicate's copy, and brings a copy's time up to date, without a warning", async () => {
  using fx = makeFixture({});
  write(join(fx.source, "a.txt"), "one\n", 1_700_000_000);
  write(join(fx.source, "b.txt"), "one\n", 1_700_000_000);
  write(join(fx.source, "c.txt"), "two\n", 1_700_000_000);
  assert.equal((await fx.cli("run")).code, 0);
  const now = Date.now() / 1000;
  for (const copy of ["_duplicates/b.txt", "c.txt"]) {
    Deno.utimeSync(join(fx.backup, copy), now, now); // as `cp -r` leaves them
  }
  Deno.removeSync(join(fx.source, "a.txt"));
  write(join(fx.source, "c.txt"), "two\n", 1_700_000_100); // touched only

  const r = await fx.cli("run");
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.equal(r.stderr, "");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "b.txt")), "one\n");
  assert.equal(Deno.lstatSync(join(fx.backup, "c.txt")).mtime?.getTime(), 1_700_000_100_000);
  assert.equal((await fx.cli("verify")).code, 0);
});

/**
 * A backup root copied or put back whole or in part (`cp -r`, `.backup-tool/` from an older
 * snapshot, a copy taken while a run went on): a state older than the files beside it must
 * not have a run record other bytes as an old version unsaid, and a copy that lost only its
 * times must not be taken for a damaged one.
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
  const warned = r.stderr.split("\n").filter((l) => l.startsWith("WARNING: "));
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
  const warned = r.stderr.split("\n").filter((l) => l.startsWith("WARNING: "));
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

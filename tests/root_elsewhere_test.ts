/**
 * What a refusal of a missing backup root looks for beside it (root_elsewhere.ts): a
 * backup of the config's sources at the same path below a neighbouring folder. Looking
 * must never turn the refusal into a failure, nor change anything in the folders looked
 * at.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { makeFixture } from "./helpers.ts";

/** A backed-up fixture whose disk `DISK` came back as `DISK1`, and the hint naming it. */
async function diskMountedElsewhere(fx: ReturnType<typeof makeFixture>): Promise<string> {
  assert.equal((await fx.cli("run")).code, 0);
  const media = join(fx.dir, "media", "u");
  Deno.renameSync(join(media, "DISK"), join(media, "DISK1"));
  return `; a backup is at '${join(media, "DISK1", "backup")}': if its disk is mounted there ` +
    "now, point backup_root at it\n";
}

Deno.test("a neighbouring folder that cannot be looked into (a symlink loop) is passed over: run and verify still refuse (exit 2) and name the backup found", async () => {
  using fx = makeFixture({ "a.txt": "a\n" }, { backup_root: "./media/u/DISK/backup" });
  const where = await diskMountedElsewhere(fx);
  // Listed before DISK1: its `backup` leads to itself (ELOOP on the way to a state).
  Deno.mkdirSync(join(fx.dir, "media", "u", "A"));
  Deno.symlinkSync("backup", join(fx.dir, "media", "u", "A", "backup"));
  for (const command of ["run", "verify"]) {
    const r = await fx.cli(command);
    assert.equal(r.code, 2, `${command}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /failed/);
    assert.ok(r.stderr.endsWith(where), `${command}: ${r.stderr}`);
  }
});

Deno.test("a backup found beside the missing root is read without a file made or changed there, a state left in WAL mode included (a copy taken while a watch ran)", async () => {
  using fx = makeFixture({ "a.txt": "a\n" }, { backup_root: "./media/u/DISK/backup" });
  const where = await diskMountedElsewhere(fx);
  const stateDir = join(fx.dir, "media", "u", "DISK1", "backup", ".backup-tool");
  // Its header says WAL, with no -wal or -shm beside it: SQLite makes both to read it.
  const db = new DatabaseSync(join(stateDir, "state.db"));
  db.exec("PRAGMA journal_mode = WAL");
  db.close();
  const before = listing(stateDir);
  for (const command of ["run", "verify", "history"]) {
    const r = await fx.cli(command);
    assert.equal(r.code, 2, `${command}: ${r.stderr}`);
    assert.ok(r.stderr.endsWith(where), `${command}: ${r.stderr}`);
    assert.deepEqual(listing(stateDir), before, command);
  }
});

/** Each entry of `dir` with its size and modification time. */
function listing(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => {
    const info = Deno.lstatSync(join(dir, e.name));
    return `${e.name} ${info.size} ${info.mtime?.getTime()}`;
  }).sort();
}

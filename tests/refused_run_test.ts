/**
 * A run, watch or `verify --repair` that is refused (exit 3: another process holds the
 * lock; exit 2: the state folder holds something else, or the state's header shows a
 * state this tool must not open) decides so before it makes a log file or anything in the
 * state folder: the log folder and `.backup-tool/` are left with their modification times,
 * not with an entry made and removed again. A refused run that took a stale lock gives the
 * lock file back its record, which a kill meanwhile does not lose.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import {
  DEAD_HOLDER_RECORD,
  type Fixture,
  loggedDeadHolderTakeover,
  makeFixture,
} from "./helpers.ts";
import { runTool } from "./reliability/util.ts";

/** A moment no run of the test comes near: any change to a folder moves its time off it. */
const LONG_AGO = new Date("2020-01-02T03:04:05.678Z");

const COMMANDS = [["run"], ["watch"], ["verify", "--repair"]];

/** The log folder's and the state folder's times and entries. */
function folders(fx: Fixture): Record<string, { mtime?: number; names: string[] }> {
  const out: Record<string, { mtime?: number; names: string[] }> = {};
  for (const dir of [fx.logs, join(fx.backup, ".backup-tool")]) {
    out[dir] = {
      mtime: Deno.statSync(dir).mtime?.getTime(),
      names: [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
    };
  }
  return out;
}

/** Both folders' times set to LONG_AGO, after a test changed what they hold. */
function ageFolders(fx: Fixture): void {
  for (const dir of [fx.logs, join(fx.backup, ".backup-tool")]) {
    Deno.utimeSync(dir, LONG_AGO, LONG_AGO);
  }
}

/** Each command refused with `code` and `message`, both folders as they were. */
async function assertRefused(fx: Fixture, code: number, message: RegExp): Promise<void> {
  ageFolders(fx);
  const before = folders(fx);
  assert.equal(Object.values(before)[0].mtime, LONG_AGO.getTime());
  for (const args of COMMANDS) {
    const r = await fx.cli(...args);
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, message, args.join(" "));
    assert.deepEqual(folders(fx), before, `${args.join(" ")} changed a folder`);
  }
}

Deno.test("a run refused for the lock (exit 3) leaves the log folder and .backup-tool untouched", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  assert.equal((await fx.cli("run")).code, 0);
  // Held as `flock backup/.backup-tool/lock …` holds it (docs/backup-root.md): by another
  // process.
  using held = Deno.openSync(join(fx.backup, ".backup-tool", "lock"), { read: true });
  held.lockSync(true);
  await assertRefused(fx, 3, /^Cannot lock backup root: another run holds '/);
  held.unlockSync();
  assert.equal((await fx.cli("run")).code, 0, "the lock released, a run goes on");
});

Deno.test("a run refused for its state (exit 2: a newer tool's, not a database, a symlink in the state folder) leaves both folders untouched", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const stateDir = join(fx.backup, ".backup-tool");
  const db = join(stateDir, "state.db");
  const saved = Deno.readFileSync(db);

  const state = new DatabaseSync(db);
  const version = state.prepare("PRAGMA user_version").get()!.user_version as number;
  state.exec(`PRAGMA user_version = ${version + 1}`);
  state.close();
  await assertRefused(fx, 2, /^Cannot read backup state '.*': schema version \d+ is newer/);

  Deno.writeTextFileSync(db, "not a database\n".repeat(300));
  await assertRefused(fx, 2, /^Cannot read backup state '.*': file is not a database: /);

  Deno.writeFileSync(db, saved);
  const elsewhere = join(fx.dir, "elsewhere");
  Deno.mkdirSync(elsewhere);
  Deno.removeSync(join(stateDir, "tmp"), { recursive: true });
  Deno.symlinkSync(elsewhere, join(stateDir, "tmp"));
  await assertRefused(fx, 2, /^Cannot use the backup root '.*': '.backup-tool\/tmp' is a symlink/);
  assert.deepEqual([...Deno.readDirSync(elsewhere)], []);

  Deno.removeSync(join(stateDir, "tmp"));
  assert.equal((await fx.cli("run")).code, 0, "put right, a run goes on");
});

Deno.test("a run refused after taking a stale lock (exit 2) leaves the lock file as it was: the next run logs the takeover", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const lock = join(fx.backup, ".backup-tool", "lock");
  const db = join(fx.backup, ".backup-tool", "state.db");
  const saved = Deno.readFileSync(db);
  const record = DEAD_HOLDER_RECORD;
  Deno.writeTextFileSync(lock, record);
  Deno.utimeSync(lock, LONG_AGO, LONG_AGO);
  Deno.writeTextFileSync(db, "not a database\n".repeat(300));
  for (const args of COMMANDS) {
    const r = await fx.cli(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}\n${r.stderr}`);
    assert.equal(Deno.readTextFileSync(lock), record, `${args.join(" ")} emptied the lock file`);
    assert.equal(Deno.statSync(lock).mtime?.getTime(), LONG_AGO.getTime(), args.join(" "));
  }
  Deno.writeFileSync(db, saved);
  assert.equal((await fx.cli("run")).code, 0);
  assert.ok(
    loggedDeadHolderTakeover(fx.lastLog()),
    fx.lastLog().join("\n"),
  );
  assert.equal(Deno.readTextFileSync(lock), "", "released by the run");
});

Deno.test("a run refused after taking a stale lock, killed while it gives the lock file back its record: the next run still logs the takeover", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const lock = join(fx.backup, ".backup-tool", "lock");
  // Shorter than the refused run's own record, which the record given back is written over.
  const record = '{"pid":7,"host":"h","started":"2020-01-02T03:04:05.678Z"}\n';
  Deno.writeTextFileSync(lock, record);
  const db = join(fx.backup, ".backup-tool", "state.db");
  const saved = Deno.readFileSync(db);
  Deno.writeTextFileSync(db, "not a database\n".repeat(300)); // refused under the lock (exit 2)
  // Killed as it gives the record back: its own record written at the lock (1), then the
  // one it gives back (2), the file not yet cut to it.
  const killed = await runTool(["run", "--config", fx.config], {
    env: { BACKUP_TOOL_FAULT: "overwritten:2" },
  });
  assert.equal(killed.code, 137, killed.stderr);
  assert.equal(Deno.readTextFileSync(lock).trim(), record.trim(), "the dead run's record was lost");
  assert.ok(Deno.statSync(lock).size > record.length, "not killed before the cut");
  Deno.writeFileSync(db, saved);
  assert.equal((await fx.cli("run")).code, 0);
  assert.ok(
    fx.lastLog().includes(`LOCK: took over a stale lock left by ${record.trim()}`),
    fx.lastLog().join("\n"),
  );
});

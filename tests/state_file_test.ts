/**
 * End-to-end tests of a state file the tool cannot use, through the real tool: one written
 * by a newer version, a damaged one (at its header or past its first page), another
 * program's SQLite database (with a user_version of its own, or its commits in a WAL), and
 * an empty one a first run killed before its first commit left. Every command refuses it by
 * name (exit 2) and leaves it byte for byte, nothing made beside it; an empty one is no
 * backup, and a first run holding the lock is said as such (exit 3).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { SCHEMA_VERSION } from "../src/state/schema.ts";
import {
  DEAD_HOLDER_RECORD,
  fingerprint,
  loggedDeadHolderTakeover,
  makeFixture,
} from "./helpers.ts";
import { TREE } from "./cli_helpers.ts";
import { exists, pausedRun } from "./reliability/util.ts";

Deno.test("a state written by a newer version: every command refuses it by name, untouched", async () => {
  using fx = makeFixture(TREE);
  assert.equal((await fx.cli("run")).code, 0);
  const db = join(fx.backup, ".backup-tool", "state.db");
  const state = new DatabaseSync(db);
  state.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
  state.close();
  const before = Deno.readFileSync(db);
  const cases = [
    ["run"],
    ["watch"],
    ["plan"],
    ["verify"],
    ["restore", "--to", join(fx.dir, "restored")],
  ];
  for (const [command, ...rest] of cases) {
    const r = await fx.cli(command, ...rest);
    assert.equal(r.code, 2, `${command}: ${r.stderr}`);
    assert.match(
      r.stderr,
      new RegExp(
        `^Cannot read backup state '.*state\\.db': schema version ${
          SCHEMA_VERSION + 1
        } is newer than this tool's ${SCHEMA_VERSION}: upgrade the tool\n$`,
      ),
    );
  }
  assert.deepEqual(Deno.readFileSync(db), before);
  assert.deepEqual(
    [...Deno.readDirSync(join(fx.backup, ".backup-tool"))].map((e) => e.name).sort(),
    ["lock", "reserve", "state.db", "tmp"], // as the first, normal run left it
  );
});

Deno.test("a damaged state file: every command exits 2 naming it and what to do, nothing made", async () => {
  using fx = makeFixture(TREE);
  const stateDir = join(fx.backup, ".backup-tool");
  Deno.mkdirSync(stateDir, { recursive: true });
  const db = join(stateDir, "state.db");
  Deno.writeTextFileSync(db, "not a database\n".repeat(300));
  const cases = [
    ["run"],
    ["verify", "--repair"],
    ["plan"],
    ["verify"],
    ["history", "a.txt"],
    ["restore", "--to", join(fx.dir, "restored")],
  ];
  for (const args of cases) {
    const r = await fx.cli(...args);
    assert.equal(r.code, 2, `${args}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.ok(
      r.stderr.startsWith(`Cannot read backup state '${db}': file is not a database: `),
      r.stderr,
    );
    assert.match(r.stderr, /put back a copy of it if you have one, or move it aside/);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.deepEqual([...Deno.readDirSync(stateDir)].map((e) => e.name), ["state.db"]);
    assert.deepEqual(fx.logLines(), []);
  }
  assert.throws(() => Deno.lstatSync(join(fx.dir, "restored")), Deno.errors.NotFound);
});

Deno.test("a state damaged past its first page: every command names it and what to do", async () => {
  // Opened without a word (its header is intact); SQLite then says only "database disk
  // image is malformed" from the first query that meets the page.
  const tree = Object.fromEntries(
    Array.from({ length: 600 }, (_, i) => [`d${i % 20}/f${i}.txt`, `file ${i}\n`]),
  );
  using fx = makeFixture(tree);
  assert.equal((await fx.cli("run")).code, 0);
  const db = join(fx.backup, ".backup-tool", "state.db");
  const bytes = Deno.readFileSync(db);
  bytes.fill(0x5a, 16_384, bytes.length - 16_384); // pages 5 to the last but four
  Deno.writeFileSync(db, bytes);
  const cases = [
    ["run"],
    ["plan"],
    ["verify"],
    ["history", "d1/f1.txt"],
    ["restore", "--to", join(fx.dir, "restored")],
  ];
  for (const args of cases) {
    const r = await fx.cli(...args);
    assert.notEqual(r.code, 0, `${args}: ${r.stderr}`);
    const line = r.stderr.trim().split("\n").at(-1)!;
    assert.ok(line.includes(`Cannot read backup state '${db}': `), `${args}: ${r.stderr}`);
    assert.match(line, /the state is damaged; put back a copy of it if you have one/);
  }
});

Deno.test("another program's SQLite database in place of the state: every command exits 2, nothing taken over", async () => {
  using fx = makeFixture(TREE);
  assert.equal((await fx.cli("run")).code, 0);
  const db = join(fx.backup, ".backup-tool", "state.db");
  Deno.removeSync(db);
  const other = new DatabaseSync(db);
  other.exec("PRAGMA journal_mode = WAL"); // a reader of a WAL database makes -wal and -shm
  other.exec("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)");
  other.close();
  const before = Deno.readFileSync(db);
  const listing = () =>
    [...Deno.readDirSync(join(fx.backup, ".backup-tool"))].map((e) => e.name).sort();
  const files = listing();
  const cases = [["plan"], ["verify"], ["history", "a.txt"], ["run"], ["verify", "--repair"]];
  for (const args of cases) {
    const r = await fx.cli(...args);
    assert.equal(r.code, 2, `${args}: ${r.stderr}`);
    assert.ok(
      r.stderr.startsWith(
        `Cannot read backup state '${db}': it holds no state of this tool (another program's`,
      ),
      r.stderr,
    );
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.deepEqual(listing(), files, `${args}: something was made beside the state`);
  }
  assert.deepEqual(Deno.readFileSync(db), before, "the database was changed");
});

Deno.test("an empty state (a first run killed before its first commit): plan and run agree, verify and verify --repair find no backup, a new state starts", async () => {
  using fx = makeFixture(TREE);
  const stateDir = join(fx.backup, ".backup-tool");
  Deno.mkdirSync(join(fx.backup, "lost+found"), { recursive: true }); // a fresh disk's
  Deno.mkdirSync(stateDir);
  Deno.writeFileSync(join(stateDir, "state.db"), new Uint8Array(0));
  const plan = await fx.cli("plan");
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /Plan: 2 new/);
  const verify = await fx.cli("verify");
  assert.equal(verify.code, 2, verify.stderr);
  assert.match(verify.stderr, /no backup state found .*: run a backup first/);
  // verify --repair finds no backup either: it neither makes a state of the empty one nor
  // calls it intact, and makes no log.
  const repair = await fx.cli("verify", "--repair");
  assert.equal(repair.code, 2, repair.stdout + repair.stderr);
  assert.match(repair.stderr, /no backup state found .*: run a backup first/);
  assert.equal(Deno.statSync(join(stateDir, "state.db")).size, 0);
  assert.deepEqual(fx.logLines(), []);
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await fx.cli("verify")).code, 0);
});

Deno.test("verify --repair on a state a killed first run left empty, its lock record beside it: exit 2, nothing changed", async () => {
  using fx = makeFixture(TREE);
  const stateDir = join(fx.backup, ".backup-tool");
  Deno.mkdirSync(join(stateDir, "tmp"), { recursive: true });
  Deno.writeFileSync(join(stateDir, "state.db"), new Uint8Array(0));
  Deno.writeTextFileSync(join(stateDir, "lock"), DEAD_HOLDER_RECORD);
  const longAgo = new Date("2020-01-02T03:04:05.678Z");
  for (const path of ["lock", "tmp", ""]) Deno.utimeSync(join(stateDir, path), longAgo, longAgo);
  const before = fingerprint(fx.backup);
  const repair = await fx.cli("verify", "--repair");
  assert.equal(repair.code, 2, repair.stdout + repair.stderr);
  assert.match(repair.stderr, /no backup state found .*: run a backup first/);
  assert.deepEqual(fingerprint(fx.backup), before);
  assert.equal(Deno.statSync(stateDir).mtime?.getTime(), longAgo.getTime());
  assert.equal(Deno.statSync(join(stateDir, "lock")).mtime?.getTime(), longAgo.getTime());
  assert.ok(!exists(fx.logs), "a log was made");
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  assert.ok(loggedDeadHolderTakeover(fx.lastLog()), fx.lastLog().join("\n"));
});

Deno.test("verify --repair while a first run holds the lock, nothing committed yet (no state, or one a killed first run left empty): exit 3, not 'no backup'", async () => {
  for (const leftEmpty of [false, true]) {
    using fx = makeFixture(TREE);
    const stateDir = join(fx.backup, ".backup-tool");
    if (leftEmpty) {
      Deno.mkdirSync(stateDir, { recursive: true });
      Deno.writeFileSync(join(stateDir, "state.db"), new Uint8Array(0));
    }
    // Held where it holds the lock and has not opened its state yet.
    await using first = await pausedRun(["run", "--config", fx.config], "locked:1", fx.dir);
    const repair = await fx.cli("verify", "--repair");
    assert.equal(repair.code, 3, `${leftEmpty}: ${repair.stdout}${repair.stderr}`);
    assert.match(repair.stderr, /^Cannot lock backup root: a run \(pid \d+ .*\) holds '/);
    first.resume();
    const done = await first.child.output();
    assert.equal(done.code, 0, new TextDecoder().decode(done.stderr));
    const again = await fx.cli("verify", "--repair");
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /Repair: 0 repaired, 0 not repaired, 0 unknown file\(s\): intact/);
  }
});

Deno.test("another program's database with a user_version of its own, or its commits still in a WAL: refused, left byte for byte", async () => {
  for (const shape of ["versioned", "wal"]) {
    using fx = makeFixture(TREE);
    assert.equal((await fx.cli("run")).code, 0);
    const db = join(fx.backup, ".backup-tool", "state.db");
    Deno.removeSync(db);
    const other = new DatabaseSync(db);
    try {
      if (shape === "wal") {
        other.exec("PRAGMA journal_mode = WAL");
        other.exec("PRAGMA wal_autocheckpoint = 0"); // its commits stay in the WAL
      } else other.exec("PRAGMA user_version = 3");
      other.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)");
      other.exec("INSERT INTO notes (text) VALUES ('mine')");
      const files = () =>
        [...Deno.readDirSync(join(fx.backup, ".backup-tool"))].filter((e) =>
          e.name.startsWith("state")
        )
          .map((e) => [e.name, Deno.readFileSync(join(fx.backup, ".backup-tool", e.name)).length]);
      const before = [Deno.readFileSync(db), files()];
      for (const args of [["run"], ["verify"], ["plan"], ["verify", "--repair"]]) {
        const r = await fx.cli(...args);
        assert.equal(r.code, 2, `${shape} ${args}: ${r.stderr}`);
        assert.match(
          r.stderr,
          /it holds no state of this tool \(another program's SQLite database\)/,
        );
        assert.deepEqual([Deno.readFileSync(db), files()], before, `${shape} ${args}: changed`);
      }
    } finally {
      other.close();
    }
  }
});

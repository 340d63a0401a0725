import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { checkHeaderUnlessEmpty, StateDb, stateProblem, tempFolderVariable } from "./connection.ts";
import { StateStore } from "./store.ts";
import { PreflightError } from "../engine/errors.ts";
import { withDir } from "../engine/test_util.ts";

Deno.test({
  name: "stateProblem: SQLite failing to open a journal swapped for a symlink is the refusal",
  ignore: Deno.build.os === "windows", // symlinks need a privilege there
  fn: withDir((root) => {
    const dir = join(root, ".backup-tool");
    Deno.mkdirSync(dir);
    const db = join(dir, "state.db");
    Deno.writeTextFileSync(db, "");
    Deno.symlinkSync(join(root, "elsewhere"), `${db}-wal`);
    const found = stateProblem(db, new Error("unable to open database file"), true);
    assert.ok(found instanceof PreflightError);
    assert.match(found.message, /'\.backup-tool\/state\.db-wal' is a symlink/);
    // With nothing swapped, not a problem this user can mend: left to the caller.
    Deno.removeSync(`${db}-wal`);
    assert.equal(stateProblem(db, new Error("unable to open database file"), true), undefined);
  }),
});

Deno.test(
  "checkHeaderUnlessEmpty: no state yet where none is there, an empty file or a header with nothing below it; a state is one; another file is refused",
  withDir((dir) => {
    const db = join(dir, "state.db");
    assert.equal(checkHeaderUnlessEmpty(db), true);
    Deno.writeFileSync(db, new Uint8Array(0));
    assert.equal(checkHeaderUnlessEmpty(db), true);
    const sqlite = new DatabaseSync(db);
    sqlite.exec("PRAGMA user_version = 0"); // writes SQLite's header, and nothing else
    sqlite.close();
    assert.ok(Deno.statSync(db).size >= 100);
    assert.equal(checkHeaderUnlessEmpty(db), true);
    StateStore.open(db).close();
    assert.equal(checkHeaderUnlessEmpty(db), false);
    Deno.writeTextFileSync(db, "not a database\n".repeat(300));
    assert.throws(() => checkHeaderUnlessEmpty(db), /file is not a database/);
  }),
);

Deno.test("tempFolderVariable: the remedy names the variable each system takes its temporary folder from", () => {
  assert.equal(tempFolderVariable("windows"), "TMP"); // GetTempPath2W reads TMP, then TEMP
  assert.equal(tempFolderVariable("linux"), "TMPDIR");
  assert.equal(tempFolderVariable("darwin"), "TMPDIR");
});

Deno.test(
  "a writer's connection flushes commits and checkpoints through the drive's cache (macOS: F_FULLFSYNC)",
  withDir((dir) => {
    const db = StateDb.open(join(dir, "state.db"), false);
    try {
      assert.equal((db.q("PRAGMA fullfsync").get() as { fullfsync: number }).fullfsync, 1);
      const checkpoint = db.q("PRAGMA checkpoint_fullfsync").get() as {
        checkpoint_fullfsync: number;
      };
      assert.equal(checkpoint.checkpoint_fullfsync, 1);
    } finally {
      db.close();
    }
  }),
);

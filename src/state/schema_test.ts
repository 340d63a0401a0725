/**
 * Schema migrations on real SQLite files: a state written by an older version of the tool
 * opens with its data intact and answers as a new one does; a newer one is refused.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { migrate, SCHEMA_VERSION } from "./schema.ts";
import { StateStore } from "./store.ts";
import { CURRENT_BY_HASH, KEPT_INDEX, STORED_BY_HASH } from "./stored_copies.ts";

const H = "ab".repeat(32);

/** A state at schema version 1, as the first releases wrote it. */
function writeVersion1(file: string): void {
  const db = new DatabaseSync(file);
  migrate(db, file, 1);
  const copy = db.prepare(
    `INSERT INTO copies (id, path, seq, kind, hash, algo, size, mtime_ms, mode, location,
       stored_at, valid_from, valid_to, run_id) VALUES (?, ?, ?, ?, ?, 'sha256', 1, 1, 420, ?, ?,
       1, ?, 1)`,
  );
  const file_ = db.prepare(
    `INSERT INTO files (path, copy_id, kind, hash, algo, size, mtime_ms, ctime_ms, ino, dev,
       mode, trusted, status) VALUES (?, ?, ?, ?, 'sha256', 1, 1, 1, 1, 1, 420, 1, 'current')`,
  );
  copy.run(1, "src/a", 1, "file", H, "latest", "a", null);
  file_.run("src/a", 1, "file", H);
  copy.run(2, "src/b", 1, "file", H, "version", "versions/b/v1.bak", 5);
  copy.run(3, "src/b", 2, "file", "cd".repeat(32), "latest", "b", null);
  file_.run("src/b", 3, "file", "cd".repeat(32));
  copy.run(4, "src/c", 1, "symlink", H, "latest", "c", null);
  file_.run("src/c", 4, "symlink", H);
  db.close();
}

function indexes(file: string): string[] {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
      .all() as { name: string }[]).map((r) => r.name).sort();
  } finally {
    db.close();
  }
}

Deno.test("schema: a version 1 state is migrated and answers as a new one", () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-schema-" });
  try {
    const file = join(dir, "state.db");
    writeVersion1(file);
    assert.ok(indexes(file).includes("files_by_hash"));
    // Read-only (plan, restore, verify), it is answered through its own index, unchanged.
    const reader = StateStore.open(file, { readOnly: true });
    assert.deepEqual(reader.planView().holdersOf(H, "sha256"), ["src/a"]);
    reader.close();
    assert.ok(indexes(file).includes("files_by_hash"));
    for (let open = 0; open < 2; open++) {
      const store = StateStore.open(file);
      try {
        // Only src/a holds H now: src/b's copy with it is a version, src/c is a link.
        assert.deepEqual(store.planView().holdersOf(H, "sha256"), ["src/a"]);
        assert.equal(store.trackedCount(), 3);
      } finally {
        store.close();
      }
    }
    const names = indexes(file);
    assert.ok(names.includes("copies_by_hash") && !names.includes("files_by_hash"), `${names}`);
    const db = new DatabaseSync(file, { readOnly: true });
    assert.equal(
      (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version,
      SCHEMA_VERSION,
    );
    // Migrated with no exclusion that ended: none was recorded (schema 8).
    assert.equal(
      (db.prepare("SELECT count(*) AS n FROM ended_exclusions").get() as { n: number }).n,
      0,
    );
    db.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("schema: a state from a newer version is refused, unchanged", () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-schema-" });
  try {
    const file = join(dir, "state.db");
    const db = new DatabaseSync(file);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const before = Deno.readFileSync(file);
    for (const readOnly of [false, true]) {
      assert.throws(
        () => StateStore.open(file, { readOnly }),
        /schema version \d+ is newer .*: upgrade the tool/,
      );
    }
    assert.deepEqual(Deno.readFileSync(file), before);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["state.db"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

/** The indexes SQLite's plan for `sql` searches (`EXPLAIN QUERY PLAN`), or "SCAN" lines. */
function searches(file: string, sql: string): string[] {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(H, "sha256") as { detail: string }[];
    return rows.map((r) => r.detail).filter((d) => /^(SEARCH|SCAN) copies/.test(d));
  } finally {
    db.close();
  }
}

Deno.test("schema: the kept copies' index is no migration's; made, the state opens and reads as before", () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-schema-" });
  try {
    const file = join(dir, "state.db");
    writeVersion1(file);
    let store = StateStore.open(file); // migrated: no kept copies' index
    assert.ok(!indexes(file).includes(KEPT_INDEX), `${indexes(file)}`);
    // Current copies only, src/b's version passed over: no scan of the copies table.
    assert.deepEqual(store.planView().storedCopiesOf?.(H, "sha256"), ["a"]);
    store.keepKeptCopiesIndex();
    store.keepKeptCopiesIndex(); // made once: IF NOT EXISTS
    assert.deepEqual(store.planView().storedCopiesOf?.(H, "sha256"), ["a", "versions/b/v1.bak"]);
    store.close();
    assert.ok(indexes(file).includes(KEPT_INDEX));
    assert.deepEqual(searches(file, CURRENT_BY_HASH), [
      "SEARCH copies USING INDEX copies_by_hash (<expr>=?)",
    ]);
    assert.deepEqual(searches(file, STORED_BY_HASH), [
      "SEARCH copies USING INDEX copies_by_hash (<expr>=?)",
      `SEARCH copies USING INDEX ${KEPT_INDEX} (<expr>=?)`,
    ]);
    // The schema version stays: a tool that knows nothing of the index opens the state,
    // writes it (SQLite keeps the index up) and finds nothing wrong in it.
    const db = new DatabaseSync(file, { readOnly: true });
    assert.equal(
      (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version,
      SCHEMA_VERSION,
    );
    db.close();
    for (const readOnly of [true, false]) {
      store = StateStore.open(file, { readOnly });
      assert.equal(store.trackedCount(), 3);
      assert.deepEqual(store.integrityProblems(10), []);
      assert.deepEqual(store.planView().storedCopiesOf?.(H, "sha256"), ["a", "versions/b/v1.bak"]);
      store.close();
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

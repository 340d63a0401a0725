/**
 * Schema migrations on real SQLite files: a state written by an older version of the tool
 * opens with its data intact and answers as a new one does; a newer one is refused.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { migrate, SCHEMA_VERSION } from "./schema.ts";
import { StateStore } from "./store.ts";

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

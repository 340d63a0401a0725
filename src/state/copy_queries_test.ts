/**
 * `deletedBefore`, the query `retention.keep_deleted_days` makes at each full pass: the
 * copies of deleted files deleted before a time, in path order, and none other; read in one
 * pass over the copies, not through their index by path, whose every entry would then cost
 * a look-up of its row. Real SQLite databases in temporary folders.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { DELETED_BEFORE } from "./copy_queries.ts";
import { StateStore } from "./store.ts";

/** A copy's row: path, seq, location, stored_at, valid_to. */
type Copy = [string, number, string, string | null, number | null];

/** Runs `fn` with a state holding `copies`, then removes it. */
function withCopies(copies: Copy[], fn: (store: StateStore, file: string) => void): void {
  const dir = Deno.makeTempDirSync({ prefix: "bt-copies-" });
  const file = join(dir, "state.db");
  try {
    StateStore.open(file).close(); // the schema
    const db = new DatabaseSync(file);
    const insert = db.prepare(
      `INSERT INTO copies (path, seq, kind, hash, algo, size, mtime_ms, mode, location,
       stored_at, valid_from, valid_to, run_id) VALUES (?, ?, 'file', 'ab', 'sha256', 3, 1,
       420, ?, ?, 1, ?, 1)`,
    );
    for (const c of copies) insert.run(...c);
    db.close();
    const store = StateStore.open(file, { readOnly: true });
    try {
      fn(store, file);
    } finally {
      store.close();
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("deletedBefore: the deleted files' copies deleted before the time, in path order, and none other", () => {
  const copies: Copy[] = [
    ["src/b", 1, "deleted", "_deleted/b", 50],
    ["src/a", 3, "deleted", "_deleted/a.~2", 90],
    ["src/a", 1, "deleted", "_deleted/a", 10],
    ["src/a", 4, "deleted", "_deleted/a.~3", 100], // at the time: kept
    ["src/c", 1, "version", "versions/c/v1.bak", 10],
    ["src/c", 2, "latest", "c", null],
    ["src/d", 1, "lost", null, 10],
    ["src/e", 1, "pruned", null, 10],
    ["src/f", 1, "deleted", "_deleted/f", null],
  ];
  withCopies(copies, (store) => {
    assert.deepEqual(store.deletedBefore(100).map((c) => [c.path, c.seq, c.storedAt]), [
      ["src/a", 1, "_deleted/a"],
      ["src/a", 3, "_deleted/a.~2"],
      ["src/b", 1, "_deleted/b"],
    ]);
  });
});

Deno.test("deletedBefore: one pass over the copies, not a walk of their index by path", () => {
  withCopies([], (_, file) => {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${DELETED_BEFORE}`).all(0)
        .map((r) => String(r.detail));
      assert.ok(plan.some((d) => /^SCAN copies$/.test(d)), plan.join("; "));
      assert.ok(!plan.some((d) => /INDEX/.test(d)), plan.join("; "));
    } finally {
      db.close();
    }
  });
});

/**
 * `stats` reads one snapshot of the state: a run that commits while it reads (stats takes
 * no lock) changes none of its figures halfway. A store whose first page of sums is
 * followed by a commit on another connection (a change to every stored content's size),
 * with the state in WAL (the read transaction) and in a rollback journal (read again once
 * the state changed): the stored bytes and the distinct contents' bytes, read by separate
 * statements, agree, as they do in a quiet state.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { loadConfig } from "../src/config/config.ts";
import { openState } from "../src/restore/open.ts";
import { type Stats, statsRequest } from "../src/restore/stats.ts";
import { totalOf } from "../src/restore/stats_tally.ts";
import type { StateStore } from "../src/state/store.ts";
import { type Fixture, makeFixture } from "./helpers.ts";
import { ok } from "./restore_helpers.ts";

/** Three files of distinct contents (6 + 7 + 8 bytes), backed up once. */
async function backedUp(): Promise<Fixture> {
  const fx = makeFixture({ "a.txt": "alpha\n", "b.txt": "bravo!\n", "c.txt": "charlie\n" });
  await ok(fx, "run");
  return fx;
}

/**
 * `stats` of everything, with a commit on another connection (every file's content 1000
 * bytes bigger) right after its first page of sums is read, the state in `journal`.
 */
function statsWhileCommitting(fx: Fixture, journal: "wal" | "delete"): Stats {
  const writer = new DatabaseSync(join(fx.backup, ".backup-tool", "state.db"));
  writer.exec(`PRAGMA busy_timeout = 5000; PRAGMA journal_mode = ${journal}`);
  let committed = false;
  const open = (config: Parameters<typeof openState>[0]): StateStore => {
    const store = openState(config);
    return new Proxy(store, {
      get(target, key) {
        const value = Reflect.get(target, key, target);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          const result = value.apply(target, args);
          if (key === "storedSumsPage" && !committed) {
            committed = true;
            writer.exec("UPDATE copies SET size = size + 1000 WHERE kind = 'file'");
          }
          return result;
        };
      },
    });
  };
  try {
    return statsRequest(loadConfig(fx.config), { paths: [], top: 10 }, () => {}, open);
  } finally {
    writer.close();
    assert.ok(committed, "the commit was made while stats read");
  }
}

for (const journal of ["wal", "delete"] as const) {
  Deno.test(`stats: a commit while it reads (${journal} journal) leaves its figures agreeing`, async () => {
    using fx = await backedUp();
    const s = statsWhileCommitting(fx, journal);
    assert.equal(s.distinct.contents, 3);
    assert.equal(totalOf(s.tally).bytes, s.distinct.bytes, JSON.stringify(s));
    // In WAL, the snapshot its first page began, before the commit; else read again after.
    assert.equal(s.distinct.bytes, journal === "wal" ? 21 : 3021);
    // The commit took: read afterwards, every figure has it.
    const after = JSON.parse(await ok(fx, "stats", "--json"));
    assert.equal(after.total.bytes, 3021);
    assert.equal(after.distinct.bytes, 3021);
  });
}

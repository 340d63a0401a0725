/**
 * A reader's several statements on one snapshot of the state, for figures that must agree
 * with one another (`stats`), while a run may commit: a reader takes no lock. In WAL,
 * inside one read transaction (BEGIN … COMMIT), begun by its first read: the run's commits
 * go on beside it, unseen. Elsewhere a read transaction would keep a run's commit waiting
 * for as long as it lasts (connection.ts), so the statements run on their own and all run
 * again where another connection committed meanwhile (`PRAGMA data_version`), up to
 * SNAPSHOT_TRIES readings, the last given as it is; and again too where the connection was
 * replaced meanwhile (reader_reopen.ts: a journal switched), which ends its transaction.
 * Reads only: an interruption leaves nothing.
 */
import type { DatabaseSync } from "node:sqlite";

/** Readings made at most where no WAL keeps a snapshot (a run's commits are seconds apart). */
const SNAPSHOT_TRIES = 4;

/** `fn`'s result, read on one snapshot of the connection `current()` gives (see above). */
export function readSnapshot<T>(current: () => DatabaseSync, fn: () => T): T {
  for (let tries = 1;; tries++) {
    const db = current();
    const wal = pragma(db, "journal_mode") === "wal";
    const before = wal ? undefined : pragma(db, "data_version");
    if (wal) db.exec("BEGIN");
    let result: T;
    try {
      result = fn();
    } finally {
      // A connection replaced meanwhile was closed, its transaction with it.
      if (current() === db && db.isTransaction) db.exec("COMMIT");
    }
    const same = current() === db &&
      (wal || (before !== undefined && pragma(db, "data_version") === before));
    if (same || tries >= SNAPSHOT_TRIES) return result;
  }
}

/** A pragma's value on `db`, undefined where it cannot be read (a journal switching). */
function pragma(db: DatabaseSync, name: "journal_mode" | "data_version"): unknown {
  try {
    return Object.values(db.prepare(`PRAGMA ${name}`).get() ?? {})[0];
  } catch {
    return undefined;
  }
}

/**
 * A reader's statements that outlive a writer's switch of journal. A run opens the state
 * into WAL and closes it out of WAL, which removes the -wal and -shm files; a reader
 * (`history`, `restore`, `verify`, `plan`) that reaches the state in that moment finds the
 * header saying WAL and no -shm to map read-only, and SQLite fails the statement with
 * "unable to open database file", then every later one on that connection, the state
 * whole (or, where the writer has not built the WAL's index yet, "attempt to write a
 * readonly database"). A reader keeps to one statement at a time and holds no transaction
 * between them (connection.ts), so a new connection loses nothing: the statement is run
 * again on one, after a short pause, a few times, before its error is given; a reader's
 * open that fails so is tried again the same way (`whileSwitching`). Reads only; an
 * interruption leaves nothing.
 */
import type { StatementSync } from "node:sqlite";
import { errorText } from "../engine/errors.ts";
import { sleepSync } from "../engine/sleep_sync.ts";

/**
 * Pauses (ms) before each new connection: a writer's switch takes a few milliseconds, and
 * "unable to open database file" may also mean what no pause mends (out of descriptors, a
 * folder gone), whose error then comes 0.4 s late.
 */
const PAUSES_MS = [2, 5, 10, 20, 50, 100, 200];

/** SQLite's SQLITE_CANTOPEN, as node:sqlite words it: no -shm to map, the moment a WAL is. */
function cannotOpen(e: unknown): boolean {
  return /unable to open database file/i.test(errorText(e));
}

/**
 * What SQLite answers a statement in the moment a writer switches the journal: no -shm to
 * map (`cannotOpen`), or a WAL index not yet built, which a read-only connection may not
 * build (SQLITE_READONLY_RECOVERY, _CANTINIT: "attempt to write a readonly database"; seen
 * once in a CI run of reader_reopen_test.ts).
 */
function switching(e: unknown): boolean {
  return cannotOpen(e) || /attempt to write a readonly database/i.test(errorText(e));
}

/**
 * `open()`, tried again after each of PAUSES_MS where it failed as a writer's switch makes
 * a reader's open fail (`cannotOpen`: its first read found the header saying WAL and no
 * -shm yet). Where a read-only connection may not read (a hot journal, an index to
 * rebuild), the caller opens a private copy instead (connection.ts), at once.
 */
export function whileSwitching<T>(open: () => T): T {
  for (let attempt = 0;; attempt++) {
    try {
      return open();
    } catch (e) {
      if (attempt >= PAUSES_MS.length || !cannotOpen(e)) throw e;
      sleepSync(PAUSES_MS[attempt]);
    }
  }
}

/** Rows as arrays or objects (node:sqlite has it; Deno's types do not name it yet). */
function setReturnArrays(stmt: StatementSync, on: boolean): void {
  (stmt as unknown as { setReturnArrays(on: boolean): void }).setReturnArrays(on);
}

/**
 * `sql`'s statement, as `current` prepares it on the reader's connection now, whose `get`,
 * `all` and `run` open a new connection (`reopen`) and run again where SQLite could not
 * open the state; one for each SQL text, kept as the connection keeps its statements.
 */
export function reopening(current: () => StatementSync, reopen: () => void): StatementSync {
  let arrays = false;
  const retried = (name: "get" | "all" | "run") => (...args: unknown[]) => {
    for (let attempt = 0;; attempt++) {
      try {
        if (attempt > 0) reopen();
        const stmt = current() as unknown as Record<typeof name, (...a: unknown[]) => unknown>;
        if (attempt > 0) setReturnArrays(current(), arrays);
        return stmt[name](...args);
      } catch (e) {
        if (attempt >= PAUSES_MS.length || !switching(e)) throw e;
        sleepSync(PAUSES_MS[attempt]);
      }
    }
  };
  const retrying = {
    get: retried("get"),
    all: retried("all"),
    run: retried("run"),
    iterate: (...args: unknown[]) =>
      (current() as unknown as { iterate(...a: unknown[]): unknown }).iterate(...args),
    setReturnArrays(on: boolean) {
      arrays = on;
      setReturnArrays(current(), on);
    },
  };
  // What the state's modules call (a plain object: a Proxy made plan 20% slower).
  return retrying as unknown as StatementSync;
}

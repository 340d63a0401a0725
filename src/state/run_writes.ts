/**
 * The state's writes on a session's row (a `run`, `watch` session or `verify --repair`) and
 * the sources it backs up: the row and the sources recorded at its start, marked once a
 * commit records part of its work or (a watch) once its first full pass is done, and
 * finished with its status and summary. Each is one statement, or the caller's transaction
 * (store.ts): an interruption leaves the row as the last of them left it, `running` or
 * `committed` for a session cut short, which `cutRuns` (run_queries.ts) tells.
 */
import { assignPrefixes } from "../core/layout.ts";
import type { StateDb } from "./connection.ts";
import { prefixes } from "./queries.ts";
import { AFTER_COMMIT, COMMITTED, FOLLOWING } from "./run_queries.ts";

/**
 * Records the sources (their storage prefixes assigned, see `assignPrefixes`) and a new
 * running session; returns each source's prefix and the session's id. Run inside the
 * caller's transaction.
 */
export function insertRun(
  db: StateDb,
  command: string,
  sources: { name: string; path: string }[],
  now: number,
): { prefixes: Map<string, string>; runId: number } {
  const assigned = registerSources(db, sources, now);
  const r = db.q("INSERT INTO runs (command, started_at, status) VALUES (?, ?, 'running')")
    .run(command, now);
  return { prefixes: assigned, runId: Number(r.lastInsertRowid) };
}

/**
 * Records the sources (a new one with its storage prefix, a known one at its folder now);
 * returns every known source's prefix. Run inside the caller's transaction.
 */
export function registerSources(
  db: StateDb,
  sources: { name: string; path: string }[],
  now: number,
): Map<string, string> {
  const known = prefixes(db);
  const assigned = assignPrefixes(known, sources.map((s) => s.name));
  for (const s of sources) {
    if (known.has(s.name)) {
      db.q("UPDATE sources SET path = ? WHERE name = ?").run(s.path, s.name);
    } else {
      db.q("INSERT INTO sources (name, prefix, path, added_at) VALUES (?, ?, ?, ?)")
        .run(s.name, assigned.get(s.name)!, s.path, now);
    }
  }
  return assigned;
}

/**
 * A session's row once a commit recorded part of its work: `committed` while it runs (a
 * run's; a watch that follows already stays as it is), `<end> after commit` for one that
 * ended short (failed, stopped) and whose batch the next session's recovery recorded. Run in
 * the commit's transaction.
 */
export function markCommitted(db: StateDb, runId: number): void {
  db.q(
    `UPDATE runs SET status = CASE
    WHEN status = 'running' THEN '${COMMITTED}'
    WHEN status IN ('stopped', 'failed') THEN status || '${AFTER_COMMIT}'
    ELSE status END
  WHERE id = ?`,
  ).run(runId);
}

/** A watch session's first full pass is done (see `StateStore.markFollowing`). */
export function markFollowing(db: StateDb, runId: number): void {
  db.q(`UPDATE runs SET status = '${FOLLOWING}' WHERE id = ?`).run(runId);
}

/** Ends a session's row; one that ends short (stopped, failed) after a commit keeps saying so. */
export function finishRun(
  db: StateDb,
  id: number,
  status: string,
  summary: unknown,
  now: number,
): void {
  db.q(
    `UPDATE runs SET finished_at = ?1, summary = ?3, status = CASE
       WHEN status = '${COMMITTED}' AND ?2 NOT IN ('ok', 'partial')
       THEN ?2 || '${AFTER_COMMIT}'
       ELSE ?2 END
     WHERE id = ?4`,
  ).run(now, status, JSON.stringify(summary), id);
}

/**
 * A watch session's full pass whose prunes the clock guard of `keep_deleted_days` did not
 * hold back (deleted_guard.ts): its time, in the row's summary while the session runs (its
 * end writes the session's totals there, which carry it too), so that a session killed
 * after weeks of watching vouches for its last full pass (`vouchedRunTimes`). Left alone
 * once the session's end is recorded.
 */
export function markFullPassAt(db: StateDb, runId: number, at: number): void {
  db.q(
    `UPDATE runs SET summary = json_object('lastFullPassAt', ?)
     WHERE id = ? AND finished_at IS NULL`,
  ).run(at, runId);
}

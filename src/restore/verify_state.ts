/**
 * Verify's check of the state itself, before it trusts what the state says: SQLite's
 * integrity check reads every page, record and index entry. Verify otherwise reads only
 * the copies' table and the storage index, so a page overwritten elsewhere (a disk fault
 * in the tracked files' table or in another index) would pass as intact while restore,
 * history and the next run fail on it. A damaged state is said as it is at open (exit 2,
 * the file named, what to do), before anything is checked, locked or written. Reads only:
 * an interruption leaves nothing.
 */
import type { Config } from "../config/config.ts";
import { PreflightError } from "../engine/errors.ts";
import { statePaths } from "../engine/session/session.ts";
import { checkHeaderUnlessEmpty } from "../state/connection.ts";
import { damagedStateMessage, saysDamaged } from "../state/damage.ts";
import { NoStateYet } from "../state/schema.ts";
import { StateStore } from "../state/store.ts";
import { runningNow } from "./open.ts";

/** At most this many of the integrity check's lines are said. */
const PROBLEMS_SAID = 3;

/** Exit code 2, naming the file, when the state open as `store` at `file` is damaged. */
export function requireIntactState(store: StateStore, file: string): void {
  let problems: string[];
  try {
    problems = store.integrityProblems(PROBLEMS_SAID + 1);
  } catch (e) {
    if (!(e instanceof Error) || !saysDamaged(e.message)) throw e;
    problems = [e.message];
  }
  if (problems.length === 0) return;
  const said = problems.slice(0, PROBLEMS_SAID).join("; ");
  const more = problems.length > PROBLEMS_SAID ? "; and more" : "";
  throw new PreflightError(
    damagedStateMessage(file, `its integrity check found: ${said}${more}`),
  );
}

/**
 * For `verify --repair`, before its session takes the lock or writes to the state: the
 * state opened read-only and checked, where there is one with a backup in it (none, or an
 * empty one, is the session's to say). Where the check fails while another process holds
 * the backup root's lock (a run writing the state, which a reader through a backup root
 * mounted again read-only cannot share: "database is locked", "unable to open database
 * file"; or reads of a private copy made while it changed), that is the session's to say
 * too: the lock's holder, exit 3, nothing changed.
 */
export function requireIntactStateBeforeRepair(config: Config): void {
  const { db } = statePaths(config.backupRoot);
  if (checkHeaderUnlessEmpty(db)) return;
  let store: StateStore;
  try {
    store = StateStore.open(db, { readOnly: true });
  } catch (e) {
    if (e instanceof NoStateYet || runningNow(config) !== undefined) return;
    throw e;
  }
  try {
    requireIntactState(store, db);
  } catch (e) {
    if (runningNow(config) === undefined) throw e;
  } finally {
    store.close();
  }
}

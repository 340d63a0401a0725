/**
 * The connection to the state database: opening it (pragmas, migration, journal mode),
 * closing it, one prepared statement per SQL text, and transactions. The other state
 * modules reach SQLite only through it.
 *
 * WAL is used where the filesystem allows it; elsewhere (FUSE and network file systems,
 * blocks smaller than a memory page, and where SQLite refuses it) a rollback journal kept
 * for the session (PERSIST; the choice: journal_mode.ts). `synchronous = FULL` (and on macOS
 * `fullfsync`): a committed batch survives a power cut, which matters because its files
 * are already in place. An interruption leaves the last committed transaction, and the
 * -wal and -shm files or the kept -journal, which SQLite replays or rolls back at the next
 * open and a writer's `close` removes. Readers map the -shm read-only (`openReader`), so
 * that they leave it as the crash left it.
 *
 * The writer (a run, which holds the backup root's lock, so no other connection writes)
 * reads inside one read transaction, begun by the first read and ended by the next write
 * or `endRead`: a statement run on its own takes and drops SQLite's file locks (several
 * fcntl calls, and a look at the file's header), which cost 9-19 µs a lookup here against
 * 1-2 µs inside a transaction (measured on a 100,000-file state, WAL and rollback journal
 * alike), and a run's planner looks paths up thousands of times. Readers (`plan`,
 * `restore`, `verify`) keep to one statement at a time: a read transaction held for the
 * length of a restore would keep a run's commit waiting where there is no WAL (`stats`
 * takes one for its figures in WAL only: read_snapshot.ts); so a
 * reader's connection that a run's switch into WAL or out of it left unable to open the
 * state is replaced by a new one between two statements (reader_reopen.ts).
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { basename, dirname, join } from "node:path";
import { errorText, PreflightError } from "../engine/errors.ts";
import { checkStateFolder } from "../engine/session/state_folder.ts";
import { isMissing } from "../engine/fs/fsops.ts";
import { makeCopyDir } from "./copy_dir.ts";
import { openReader } from "./open_reader.ts";
import { reopening, whileSwitching } from "./reader_reopen.ts";
import { noteStateOpened, saysDamaged } from "./damage.ts";
import { checkHeader, damagedState, migrate, NoStateYet, stateVersion } from "./schema.ts";
import { useJournalFor } from "./journal_mode.ts";
import { readSnapshot } from "./read_snapshot.ts";

/** Connections given up on (`StateDb.abandon`): referenced until the process ends. */
const ABANDONED: DatabaseSync[] = [];

export class StateDb {
  #db: DatabaseSync;
  readonly #readOnly: boolean;
  /** The state a reader of it (not of a private copy) opens anew (see reader_reopen.ts). */
  readonly #readerOf?: string;
  readonly #stmts = new Map<string, { stmt: StatementSync; reads: boolean }>();
  /** A reader's statements, each run again on a new connection where need be. */
  readonly #reopening = new Map<string, StatementSync>();
  /** A read transaction this writer began (see the module's comment) is open. */
  #reading = false;
  /** The schema version the database is at (a read-only one is not migrated). */
  readonly version: number;

  /** A private copy of the state this reader opened instead (see `openCopy`), removed at close. */
  readonly #copyDir?: string;

  private constructor(
    db: DatabaseSync,
    readOnly: boolean,
    version: number,
    copyDir?: string,
    readerOf?: string,
  ) {
    this.#db = db;
    this.#readOnly = readOnly;
    this.version = version;
    this.#copyDir = copyDir;
    this.#readerOf = readerOf;
  }

  static open(file: string, readOnly: boolean): StateDb {
    try {
      if (!readOnly) return StateDb.#open(file, false);
      try {
        return whileSwitching(() => StateDb.#open(file, true));
      } catch (e) {
        if (!needsWriteToRead(e)) throw e;
        return StateDb.#openCopy(file);
      }
    } catch (e) {
      throw stateProblem(file, e, !readOnly) ?? e;
    }
  }

  /**
   * A private copy of the state, changed without changing the backup root: what `plan`
   * reads after a crash, with the interrupted run's journaled work recorded in it, as the
   * next run's recovery will. A copy of an older version's state is migrated first, as
   * that run will migrate the state, so that the work is recorded as this version records
   * it; the state itself keeps its version. Removed at close.
   */
  static openPrivateCopy(file: string): StateDb {
    return StateDb.#openCopy(file, true);
  }

  /**
   * A reader of a state a crash left mid-transaction: a hot rollback journal (the switch
   * to or from WAL, a migration, or every commit where WAL is not used) can only be rolled
   * back by a writer ("attempt to write a readonly database"). `restore`, `verify` and
   * `plan` change nothing in the backup root, so they open a private copy of the state
   * and its journals instead, where SQLite rolls back what the crash left unfinished, as
   * the next run will; the copy is removed at close.
   */
  static #openCopy(file: string, migrated = false): StateDb {
    let dir: string;
    try {
      dir = makeCopyDir();
    } catch (e) {
      const folder = tempFolderSet();
      // Deno's words end with the call (": tmpdir"): the folder is named instead, where set.
      throw new PreflightError(
        `Cannot make a private copy of the state in the temporary folder${
          folder === undefined ? "" : ` '${folder}'`
        }: ${errorText(e).replace(/: tmpdir$/, "")}: ` +
          `set ${tempFolderVariable()} to a folder you can write to`,
      );
    }
    try {
      for (const suffix of ["", "-journal", "-wal"]) {
        try {
          Deno.copyFileSync(`${file}${suffix}`, join(dir, `${basename(file)}${suffix}`));
        } catch (e) {
          if (!(e instanceof Deno.errors.NotFound) || suffix === "") throw e;
        }
      }
      const copy = StateDb.#open(join(dir, basename(file)), false, true, file);
      return new StateDb(copy.#db, true, migrated ? copy.#migrated(file) : copy.version, dir);
    } catch (e) {
      Deno.removeSync(dir, { recursive: true });
      throw e;
    }
  }

  static #open(file: string, readOnly: boolean, asReader = readOnly, original = file): StateDb {
    // Refused from its header, before SQLite opens it: a writer's connection would copy a
    // WAL into another program's database as it closed (a state just made is empty).
    if (asReader) checkHeader(original);
    else checkHeaderUnlessEmpty(file);
    noteStateOpened(original);
    const db = readOnly ? openReader(file) : new DatabaseSync(file);
    let version: number;
    try {
      waitForLocks(db);
      if (asReader) {
        version = stateVersion(db, original);
      } else {
        db.exec("PRAGMA synchronous = FULL");
        // On macOS a plain fsync leaves the data in the drive's cache, which may write it
        // late and out of order: commits and checkpoints flush it through (F_FULLFSYNC), as
        // the batches' copies are (barrier_flush.ts). SQLite heeds these on Apple systems
        // only; elsewhere its fsync already does so.
        db.exec("PRAGMA fullfsync = ON; PRAGMA checkpoint_fullfsync = ON");
        // Before WAL mode, which rewrites the file's header: a refused state stays as it was.
        version = migrate(db, file);
        useJournalFor(db, file);
      }
    } catch (e) {
      db.close();
      throw e;
    }
    return new StateDb(db, readOnly, version, undefined, readOnly ? file : undefined);
  }

  /** A reader's new connection, in place of one SQLite could no longer open the state on. */
  #reopenReader(file: string): void {
    const db = openReader(file);
    waitForLocks(db);
    const old = this.#db;
    this.#db = db;
    this.#stmts.clear();
    try {
      old.close();
    } catch { /* closed already */ }
  }

  /** Migrates this private copy of `file` to the current schema; closed if that fails. */
  #migrated(file: string): number {
    try {
      return migrate(this.#db, file);
    } catch (e) {
      this.#db.close();
      throw e;
    }
  }

  /**
   * Closes the database. A writer first leaves WAL mode (which checkpoints and removes the
   * -wal and -shm files) or its kept rollback journal (which removes it): a read-only
   * reader of a WAL database must create those files and cannot remove them, so `plan`,
   * `restore` and `verify` would otherwise change the backup root. If another connection
   * is open, the database simply stays in WAL mode.
   */
  close(): void {
    if (!this.#readOnly) {
      this.endRead();
      try {
        this.#db.exec("PRAGMA journal_mode = DELETE");
      } catch { /* busy: another connection; WAL stays, which is safe */ }
    }
    this.#db.close();
    if (this.#copyDir) Deno.removeSync(this.#copyDir, { recursive: true });
  }

  /**
   * Keeps the connection open until the process exits (which closes its files without
   * SQLite's clean-up): closing it would checkpoint and remove the -wal and -shm files by
   * their path, which may name another run's files now. Held here so that it is never
   * collected (and closed) meanwhile.
   */
  abandon(): void {
    ABANDONED.push(this.#db);
  }

  /**
   * The statement for `sql`, prepared once and kept for the life of the connection. The
   * writer runs a read in its read transaction (begun here if none is open), and anything
   * else outside one, so that a write not in `tx` is committed on its own, as SQLite does.
   */
  q(sql: string): StatementSync {
    const file = this.#readerOf;
    if (file !== undefined) {
      let stmt = this.#reopening.get(sql);
      if (!stmt) {
        stmt = reopening(() => this.#prepared(sql).stmt, () => this.#reopenReader(file));
        this.#reopening.set(sql, stmt);
      }
      return stmt;
    }
    const s = this.#prepared(sql);
    if (this.#readOnly) return s.stmt;
    if (!s.reads) this.endRead();
    else if (!this.#db.isTransaction) {
      this.#db.exec("BEGIN");
      this.#reading = true;
    }
    return s.stmt;
  }

  /** `sql`'s statement on the connection now, and whether it only reads. */
  #prepared(sql: string): { stmt: StatementSync; reads: boolean } {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = { stmt: this.#db.prepare(sql), reads: /^\s*(SELECT|WITH)\b/i.test(sql) };
      this.#stmts.set(sql, s);
    }
    return s;
  }

  /**
   * Ends the writer's read transaction, if one is open: before a write, at close, and at
   * the end of a pass (a watch then holds no snapshot, nor a lock, while it waits).
   */
  endRead(): void {
    if (!this.#reading) return;
    this.#reading = false;
    if (this.#db.isTransaction) this.#db.exec("COMMIT");
  }

  /** Rows as arrays, not objects: about 3x faster to read for large pages (measured). */
  arrays<R>(sql: string, ...params: (string | number)[]): R[] {
    const stmt = this.q(sql);
    const arrays = stmt as unknown as { setReturnArrays(on: boolean): void };
    arrays.setReturnArrays(true);
    try {
      return stmt.all(...params) as unknown as R[];
    } finally {
      arrays.setReturnArrays(false);
    }
  }

  /** Runs a reader's `fn` on one snapshot of the state (read_snapshot.ts). */
  readSnapshot<T>(fn: () => T): T {
    return readSnapshot(() => this.#db, fn);
  }

  /** Runs `fn` in one write transaction: committed whole, or rolled back whole. */
  tx<T>(fn: () => T): T {
    this.endRead();
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      this.#db.exec("COMMIT");
      return result;
    } catch (e) {
      // A failed COMMIT (a full disk) has rolled back already: keep its error, not this.
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw e;
    }
  }
}

/**
 * A state that cannot be opened (or, `writing`, written) for a reason the user must fix,
 * as a configuration error (exit 2) naming the file and what to do; undefined for other
 * errors. The first write is a run's `beginRun`: SQLite opens a file it may only read
 * without a word and refuses the first write.
 */
export function stateProblem(
  file: string,
  e: unknown,
  writing: boolean,
): PreflightError | undefined {
  if (e instanceof PreflightError) return e; // worded already (schema.ts, the copy's folder)
  const detail = errorText(e);
  if (saysDamaged(detail)) {
    return damagedState(file, detail);
  }
  // A symlink or FIFO put in place of a journal after the state folder was checked.
  if (/unable to open database file/i.test(detail)) {
    const swapped = stateFolderProblem(file, writing);
    if (swapped) return swapped;
  }
  const denied = e instanceof Deno.errors.PermissionDenied ||
    /attempt to write a readonly database|permission denied/i.test(detail) ||
    (/unable to open database file/i.test(detail) && !mayOpen(file, writing));
  if (!denied) return undefined;
  return new PreflightError(
    writing
      ? `Cannot write backup state '${file}': ${detail}: run as the user who owns the ` +
        "backup root, or give this one write access to its folder and files"
      : `Cannot read backup state '${file}': ${detail}: run as a user who can read it`,
  );
}

/** What `checkStateFolder` finds wrong with the state folder holding `file` now. */
function stateFolderProblem(file: string, writing: boolean): PreflightError | undefined {
  try {
    checkStateFolder(dirname(dirname(file)), dirname(file), { reading: !writing });
    return undefined;
  } catch (e) {
    return e instanceof PreflightError ? e : undefined;
  }
}

/**
 * Whether this user may open `file` (to write, `writing`): SQLite's "unable to open database
 * file" also stands for too many open files or a missing folder, which no change of user
 * mends.
 */
function mayOpen(file: string, writing: boolean): boolean {
  try {
    Deno.openSync(file, { read: true, write: writing }).close();
    return true;
  } catch (e) {
    return !(e instanceof Deno.errors.PermissionDenied);
  }
}

/**
 * Refuses a state its header shows this tool must not open (not a database, a newer tool's,
 * another program's: `checkHeader`); true where it holds no state yet (none there, or an
 * empty one: a first run under way, or one killed before its first commit), which a run
 * begins as a new state. Reads 100 bytes.
 */
export function checkHeaderUnlessEmpty(file: string): boolean {
  if (isMissing(file)) return true;
  try {
    checkHeader(file);
    return false;
  } catch (e) {
    if (!(e instanceof NoStateYet)) throw e;
    return true;
  }
}

/** Waits up to 5 s (in ms) for another connection's lock before giving up as busy. */
function waitForLocks(db: DatabaseSync): void {
  db.exec("PRAGMA busy_timeout = 5000");
}

/** SQLite's answer to a reader that would have to write: SQLITE_READONLY_ROLLBACK, _RECOVERY. */
function needsWriteToRead(e: unknown): boolean {
  return /attempt to write a readonly database/i.test((e as Error)?.message ?? "");
}

/** The temporary folder its variable names, where it is set (unset: the system's own). */
function tempFolderSet(): string | undefined {
  try {
    return Deno.env.get(tempFolderVariable()) || undefined;
  } catch {
    return undefined; // not permitted to read it
  }
}

/** The variable that names the temporary folder: TMP on Windows (GetTempPath), else TMPDIR. */
export function tempFolderVariable(os: typeof Deno.build.os = Deno.build.os): string {
  return os === "windows" ? "TMP" : "TMPDIR";
}

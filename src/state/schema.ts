/**
 * The state database's schema and its forward migrations. `PRAGMA user_version` holds the
 * schema version; each migration runs in its own transaction, so an interrupted upgrade
 * leaves the previous version intact and is simply redone by the next open.
 *
 * - sources: each source's name and storage prefix, fixed when it is first backed up.
 * - copies:  every content ever stored for a path (content number `seq`), where its copy
 *            lives now, and the interval in which it was the path's current content; for a
 *            file that had other names (hard links), its device and inode (schema 5 on);
 *            a file's extended attributes, ACLs and capabilities (schema 6 on).
 * - files:   the paths currently tracked: fingerprint and the copy holding their content;
 *            for one an exclude pattern took out, since when (schema 7 on).
 * - ended_exclusions: each exclusion of a file that ended, from when to when and how
 *            (schema 8 on; the current one is the files row's).
 *            Which tracked files hold a digest is looked up through `copies_by_hash`, an
 *            index of the current copies by the first 12 hex digits of their digest;
 *            the kept ones (versions, deleted files') through `copies_kept_by_hash`,
 *            made outside the migrations, only on a backup root that can share disk
 *            blocks (stored_copies.ts: no schema version of its own).
 * - runs:    one row per run or watch batch series, for history and audit.
 * - intents: the journal of a batch whose file operations may be half done.
 * - folders: each source folder's mode, owner and mtime as last seen (not kept per moment);
 *            its extended attributes and ACLs, default ACL included (schema 9 on); since
 *            when it stands, or when it went (schema 10 on).
 * - ended_folders: each span of a folder's that ended, from when to when (schema 10 on;
 *            the current one is the folders row's): which folders stood at a moment.
 */
import type { DatabaseSync } from "node:sqlite";
import { PreflightError } from "../engine/errors.ts";
import { damagedStateMessage, MOVE_ASIDE } from "./damage.ts";

const MIGRATIONS: string[] = [
  `CREATE TABLE sources (
     name TEXT PRIMARY KEY,
     prefix TEXT NOT NULL,
     path TEXT NOT NULL,
     added_at INTEGER NOT NULL
   );
   CREATE TABLE copies (
     id INTEGER PRIMARY KEY,
     path TEXT NOT NULL,
     seq INTEGER NOT NULL,
     kind TEXT NOT NULL,
     hash TEXT NOT NULL,
     algo TEXT NOT NULL,
     size INTEGER NOT NULL,
     mtime_ms INTEGER NOT NULL,
     mode INTEGER NOT NULL,
     link_target TEXT,
     location TEXT NOT NULL,
     stored_at TEXT,
     valid_from INTEGER NOT NULL,
     valid_to INTEGER,
     run_id INTEGER NOT NULL,
     pruned_at INTEGER
   );
   CREATE UNIQUE INDEX copies_by_path ON copies (path, seq);
   CREATE INDEX copies_by_storage ON copies (stored_at) WHERE stored_at IS NOT NULL;
   CREATE INDEX copies_versions ON copies (path) WHERE location = 'version';
   CREATE TABLE files (
     path TEXT PRIMARY KEY,
     copy_id INTEGER NOT NULL,
     kind TEXT NOT NULL,
     hash TEXT NOT NULL,
     algo TEXT NOT NULL,
     size INTEGER NOT NULL,
     mtime_ms INTEGER NOT NULL,
     ctime_ms INTEGER NOT NULL,
     ino INTEGER NOT NULL,
     dev INTEGER NOT NULL,
     mode INTEGER NOT NULL,
     trusted INTEGER NOT NULL,
     status TEXT NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX files_by_hash ON files (hash);
   CREATE TABLE runs (
     id INTEGER PRIMARY KEY,
     command TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     finished_at INTEGER,
     status TEXT NOT NULL,
     summary TEXT
   );
   CREATE TABLE intents (
     id INTEGER PRIMARY KEY,
     run_id INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     actions TEXT NOT NULL
   );`,
  // 2: the digest lookup moves from files (whose index entries carry the whole digest and
  // path, about 130 bytes, and land on random pages, so each batch of a large backup
  // rewrote most of them) to an index of the current copies by a 48-bit digest prefix
  // (about 20 bytes an entry): a 100,000-file first backup took 10% less time.
  `DROP INDEX files_by_hash;
   CREATE INDEX copies_by_hash ON copies (substr(hash, 1, 12)) WHERE valid_to IS NULL;`,
  // 3: each copy's owner and group, so that a restore run as root gives them back (NULL:
  // recorded before, or where the platform has none).
  `ALTER TABLE copies ADD COLUMN uid INTEGER;
   ALTER TABLE copies ADD COLUMN gid INTEGER;`,
  // 4: each source folder's permission bits, owner and modification time as the latest
  // walk through it saw them, so that a restore gives the folders it makes those.
  `CREATE TABLE folders (
     path TEXT PRIMARY KEY,
     mode INTEGER NOT NULL,
     uid INTEGER,
     gid INTEGER,
     mtime_ms INTEGER NOT NULL
   ) WITHOUT ROWID;`,
  // 5: the device and inode of a copy's file when it had more than one name (hard links),
  // as last seen, so that a restore makes the names that shared them one file again (NULL:
  // one name, none known, or recorded before).
  `ALTER TABLE copies ADD COLUMN hardlink_dev INTEGER;
   ALTER TABLE copies ADD COLUMN hardlink_ino INTEGER;`,
  // 6: a copy's extended attributes (user.*, trusted.*, file capabilities, POSIX ACLs) as
  // last seen with its content, in xattr_codec.ts's encoding, so that a restore gives them
  // back (NULL: none, recorded before, or where they are not read: engine/fs/xattrs.ts).
  `ALTER TABLE copies ADD COLUMN xattrs BLOB;`,
  // 7: when an exclude pattern took a tracked file out (the recorded time of the batch that
  // marked it excluded), so that `diff` and `find` tell when it left the backup (NULL: not
  // excluded, or excluded before this version, when only the latest run bounds it).
  `ALTER TABLE files ADD COLUMN excluded_at INTEGER;`,
  // 8: each exclusion that ended (the file followed again, deleted from its source, or
  // purged while excluded): from its excluded_at to the recorded time of the batch that
  // ended it, so that `diff`, `ls --at`, `restore --at` and `history` answer of a moment
  // inside it as they did while it lasted. Written only as one ends (ended_exclusions.ts);
  // a state migrated starts with none, which is what it knew.
  `CREATE TABLE ended_exclusions (
     path TEXT NOT NULL,
     excluded_at INTEGER NOT NULL,
     ended_at INTEGER NOT NULL,
     ended_by TEXT NOT NULL,
     PRIMARY KEY (path, excluded_at)
   ) WITHOUT ROWID;`,
  // 9: a source folder's extended attributes (user.*, trusted.*, POSIX ACLs: the access
  // ACL and the default ACL its new files inherit), as the latest walk through it saw them,
  // in xattr_codec.ts's encoding, so that a restore gives the folders it makes those too
  // (NULL: none, recorded before, or where they are not read: engine/fs/xattrs.ts).
  `ALTER TABLE folders ADD COLUMN xattrs BLOB;`,
  // 10: when each folder stood, so that a restore makes the folders of a moment, empty
  // ones too (folder_spans.ts): `seen_from`, the recorded time of the batch that first saw
  // it in its current span (0: standing since before spans were recorded, as the first
  // walk at this version found it; NULL: a row from before, no walk at this version has
  // seen it yet), `gone_at` the recorded time of the batch whose walk found it gone (NULL:
  // standing); each span that ended is kept in `ended_folders`. Rows migrated start NULL,
  // which is what the state knew.
  `ALTER TABLE folders ADD COLUMN seen_from INTEGER;
   ALTER TABLE folders ADD COLUMN gone_at INTEGER;
   CREATE TABLE ended_folders (
     path TEXT NOT NULL,
     seen_from INTEGER NOT NULL,
     gone_at INTEGER NOT NULL,
     PRIMARY KEY (path, gone_at)
   ) WITHOUT ROWID;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** The database's schema version (0 for a new, empty one). */
function schemaVersion(db: DatabaseSync): number {
  return (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
}

/**
 * The schema version of a state a reader opens: one this tool wrote, not newer than it
 * knows. Another program's database is refused; an empty one (a first run killed, or not
 * finished, before its first commit) is NoStateYet: no backup to read, as a run takes it.
 */
export function stateVersion(db: DatabaseSync, file: string): number {
  const version = ourVersion(db, file);
  if (version > 0) return version;
  throw new NoStateYet(`Cannot read backup state '${file}': it is empty (no run has committed)`);
}

/**
 * What a reader can tell of a state from its file's first 100 bytes (SQLite's header),
 * before SQLite opens it: a state to refuse is then refused without SQLite making its
 * -wal and -shm files beside it (a reader of a WAL database does), so that the refusal
 * changes nothing. The header's user_version is current for this tool's states: every
 * writer leaves WAL mode at close, and migrations run before it enters it.
 */
export function checkHeader(file: string): void {
  const head = new Uint8Array(100);
  let n = 0;
  try {
    using f = Deno.openSync(file, { read: true });
    for (let got = 1; n < head.length && got > 0; n += got) got = f.readSync(head.subarray(n)) ?? 0;
  } catch {
    return; // SQLite's own open says why
  }
  if (n === 0) throw new NoStateYet(`Cannot read backup state '${file}': it is empty`);
  if (n < head.length || !SQLITE_MAGIC.every((b, i) => head[i] === b)) {
    throw damagedState(file, "file is not a database");
  }
  const view = new DataView(head.buffer);
  const userVersion = view.getUint32(60); // big-endian, as SQLite writes its header
  const schemaCookie = view.getUint32(40);
  if (userVersion > SCHEMA_VERSION) throw newerState(file, userVersion);
  // This tool's states have their version before they ever have a WAL (migrations run in
  // the rollback journal mode); a version 0 with commits waiting in a WAL is someone else's.
  if (userVersion === 0 && (schemaCookie !== 0 || walHasFrames(file))) {
    throw notOurs(file, FOREIGN);
  }
  // A header and nothing ever written below it: no more a state than a file of no bytes.
  if (userVersion === 0) throw new NoStateYet(`Cannot read backup state '${file}': it is empty`);
}

/** Whether a -wal file beside `file` holds more than its 32-byte header: commits. */
function walHasFrames(file: string): boolean {
  try {
    return Deno.lstatSync(`${file}-wal`).size > 32;
  } catch {
    return false;
  }
}

function newerState(file: string, version: number): PreflightError {
  return new PreflightError(
    `Cannot read backup state '${file}': schema version ${version} is newer than this ` +
      `tool's ${SCHEMA_VERSION}: upgrade the tool`,
  );
}

/** "SQLite format 3" and its NUL: the first 16 bytes of every SQLite database. */
const SQLITE_MAGIC = [...new TextEncoder().encode("SQLite format 3"), 0];

/** A state file a first run has made but not written yet: no backup to read so far. */
export class NoStateYet extends Error {}

/**
 * The schema version of a database that is this tool's state (0: empty, none yet), unless
 * it is newer than this tool knows. Another program's is refused: tables at version 0, or
 * a user_version of its own without the tables every version of this tool's state has.
 */
function ourVersion(db: DatabaseSync, file: string): number {
  const version = readableVersion(db, file);
  const ours = version === 0
    ? db.prepare("SELECT 1 FROM sqlite_master LIMIT 1").get() === undefined
    : (db.prepare(
      "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('sources', 'copies')",
    ).get() as { n: number }).n === 2;
  if (!ours) throw notOurs(file, FOREIGN);
  return version;
}

const FOREIGN = "another program's SQLite database";

/** A state file that holds no state of this tool (`what` it holds instead). */
function notOurs(file: string, what: string): PreflightError {
  return new PreflightError(
    `Cannot read backup state '${file}': it holds no state of this tool (${what}): ` +
      MOVE_ASIDE,
  );
}

/** A state SQLite or its header calls damaged (`detail`: how). */
export function damagedState(file: string, detail: string): PreflightError {
  return new PreflightError(damagedStateMessage(file, detail));
}

/** The schema version, unless it is newer than this tool knows. */
function readableVersion(db: DatabaseSync, file: string): number {
  const version = schemaVersion(db);
  if (version > SCHEMA_VERSION) {
    throw newerState(file, version);
  }
  return version;
}

/**
 * Brings the database to the current schema (or to `target`, for tests) and returns the
 * version it is at; refuses a database from a newer version.
 */
export function migrate(db: DatabaseSync, file: string, target = SCHEMA_VERSION): number {
  const current = ourVersion(db, file);
  for (let v = current; v < target; v++) {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(MIGRATIONS[v]);
      db.exec(`PRAGMA user_version = ${v + 1}`);
      db.exec("COMMIT");
    } catch (e) {
      db.exec("ROLLBACK");
      throw e;
    }
  }
  return Math.max(current, target);
}

/**
 * The backup root's lock: an exclusive advisory lock (flock) on `.backup-tool/lock`, held
 * for a whole run or watch session (LockFileEx on Windows, where it is mandatory: no other
 * process can read the file meanwhile). The operating system drops it when the holder exits
 * or is killed, so a lock left by a dead process is simply taken over; the holder's pid,
 * host and start time are written into the file only to name it in the message a second
 * run prints (exit code 3), where it can be read. A record a holder that died left, read
 * while another process holds the lock (one taking it over, not yet written over it, or a
 * program that writes none, `flock`), is not taken for that process's on Linux, where
 * /proc/locks names who holds the lock (proc_locks.ts).
 *
 * Off Windows the folder holding the lock file (`.backup-tool/`, never empty while a
 * backup exists) is locked too: a lock file deleted by hand while a run or watch session
 * holds it would otherwise let a second one lock a new file of the same name. (Windows
 * does not let an open file be deleted, and cannot open a folder as a file.)
 *
 * A record is only ever written over the one before, in one write (`overwrite`,
 * lock_file_write.ts): a kill at any moment leaves the file holding one whole record, the
 * old one or the new, so a dead holder's record given back by a refused session is never
 * lost on the way. A session that takes over a stale lock carries the dead holders' records
 * in its own until its log says so on disk (`takeoverLogged`; the record's form:
 * lock_record.ts): killed before that, it leaves them to the next run, and released before
 * that (refused, or failed before it logged them), it gives the lock file back what it held.
 */
import { hostname } from "node:os";
import { dirname } from "node:path";
import {
  errorText,
  isReadOnlyDisk,
  LockedError,
  PreflightError,
  READ_ONLY_WHY,
  remedyUnlessOutOfFiles,
} from "../errors.ts";
import { namesOpenFile } from "../fs/identity.ts";
import { NotOwnFileError, openOwnFile } from "../fs/own_file.ts";
import { giveBack, overwrite, readBefore, readBytes, writeRecord } from "./lock_file_write.ts";
import {
  describe,
  type Holders,
  holdersIn,
  recordBytes,
  startedOf,
} from "../../core/lock_record.ts";
import { namesAnotherHolder } from "./proc_locks.ts";
import { deniedRootRemedy } from "../fs/owner.ts";
import { sleepSync } from "../sleep_sync.ts";

export interface Lock {
  /**
   * The holders that died without releasing the lock, as their records name them, the
   * latest first: the one this session took it from, then those that one had taken over
   * and was killed before it logged. None where the lock was free.
   */
  staleHolders: Holders;
  /**
   * Said once the takeover of `staleHolders` is in the log, on disk: this session's record
   * stops carrying them (a failure to write it leaves them carried, logged again by the
   * next run after a kill: twice, never none).
   */
  takeoverLogged(): void;
  /**
   * Whether the lock still keeps other writers out: the lock file's path names the file it
   * holds, or (off Windows) the state folder's path the folder it holds, which a lock file
   * removed by hand leaves so. Removed with the backup root or its state folder, or a disk
   * mounted over the root, it does not, and a second run may lock the new one there. True
   * where the platform gives no inode numbers.
   */
  stillHeld(): boolean;
  /**
   * Unlocks. `restore`, or a takeover not logged yet: the lock file is given back what it
   * held before, and its time, not emptied: a session refused before it started (exit 2),
   * or one that failed before it logged the takeover, leaves it as it found it, the dead
   * holders' records with it, for the next run to log (see `staleHolders`).
   */
  release(opts?: { restore?: boolean }): void;
}

/** `command`: what takes it ("run", "watch", "verify --repair"), named to a second one. */
export function acquireLock(file: string, command = "run"): Lock {
  const f = openLockFile(file);
  const folder = lockFolder(file);
  let acquired = false;
  try {
    // Locked first, read after: on Windows the lock is mandatory (LockFileEx), so while
    // another process holds it, reading the file fails ("another process has locked a
    // portion of the file") and would end the run with that instead of exit code 3.
    if (!lockedWithin(() => f.tryLockSync(true))) throw heldBy(holderRecord(f), file);
    // The file is ours; a holder of the folder is one whose lock file was removed.
    if (folder && !lockedWithin(() => tryLockFolder(folder))) {
      throw new LockedError(
        `Cannot lock backup root: another process holds '${dirname(file)}' locked (a run or ` +
          "watch session whose lock file was removed, or another program): find it with " +
          `'lsof ${dirname(file)}', then wait for it to finish or stop it`,
      );
    }
    const before = readBefore(f);
    const stale = holdersIn(new TextDecoder().decode(before.bytes));
    const own = { pid: Deno.pid, host: hostname(), started: new Date().toISOString(), command };
    writeRecord(f, file, recordBytes(own, stale));
    let logged = stale.records.length === 0;
    // Only now is the handle the caller's to close; a failure before (a full disk) closes
    // it here, which drops the lock.
    acquired = true;
    return {
      staleHolders: stale,
      takeoverLogged() {
        if (logged) return;
        logged = true;
        try {
          overwrite(f, recordBytes(own));
        } catch { /* still carried: logged again after a kill, never lost */ }
      },
      // The lock file removed (or made again by a second run, which then found the folder
      // locked): the folder's lock still keeps every other writer out.
      stillHeld: () =>
        namesOpenFile(f, file) || (folder !== undefined && namesOpenFile(folder, dirname(file))),
      release({ restore = false } = {}) {
        try {
          // More than a record (not all read at the lock) is emptied, as any release does.
          if ((restore || !logged) && before.whole) giveBack(f, before);
          else f.truncateSync(0);
          f.unlockSync();
        } finally {
          f.close();
          folder?.close();
        }
      },
    };
  } finally {
    if (!acquired) {
      f.close();
      folder?.close();
    }
  }
}

/**
 * The lock file, opened to be written. One that cannot be (a backup root mounted again
 * read-only, while the run or watch session that holds it writes through the other
 * mount) may still be held: that, if so, is what a second run must say (exit code 3).
 */
function openLockFile(file: string): Deno.FsFile {
  try {
    // Never through a symlink, a FIFO or a hard link put in its place (own_file.ts): the
    // lock file is truncated once it is held.
    return openOwnFile(file);
  } catch (e) {
    if (e instanceof NotOwnFileError) {
      throw new PreflightError(
        `Cannot lock backup root: '${file}' is not a file of its own (a symlink or a hard ` +
          "link was put there, or another program replaced it meanwhile): check it, then " +
          "run again",
      );
    }
    const holder = currentHolderRecord(file);
    if (holder !== undefined) {
      throw heldBy(holder.gone ? { gone: holder.gone } : { holder: holder.text }, file);
    }
    const remedy = remedyUnlessOutOfFiles(
      e,
      deniedRootRemedy(dirname(dirname(file)), e) ??
        (isReadOnlyDisk(e)
          ? `its disk is mounted read-only (${READ_ONLY_WHY}): mount it read-write, then run again`
          : "it and the backup root must be writable by the user running this tool"),
    );
    throw new PreflightError(
      `Cannot lock backup root: cannot open '${file}' to write: ${errorText(e)}${remedy}`,
    );
  }
}

/**
 * The error for a lock `holder` ("a watch (pid …)", as `describe` names it) holds; `gone`:
 * the holder a record names that no longer holds the lock (see `namesAnotherHolder`).
 */
function heldBy(
  { holder, gone }: { holder?: string; gone?: string },
  file: string,
): LockedError {
  if (gone !== undefined) {
    return new LockedError(
      `Cannot lock backup root: another process holds '${file}', not ${gone}, which its ` +
        `record names (it ended without clearing it): find it with 'lsof ${file}', then ` +
        "wait for it to finish or stop it",
    );
  }
  const remedy = holder?.startsWith("a watch ")
    ? "stop the watch session"
    : holder?.startsWith("a ")
    ? "wait for it to finish"
    : "wait for it to finish (or stop the watch session)";
  return new LockedError(
    `Cannot lock backup root: ${holder ?? "another run"} holds '${file}': ${remedy}`,
  );
}

/**
 * Pauses (ms) between tries at a lock held by another: a lock a process has just released
 * may still be held a moment by a child that one of its threads forked and that has not
 * exec'd yet (it holds a copy of every descriptor until then): a test suite's runs in one
 * process, one after another, met their own lock so, beside other tests' child processes.
 * A second run started while one ends is let in rather than refused. About 0.25 s in all
 * before a lock still held is said to be (exit code 3).
 */
const LOCK_PAUSES_MS = [5, 10, 20, 40, 80, 100];

/** `tryLock()`, tried again after each of LOCK_PAUSES_MS while it fails. */
function lockedWithin(tryLock: () => boolean): boolean {
  for (const pause of LOCK_PAUSES_MS) {
    if (tryLock()) return true;
    sleepSync(pause);
  }
  return tryLock();
}

/** The lock file's folder opened to be locked too, off Windows (see the module's comment). */
function lockFolder(file: string): Deno.FsFile | undefined {
  if (Deno.build.os === "windows") return undefined;
  try {
    return Deno.openSync(dirname(file), { read: true });
  } catch {
    return undefined; // cannot be opened: the lock file alone guards, as it always did
  }
}

function readAll(f: Deno.FsFile): string {
  return new TextDecoder().decode(readBytes(f));
}

/**
 * Tries at reading a holder's record, RECORD_WAIT_MS apart: a holder that locked the file
 * a moment ago writes its record right after (two runs started together: the second one
 * found it empty and could not name the first).
 */
const RECORD_TRIES = 10;
const RECORD_WAIT_MS = 5;

/**
 * The holder, as its record names it, read again while it is not one yet, or names a
 * holder that died (the one a run taking the lock over is about to write over, or one a
 * process that writes none, `flock`, holds the lock under): `gone` then names that one.
 */
function holderRecord(f: Deno.FsFile): { holder?: string; gone?: string } {
  for (let tried = 1;; tried++) {
    const record = readHolder(f);
    const holder = describe(record);
    const gone = holder !== undefined && namesAnotherHolder(record, f);
    if ((holder !== undefined && !gone) || tried >= RECORD_TRIES) {
      return gone ? { gone: holder } : { holder };
    }
    sleepSync(RECORD_WAIT_MS);
  }
}

/** The holder's record, or "" where its lock keeps it from being read (Windows). */
function readHolder(f: Deno.FsFile): string {
  try {
    return readAll(f);
  } catch {
    return "";
  }
}

/**
 * Who holds the lock now, as `describe` names it ("a run (pid …)"), or undefined when no
 * live process does: asked by the commands that take no lock (`verify`, `restore`,
 * `history`), whose view of a backup root that a run is changing is not settled. Takes no
 * lock itself and writes nothing.
 */
export function currentHolder(file: string): string | undefined {
  return currentHolderRecord(file)?.text;
}

/**
 * `currentHolder`, with the moment its holder took the lock (ms) where its record says so
 * (`history` tells by it which run row is that holder's). A record that names a holder that
 * died (`gone`, see `namesAnotherHolder`) names no one: the one holding the lock took it
 * after it was looked at, if it is a run at all.
 */
export function currentHolderRecord(
  file: string,
): { text: string; startedMs?: number; gone?: string } | undefined {
  let f: Deno.FsFile;
  const other = { text: "another run" };
  try {
    f = Deno.openSync(file, { read: true });
  } catch {
    // No lock file: no run has held it, or one whose lock file was removed meanwhile does.
    return folderHeld(file) ? other : undefined;
  }
  try {
    if (f.tryLockSync(false)) {
      f.unlockSync();
      return folderHeld(file) ? other : undefined; // its lock file removed meanwhile
    }
    const record = readHolder(f);
    const text = describe(record);
    if (text === undefined) return other;
    // A holder that died named: the one holding the lock took it after this look.
    if (namesAnotherHolder(record, f)) return { ...other, startedMs: Date.now(), gone: text };
    return { text, startedMs: startedOf(record) };
  } catch {
    return undefined; // locks not supported here: nothing to tell
  } finally {
    f.close();
  }
}

/**
 * Locks the folder, exclusively: false when another holds it. A file system that cannot
 * lock folders (some FUSE ones) leaves the lock file alone to guard, as it always did.
 */
function tryLockFolder(folder: Deno.FsFile, exclusive = true): boolean {
  try {
    return folder.tryLockSync(exclusive);
  } catch {
    return true;
  }
}

/** Whether a live process holds the lock file's folder (off Windows). */
function folderHeld(file: string): boolean {
  const folder = lockFolder(file);
  if (!folder) return false;
  try {
    if (!tryLockFolder(folder, false)) return true;
    folder.unlockSync();
    return false;
  } catch {
    return false;
  } finally {
    folder.close();
  }
}

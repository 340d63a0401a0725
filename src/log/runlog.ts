/**
 * The run log: one timestamped file per run (or watch session) in log_dir, one line per
 * action in the reference's forms (`BACKUP: source/one.txt → backup/one.txt`). Lines are
 * buffered and flushed at each batch boundary and on close, so a crash loses at most the
 * lines of the batch in progress (whose effects recovery logs again). Old log files beyond
 * `log_retention` are removed, and each removal is logged; only files named as this tool
 * names its logs are ever counted or removed, so other files in log_dir are safe (which
 * files those are: log_files.ts; how a line is escaped: one_line.ts).
 */
import { basename, dirname, join } from "node:path";
import { lstatOrNone, missingFolders, removeQuietly } from "../engine/fs/fsops.ts";
import { namesOpenFile } from "../engine/fs/identity.ts";
import { fullFlushRefused } from "../engine/fs/flush.ts";
import { folderSyncUnsupported } from "../engine/fs/folder_flush.ts";
import { errorText, isDiskFull } from "../engine/errors.ts";
import { compareRunLogNames, isRunLogFile } from "./log_files.ts";
import { oneLine } from "./one_line.ts";

const LOG_SUFFIX = ".log";
/**
 * A log names every file backed up, private ones too: its owner's only, as the backup root
 * a first run makes is (an existing log_dir keeps its mode).
 */
const PRIVATE_FILE = 0o600;
const PRIVATE_FOLDER = 0o700;

/** Flush the buffer once it holds this many lines, to bound memory on huge runs. */
const FLUSH_LINES = 4096;

/**
 * The log could not be written or flushed: said as the log's problem, with its remedy (the
 * backup disk may well have room), never taken for the backup disk's.
 */
export class LogError extends Error {
  constructor(what: string, cause: unknown) {
    const full = isDiskFull(errorText(cause));
    super(
      `${what}: ${errorText(cause)}: ` +
        (full
          ? "its disk is full: free space there, or set log_dir to a folder on another disk"
          : "check that disk, or set log_dir to a folder on another disk"),
    );
  }
}

/** Where a log file ended once its lines were written (`RunLog.written`). */
interface LogMark {
  path: string;
  bytes: number;
}

export class RunLog {
  /** The file written now (a watch session's log moves on to a new one: `rollOver`). */
  path: string;
  #file: Deno.FsFile;
  /** Bytes written to the current file. */
  #written = 0;
  readonly #command: string;
  #buffer: string[] = [];
  readonly #encoder = new TextEncoder();

  /** The folders `open` made for the log, innermost first: `discard` removes them again. */
  readonly #made: string[];

  /** The backup root whose sessions this log is of: named in each file's first line. */
  readonly owner: string | undefined;

  private constructor(
    path: string,
    file: Deno.FsFile,
    made: string[],
    command: string,
    owner?: string,
  ) {
    this.path = path;
    this.#file = file;
    this.#made = made;
    this.#madeUnsynced = made;
    this.#command = command;
    this.owner = owner;
  }

  /**
   * Creates `<log_dir>/<UTC time>-<command>.log`, and log_dir if need be. Its first line
   * should be `Run started: …` followed by `ownerSuffix()`.
   */
  static open(dir: string, command: string, now = new Date(), owner?: string): RunLog {
    const made = missingFolders(dir);
    Deno.mkdirSync(dir, { recursive: true, mode: PRIVATE_FOLDER });
    const { path, file } = createLogFile(dir, command, now);
    return new RunLog(path, file, made, command, owner);
  }

  /** ` for backup root '<root>'`, which ends each file's first line (see `isRunLogFile`). */
  ownerSuffix(): string {
    return this.owner === undefined ? "" : ` for backup root '${this.owner}'`;
  }

  /**
   * Once the current file holds more than `maxBytes`, goes on in a new one (each names the
   * other) and rotates the oldest away (see `rotate`). For sessions that last.
   */
  rollOver(maxBytes: number, keep: number): void {
    if (this.#written < maxBytes) return;
    this.flush();
    const next = createLogFile(dirname(this.path), this.#command, new Date());
    this.line(`LOG continues in ${basename(next.path)}`);
    this.#continueIn(next, "");
    this.rotate(keep);
  }

  /**
   * Goes on in a new file when the current one was removed (log_dir deleted or emptied while
   * a watch session runs: what is written to a removed file is lost to everyone). True if
   * it did; false too where log_dir cannot be made again (the lines go on into the old file).
   */
  reopenIfRemoved(): boolean {
    if (namesOpenFile(this.#file, this.path)) return false;
    let next;
    try {
      const made = missingFolders(dirname(this.path));
      Deno.mkdirSync(dirname(this.path), { recursive: true, mode: PRIVATE_FOLDER });
      next = createLogFile(dirname(this.path), this.#command, new Date());
      this.#madeUnsynced = made;
    } catch {
      return false;
    }
    this.#continueIn(next, ", which was removed");
    return true;
  }

  /** Writes what is buffered, then goes on in `next`, whose first line names this file. */
  #continueIn(next: { path: string; file: Deno.FsFile }, why: string): void {
    this.flush();
    this.#file.close();
    const previous = basename(this.path);
    [this.path, this.#file, this.#written] = [next.path, next.file, 0];
    this.line(`LOG continued from ${previous}${why}${this.ownerSuffix()}`);
  }

  #stampMs = 0;
  #stamp = "";

  line(message: string): void {
    const now = Date.now();
    if (now !== this.#stampMs) [this.#stampMs, this.#stamp] = [now, new Date(now).toISOString()];
    const text = oneLine(message);
    this.#buffer.push(`${this.#stamp} ${text}\n`);
    if (this.#buffer.length >= FLUSH_LINES) this.flush();
  }

  /**
   * After a write cut short (its disk full), the file is cut back to the lines written
   * whole, so that those written once there is room again start lines of their own, not
   * the end of a half one. Where that cannot be done either, the half line stays.
   */
  #cutToWhole(): void {
    try {
      this.#file.truncateSync(this.#written);
      this.#file.seekSync(this.#written, Deno.SeekMode.Start);
    } catch { /* the half line stays */ }
  }

  /**
   * `message` as a line written out now, for news told on stderr too (a watch's warnings
   * and notes): where the log cannot take it (its disk full) it is dropped, not thrown, so
   * that saying a failure never becomes one; a pass's own lines still stop it before its
   * commit (`sync`), and the session's end says the log's failure (`close`).
   */
  said(message: string): void {
    const others = this.#buffer.length > 0; // a batch's lines, flushed with it
    this.line(message);
    try {
      this.flush();
    } catch (e) {
      if (!(e instanceof LogError)) throw e;
      // Those lost with it: the batch's sync fails, so that it never commits unlogged.
      if (others) this.#unwritten ??= e;
    }
  }

  /** Why a batch's lines were lost in a flush `said` made, until its `sync` throws it. */
  #unwritten: LogError | undefined;

  /** Writes out what is buffered; returns where the file then ends, for `sync`. */
  written(): LogMark {
    this.flush();
    return { path: this.path, bytes: this.#written };
  }

  flush(): void {
    if (this.#buffer.length === 0) return;
    const data = this.#encoder.encode(this.#buffer.join(""));
    this.#buffer = [];
    try {
      for (let off = 0; off < data.length;) off += this.#file.writeSync(data.subarray(off));
      this.#written += data.length;
    } catch (e) {
      this.#cutToWhole();
      throw new LogError(`Cannot write the log '${this.path}'`, e);
    }
  }

  /**
   * Writes out what is buffered and makes it durable (fdatasync, and once per file its
   * folder's entry for it): called before a commit that drops the intent recovery would log
   * the same lines from, so that not even a power cut leaves a commit whose moves and
   * deletions no log names. One fdatasync a commit (about a millisecond on Linux; macOS's
   * full flush takes longer, still little beside a batch's own flushes).
   *
   * `flushed`: a file system (by device number) flushed whole (syncfs, reporting write
   * errors) once this log had written what `written` saw. Where nothing was written since
   * and the file is on it, its lines are on disk already and the fdatasync is left out (a
   * journal commit and a flush of the disk's cache each: 4-11 ms on the benchmark's ext4
   * image, by strace).
   */
  sync(flushed?: { dev: number | null; log: LogMark }): void {
    const unwritten = this.#unwritten;
    this.#unwritten = undefined;
    if (unwritten !== undefined) throw unwritten;
    const since = flushed === undefined || this.#buffer.length > 0 ||
      flushed.log.path !== this.path || flushed.log.bytes !== this.#written;
    this.flush();
    if (since || flushed.dev === null || this.#dev() !== flushed.dev) {
      try {
        this.#file.syncDataSync();
      } catch (e) {
        if (!fullFlushRefused(e)) {
          throw new LogError(`Cannot flush the log '${this.path}' to disk`, e);
        }
      }
    }
    if (this.#entrySynced === this.path) return;
    syncLogFolder(dirname(this.path), "the log folder");
    // log_dir made by this session: its own entry (and those of the folders above it that
    // were made with it) must outlive a power cut too, or the flushed file is not found.
    for (const made of this.#madeUnsynced) {
      syncLogFolder(dirname(made), "a folder above the log folder");
    }
    this.#madeUnsynced = [];
    this.#entrySynced = this.path;
  }

  /** Folders made for the log whose entries `sync` has not flushed yet. */
  #madeUnsynced: string[];

  /** The current file's device number, looked at once a file (null: not known). */
  #dev(): number | null {
    if (this.#devOf?.path !== this.path) {
      let dev: number | null = null;
      try {
        dev = this.#file.statSync().dev;
      } catch { /* not known: the file is flushed on its own */ }
      this.#devOf = { path: this.path, dev };
    }
    return this.#devOf.dev;
  }

  #devOf?: { path: string; dev: number | null };

  /** The file whose folder entry `sync` has made durable. */
  #entrySynced = "";

  /**
   * Writes out what is left and closes the log. One that could not take even its first
   * line (its disk full) is removed, not left empty: with no first line naming its backup
   * root, rotation would never remove it, and every refused run would leave one more.
   */
  close(): void {
    try {
      this.flush();
    } finally {
      const empty = this.#written === 0 && this.#file.statSync().size === 0;
      this.#file.close();
      if (empty) removeQuietly(this.path);
    }
  }

  /**
   * Closes and removes the log, and the folders made for it if they are still empty: for a
   * session that could not start (nothing was logged, nothing is left behind).
   */
  discard(): void {
    this.#file.close();
    // Never recursive: a folder something else wrote to stays.
    for (const path of [this.path, ...this.#made]) removeQuietly(path);
  }

  /**
   * Removes the oldest log files of this log's backup root beyond `keep` (oldest by
   * modification time), logging each. One that cannot be removed (immutable, another
   * user's in a sticky log_dir) is logged and left, and the others go all the same: had it
   * stopped the rotation, log_dir would grow by a log a run, for good. One gone meanwhile
   * (another job sharing log_dir removed an empty one) is not counted.
   */
  rotate(keep: number): void {
    const dir = join(this.path, "..");
    const logs = [...Deno.readDirSync(dir)]
      .filter((e) => e.isFile && isRunLogFile(join(dir, e.name), this.owner))
      .flatMap((e) => {
        const info = lstatOrNone(join(dir, e.name));
        return info === undefined ? [] : [{ name: e.name, mtime: info.mtime?.getTime() ?? 0 }];
      })
      .sort((a, b) => a.mtime - b.mtime || compareRunLogNames(a.name, b.name));
    for (const { name } of logs.slice(0, Math.max(0, logs.length - keep))) {
      if (join(dir, name) === this.path) continue;
      try {
        Deno.removeSync(join(dir, name));
        this.line(`LOG ROTATE delete: ${name}`);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) continue;
        this.line(`LOG ROTATE failed: cannot remove '${name}': ${errorText(e)} (left as it is)`);
      }
    }
  }
}

/**
 * Flushes a folder's entries to disk, where the system does (see `folderSyncUnsupported`);
 * `what` names it in the error ("the log folder").
 */
function syncLogFolder(dir: string, what: string): void {
  try {
    using folder = Deno.openSync(dir, { read: true });
    folder.syncSync();
  } catch (e) {
    if (!folderSyncUnsupported(e)) throw new LogError(`Cannot flush ${what} '${dir}' to disk`, e);
  }
}

/** A new log file `<time>-<command>[-n].log` in `dir`, never one that exists. */
function createLogFile(
  dir: string,
  command: string,
  now: Date,
): { path: string; file: Deno.FsFile } {
  const stamp = now.toISOString().replace(/:/g, "-");
  for (let n = 1;; n++) {
    const path = join(dir, `${stamp}-${command}${n === 1 ? "" : `-${n}`}${LOG_SUFFIX}`);
    try {
      const file = Deno.openSync(path, { write: true, createNew: true, mode: PRIVATE_FILE });
      return { path, file };
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
  }
}

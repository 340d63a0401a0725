/**
 * What a pass is given and what it gives back: its context (the store, the log, the backup
 * root), its options, its progress and its result. Shared by the pass (pass.ts), the parts
 * it drives (batch.ts, entries.ts) and its callers (backup.ts, the watch session), and kept
 * apart from pass.ts so that the parts it drives do not import it back. Types and empty
 * values only: nothing here runs, and nothing is left behind.
 */
import type { Config } from "../config/config.ts";
import type { RunLog } from "../log/runlog.ts";
import type { StateStore } from "../state/store.ts";
import type { SyncFs } from "./fs/syncfs.ts";
import type { Action } from "../core/types.ts";
import type { DeletionWindow } from "./vanished.ts";
import type { ClockGuard } from "../core/deleted_guard.ts";

export interface PassContext {
  config: Config;
  root: string;
  rootName: string;
  tmpDir: string;
  /** Absent when the backup root has no state yet (a dry run on a new root). */
  store?: StateStore;
  log?: RunLog;
  prefixes: Map<string, string>;
  runId: number;
  /** Flushes the backup root's file system whole, where that is trusted (syncfs.ts). */
  syncFs?: SyncFs;
  /** Whether the backup root's lock is still this session's (see `Lock.stillHeld`). */
  lockStillHeld?: () => boolean;
}

export interface PassOptions {
  rehash?: boolean;
  /**
   * Absolute paths read even where their fingerprint vouches for them: files a watch saw
   * closed after writing (a write through a memory mapping whose pages were already dirty
   * moves neither the modification nor the change time).
   */
  reread?: ReadonlySet<string>;
  /**
   * Archive deletions even beyond `safety.max_delete_percent`, and prune _deleted/ copies
   * whatever the clock guard says (deleted_guard.ts).
   */
  force?: boolean;
  /** Plan only: hash without staging, execute nothing, write nothing. */
  dryRun?: boolean;
  /** Plan only: called with each planned action, in order (the pass keeps none). */
  onPlanned?: (action: Action) => void;
  /** Per source, the absolute folders or files to scan; everything when absent. */
  scope?: Map<string, string[]>;
  /** Called with each line as it is logged (console echo). */
  onLine?: (line: string) => void;
  /**
   * Stops the pass between batches (a watch session being stopped): what is committed
   * stays, the rest is picked up by the next pass.
   */
  signal?: AbortSignal;
  /**
   * Unchanged files are counted, not given a `SKIP:` line each: a watch session's periodic
   * rescans would otherwise write every file's name into its one log, hour after hour.
   */
  quietSkips?: boolean;
  /** Called after each scanned entry is handled (a live progress line). */
  onProgress?: (p: Progress) => void;
  /** Entries the first walk holds back at most (PENDING_LIMIT, pass.ts); tests lower it. */
  pendingLimit?: number;
  /**
   * Untracked entries read on the main thread before the staging worker takes over the
   * walk (STAGING_AFTER, walks.ts); tests set it to fix the hand-over point, which is then
   * kept exactly (without it, this thread walks on until the worker is ready).
   */
  stagingAfter?: number;
  /**
   * Tracked paths (in path order) up to which the main thread walks, the walk worker
   * walking the rest (by default a quarter of them, past WALKER_MIN_TRACKED tracked files:
   * walks.ts); tests set it.
   */
  walkerSplit?: number;
  /**
   * False: the held entries of a split walk are read on the main thread, not ahead on the
   * walk worker (read_ahead.ts); tests compare the two.
   */
  readAhead?: false;
  /** Deletions the guard counts together with earlier passes' (watch mode). */
  deletionWindow?: DeletionWindow;
  /**
   * A watch session's: the clock's time at its last full pass whose prunes of _deleted/
   * copies were not held back, which vouches for the clock as a session's time does
   * (deleted_guard.ts); absent before its first.
   */
  lastFullPassAt?: number;
  /** A watch session's pass: the clock guard's remedy says to stop it first. */
  inWatch?: boolean;
  /**
   * Whether a file (logical path) that kept changing while it was read is left to the
   * caller, not a failure of this pass: it is said in a `SKIP CHANGING:` line, for the
   * caller to read again once it is quiet (a watch session, which bounds the attempts: see
   * watch/changing.ts). Every such file is listed in `changing`, failed or not.
   */
  deferChanging?: (path: string) => boolean;
}

/** Why a file was not read as one state, where that is not a failure: see `PassResult`. */
export type Unread = "vanished" | "changing";

/** How far a pass is: entries handled of those scanned, bytes read of those to read. */
export interface Progress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  current: string;
}

export type Counts = Record<Action["type"] | "failed" | "special", number>;

export interface PassResult {
  counts: Counts;
  bytesCopied: number;
  errors: { path: string; message: string }[];
  /**
   * Stored copies found missing from the backup root on the way (a modified or deleted
   * file's old copy, recorded as lost; an unchanged file's copy, copied again).
   */
  warnings: { path: string; message: string }[];
  /** Set when the mass-deletion guard held deletions back. */
  deleteGuard?: string;
  /** How many deletions the guard held back, when it did (recorded in a run's summary). */
  heldBack?: number;
  /**
   * Set when the clock guard held back the prunes of _deleted/ copies that
   * `keep_deleted_days` made due (deleted_guard.ts).
   */
  clockGuard?: ClockGuard;
  /** Source folders that could not be listed (not gone): a watch session plans around them. */
  unlistedFolders: string[];
  /**
   * Unchanged files read only because they are other files (device, inode) than the last
   * pass saw, of the same contents (`Refresh.reread`): a source copied or restored, or its
   * disk mounted anew. Absent where there were none.
   */
  reread?: { files: number; bytes: number };
  /** Unchanged files counted but not given a `SKIP:` line each (`quietSkips`). */
  unnamedSkips?: number;
  /**
   * The files left out for their size (`exclude_larger_than`), each said in a `SKIP LARGE:`
   * line; absent where there were none.
   */
  leftLarge?: { path: string; size: number }[];
  /** Of `counts.exclude`, the files whose copy was found missing (each also a warning). */
  excludedMissing?: number;
  /**
   * With `deferChanging`: the files that kept changing while read (logical paths); those
   * it deferred (`deferred`) are not counted in `counts`, the others are failures.
   */
  changing?: { path: string; deferred: boolean }[];
  /**
   * The pass was cut short by `signal`, work left undone for the next pass: the walks or
   * the planning stopped before their end, or promotions or retention's prunes were left
   * out. A signal heard once there was nothing left to do (during the last batch, with no
   * promotions or prunes after it) leaves it unset: that pass is complete.
   */
  stopped?: boolean;
}

export function emptyResult(): PassResult {
  return { counts: emptyCounts(), bytesCopied: 0, errors: [], warnings: [], unlistedFolders: [] };
}

export function emptyCounts(): Counts {
  return {
    backup: 0,
    duplicate: 0,
    modified: 0,
    skip: 0,
    delete: 0,
    exclude: 0,
    prune: 0,
    promote: 0,
    failed: 0,
    special: 0,
  };
}

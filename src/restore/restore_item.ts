/**
 * A file a restore puts somewhere (`RestoreItem`: the stored copy, its destination, the
 * folder it must stay in) and what became of it (`RestoreResult`). Pure: types only.
 */
import type { StoredCopy } from "../state/store.ts";
import type { Twin } from "./twins.ts";

type Outcome = "restored" | "up-to-date" | "conflict" | "failed";

export interface RestoreItem {
  copy: StoredCopy;
  /** Absolute destination path. */
  dest: string;
  /** The folder the destination must stay inside (--to DIR, or the source folder). */
  base: string;
  /** Whether `base` is a `--to` folder rather than the source folder. */
  toDir?: boolean;
  /** Put under another name, as the disk takes its own for another's (twins.ts). */
  twin?: Twin;
}

/** A disk found full: where, and what the system said (full_disks.ts). */
export interface FullDisk {
  /** The restore's folder (--to DIR, or a source folder) of the write it first refused. */
  at: string;
  /** That write's error. */
  error: string;
  /** Not tried, as its disk was found full before. */
  skipped: boolean;
}

export interface RestoreResult extends RestoreItem {
  outcome: Outcome;
  /** Why it was not restored (conflict, failed). */
  reason?: string;
  /** Restored, but from another stored copy of the same content: what to know about its own. */
  note?: string;
  /**
   * Restored from the content still current of a path excluded since (excluded.ts): said
   * for the file in --json, and once for its excluded folder otherwise.
   */
  excludedNote?: string;
  /**
   * Restored as a hard link of this file, restored before it: the backup recorded them as
   * one file under several names (hard_links.ts).
   */
  hardLinkOf?: string;
  /** A dry run's (dry_run.ts): it would replace the file there (--overwrite). */
  replaces?: boolean;
  /**
   * Not restored because its own copy is missing or damaged, with no other copies asked
   * about yet (`WriteOptions.fallbacksOf` absent): worth trying again with them.
   */
  unusable?: boolean;
  /**
   * Not placed because its name was found taken by a twin this restore placed meanwhile
   * (twins.ts): to be written again once every other file is in place, then renamed.
   */
  again?: boolean;
  /**
   * Not restored for want of room on its disk (full_disks.ts): a write the disk refused
   * (ENOSPC, EDQUOT), or (`skipped`) a file bound for that disk afterwards, not tried.
   */
  fullDisk?: FullDisk;
  /** Failed as its disk refused a write for want of room (full_disks.ts's `noRoom`). */
  noRoom?: boolean;
}

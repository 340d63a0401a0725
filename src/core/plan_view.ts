/**
 * What the planner may ask of the state and of the backup root's disk (`PlanView`), and
 * the shapes of its answers. Backed by the state store and a probe of the disk in a run,
 * by literals in tests. Types only.
 */
import type { CopyLocation } from "./types.ts";
import type { Occupancy } from "./layout.ts";

/** A digest under its algorithm. */
export interface Digest {
  hash: string;
  algo: string;
}

/** The current copy of a tracked file that holds some content. */
/** What stands where a stored copy is recorded: it, nothing, or something in the way. */
export type CopyState = "present" | "missing" | "blocked";

export interface HeldCopy {
  path: string;
  storedAt: string;
  location: CopyLocation;
  /** The copy's size and time as the state records them (absent: not told, in tests). */
  size?: number;
  mtimeMs?: number;
}

/** What the planner may ask of the state. */
export interface PlanView extends Occupancy {
  /** Tracked files (not symlinks) whose current content has this digest, in sorted order. */
  holdersOf(hash: string, algo: string): string[];
  /**
   * The current copies of the tracked files (not symlinks) holding this digest, in path
   * order: originals (location "latest") and duplicates. Absent: no promotions (tests).
   */
  copiesHolding?(hash: string, algo: string): HeldCopy[];
  /**
   * Storage paths of stored copies holding this digest (current ones first, then versions
   * and deleted files' copies), as the state records them: for a new or changed file's
   * staged copy to share disk blocks with (share_extents.ts). Absent: none (tests).
   */
  storedCopiesOf?(hash: string, algo: string): string[];
  /** The highest content number ever given to this path (0 if none): numbers are never reused. */
  lastSeq(path: string): number;
  /** Whether any content was ever recorded for a path below this logical folder. */
  recordedUnder(folder: string): boolean;
  /** How many copies are stored below this storage folder. */
  storedCountBelow(folder: string): number;
  /**
   * What the backup root's disk holds at a storage path (asked only where the state knows
   * nothing): a file or folder someone else put there, or, on a disk that ignores case, a
   * stored copy under another case. Absent: the disk is not looked at (plans in tests).
   */
  foreignKind?(path: string): "file" | "dir" | undefined;
  /** Whether two storage paths name one entry on disk (a disk that ignores case). */
  sameEntry?(a: string, b: string): boolean;
  /**
   * Whether the disk holds anything below a storage folder but the files `own` says are
   * the tool's (its stored copies this run moves away): what stays there once they are
   * gone. Absent: the disk is not looked at (plans in tests).
   */
  holdsOtherThan?(folder: string, own: (path: string) => boolean): boolean;
  /**
   * Whether a path the state knows nothing of is, for certain, another name of the stored
   * copy at `copy` (one inode; false where that cannot be told): what a move interrupted
   * by a failure leaves, with the copy at both names.
   */
  otherNameOf?(path: string, copy: string): boolean;
  /**
   * What the disk holds where a stored copy of this kind is recorded: the copy ("present");
   * nothing ("missing": removed by hand); or something not the tool's own ("blocked": a
   * folder, or, for a file, anything but a file, at the path; anything but a folder on the
   * way there). Absent: the disk is not looked at (plans in tests).
   */
  copyAt?(storedAt: string, kind: "file" | "symlink"): CopyState;
  /**
   * The backup root's disk ignores case (macOS and Windows by default, exFAT): two paths
   * placed in one run that differ only in case would be one file there.
   */
  ignoresCase?: boolean;
}

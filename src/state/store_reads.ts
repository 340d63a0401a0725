/**
 * The state's questions, asked by the engine, restore, history, verify and stats: each a
 * delegation to one indexed query (queries.ts, run_queries.ts, copy_queries.ts,
 * stats_queries.ts, ended_exclusions.ts) over the connection. The base of StateStore
 * (store.ts), which adds the lifecycle and every write. Reads only: an interruption
 * leaves nothing.
 */
import type { Fingerprint, TrackedFile } from "../core/types.ts";
import type { DatedVersion, StoredVersion } from "../core/retention.ts";
import type { StateDb } from "./connection.ts";
import * as read from "./queries.ts";
import * as ended from "./ended_exclusions.ts";
import * as runs from "./run_queries.ts";
import * as copies from "./copy_queries.ts";
import * as stats from "./stats_queries.ts";
import type { StoredCopy } from "./rows.ts";

/** The state's read-only questions (see above); StateStore adds the writes. */
export abstract class StateReads {
  protected constructor(protected readonly db: StateDb) {}

  /** `fn`'s questions answered from one snapshot of the state (connection.ts `readSnapshot`). */
  snapshot<T>(fn: () => T): T {
    return this.db.readSnapshot(fn);
  }

  // --- runs and sources ---

  /** The earliest time a content became current (undefined when nothing is recorded). */
  firstRecordedTime(): number | undefined {
    return read.firstRecordedTime(this.db);
  }

  /**
   * The latest start or end time of a run, of those not after `notAfter` (0 if none), of
   * `commands` only where given.
   */
  latestRunTime(notAfter?: number, commands?: readonly string[]): number {
    return runs.latestRunTime(this.db, notAfter, commands);
  }

  /** See run_queries.ts `vouchedRunTimes`. */
  vouchedRunTimes(besides: number, count: number): number[] {
    return runs.vouchedRunTimes(this.db, besides, count);
  }

  prefixes(): Map<string, string> {
    return read.prefixes(this.db);
  }

  /** Each source's folder as the last run found it. */
  sourcePaths(): Map<string, string> {
    return read.sourcePaths(this.db);
  }

  /** When each source was first backed up (ms), by name. */
  sourcesAddedAt(): Map<string, number> {
    return read.sourcesAddedAt(this.db);
  }

  // --- tracked files and the planner's view ---

  /**
   * Fingerprints of tracked paths in [from, to) that sort after `after` (byte order, as
   * SQLite compares text), at most `limit`, in order. Read in such pages, the state is
   * merged with the scan without ever being held in memory whole.
   */
  fingerprints(from: string, to: string, after: string, limit: number): Fingerprint[] {
    return read.fingerprints(this.db, from, to, after, limit);
  }

  /** One tracked file, or undefined. */
  trackedOne(path: string): TrackedFile | undefined {
    return read.trackedOne(this.db, path);
  }

  /** The tracked files among these paths, in their order (see queries.ts). */
  trackedMany(paths: string[]): TrackedFile[] {
    return read.trackedMany(this.db, paths);
  }

  /** The tracked paths an exclude pattern took out at or below a logical path ("": all). */
  excludedAt(path: string): read.ExcludedFile[] {
    return read.excludedAt(this.db, path);
  }

  /** The exclusions that ended at or below a logical path (see ended_exclusions.ts). */
  endedExclusions(path: string): ended.EndedExclusion[] {
    return ended.endedExclusions(this.db, path);
  }

  /** Up to `upTo` paths below a logical folder with a content at `at` (ended_exclusions.ts). */
  recordedBelowAt(folder: string, at: number, upTo: number): string[] {
    return ended.recordedBelowAt(this.db, folder, at, upTo);
  }

  /** The paths tracked at a logical path or below it, with their status. */
  trackedAt(path: string): { path: string; status: "current" | "excluded" }[] {
    return read.trackedAt(this.db, path);
  }

  /** Whether every file tracked below a logical folder is excluded. */
  allExcludedBelow(folder: string): boolean {
    return read.allExcludedBelow(this.db, folder);
  }

  /** Whether any file below a logical folder is tracked. */
  isTrackedBelow(folder: string): boolean {
    return read.isTrackedBelow(this.db, folder);
  }

  /** How many paths are followed (counted no further than `upTo` where given). */
  trackedCount(upTo?: number): number {
    return read.trackedCount(this.db, upTo);
  }

  /** About how many paths the state tracks (see queries.ts), quickly. */
  trackedEstimate(): number {
    return read.trackedEstimate(this.db);
  }

  /** The tracked path at `offset` in path order (0: the first), if there are that many. */
  trackedPathAt(offset: number): string | undefined {
    return read.trackedPathAt(this.db, offset);
  }

  /** Tracked paths in one source (counted no further than `upTo` where given). */
  trackedIn(source: string, upTo?: number): number {
    return read.trackedIn(this.db, source, upTo);
  }

  /**
   * The runs cut short after recording part of their work, since the last that finished
   * (as of `at`, or now).
   */
  cutRuns(at?: number): runs.CutRuns | undefined {
    return runs.cutRuns(this.db, at);
  }

  /** The runs whose guard held deletions back that still stand (as of `at`, or now). */
  heldBackRuns(at?: number): runs.HeldRun[] {
    return runs.heldBackRuns(this.db, at);
  }

  /**
   * What the last `run` before `runId` with the config file `config` (whose sources are
   * `own`) found left out of the config (`lastLeftSources`).
   */
  lastLeftSources(runId: number, config: string, own?: readonly string[]): string[] | undefined {
    return runs.lastLeftSources(this.db, runId, config, own);
  }

  /** Every run, oldest first, with how it ended and what it recorded. */
  recordedRuns(): runs.RecordedRun[] {
    return runs.recordedRuns(this.db);
  }

  // --- retention, restore, history and verify queries ---

  /** Versions of every path that has more than `max` of them, as retention's rule reads them. */
  datedVersionsOverLimit(max: number): DatedVersion[] {
    return copies.datedVersionsOverLimit(this.db, max);
  }

  /** The copies `ids` that are versions, with their places (for prunes), in that order. */
  storedVersions(ids: number[]): StoredVersion[] {
    return copies.storedVersions(this.db, ids);
  }

  /** The copies in _deleted/ of files deleted before `before` (ms), in path order. */
  deletedBefore(before: number): StoredVersion[] {
    return copies.deletedBefore(this.db, before);
  }

  /** Every stored copy in storage path order, read a page at a time (for verify). */
  eachStoredCopy(): Generator<StoredCopy> {
    return copies.eachStoredCopy(this.db);
  }

  /** A page of the paths ever recorded after `after`, and what paths' contents add up to (`find`). */
  recordedPaths(after: string, limit: number): string[] {
    return copies.recordedPaths(this.db, after, limit);
  }

  recordedSums(first: string, last?: string): copies.RecordedPathRow[] {
    return copies.recordedSums(this.db, first, last);
  }

  /** A page of recorded paths after `after` (below `before`), each summed up (`stats`). */
  storedSumsPage(after: string, limit: number, before?: string): stats.PathSums[] {
    return stats.storedSumsPage(this.db, after, limit, before);
  }

  storedSumsOf(path: string): stats.PathSums | undefined {
    return stats.storedSumsOf(this.db, path);
  }

  /** The id and kind of each copy recorded at a storage path (normally one or none). */
  copyKindsAt(storedAt: string): [number, "file" | "symlink"][] {
    return copies.copyKindsAt(this.db, storedAt);
  }

  /** Whether some copy is recorded below a storage folder. */
  storedBelow(folder: string): boolean {
    return copies.storedBelow(this.db, folder);
  }

  /** All contents ever recorded for one logical path, oldest first. */
  copiesOf(path: string): StoredCopy[] {
    return copies.copiesOf(this.db, path);
  }

  /**
   * Every recorded content (or those below a logical folder) in pages of whole paths, in
   * path order (see queries.ts); `current`: only those no later one replaced or deletion ended.
   */
  copyPages(below?: string, current = false): Generator<StoredCopy[]> {
    return copies.copyPages(this.db, below, current);
  }

  /** How many old copies (versions, deleted files) are recorded as stored. */
  storedOldCopies(): number {
    return copies.storedOldCopies(this.db);
  }

  isRecorded(path: string): boolean {
    return copies.isRecorded(this.db, path);
  }

  /** The copy recorded at a storage path (`versions/a.txt/v2.bak`), if any. */
  copyStoredAt(storedAt: string): { path: string; seq: number; location: string } | undefined {
    return copies.copyStoredAt(this.db, storedAt);
  }

  isRecordedBelow(folder: string): boolean {
    return copies.isRecordedBelow(this.db, folder);
  }

  /** Other recorded spellings of a path or folder (letter case, Unicode form). */
  otherSpellings(path: string, limit?: number): string[] {
    return copies.otherSpellings(this.db, path, limit);
  }
}

/**
 * What `history` shows, read from the state read-only without the run lock: the backup's
 * runs, or every content of one file (of a folder that holds no file, when it stood), with
 * where a run interrupted before its commit moved or deleted their copies. The warnings come
 * first (a run's unfinished work, times ahead of the clock, deletions the guard holds back);
 * a path never backed up gets the hint at what was meant (another spelling, a source the
 * config no longer names, a place in the backup root). Reads only, so an interruption
 * leaves nothing.
 */
import type { Config } from "../config/config.ts";
import { historyTimesNote } from "../core/clock_ahead.ts";
import { UsageError } from "../engine/errors.ts";
import { isStoredCopy, storedEntry } from "../engine/fs/fsops.ts";
import type { StateStore, StoredCopy } from "../state/store.ts";
import { historyEntries, type HistoryEntry } from "./history.ts";
import { asRecorded } from "./logged_path.ts";
import { holderNow, resolverFor, runningNow, withState } from "./open.ts";
import { runEntries, type RunEntry } from "./runs.ts";
import { leftSourceHint, spellingHint, unicodeForm } from "./not_found.ts";
import { heldBackHistoryWarning } from "./held_back.ts";
import { LEFT_OUT_BY } from "./excluded.ts";
import type { HeldRun } from "../state/run_queries.ts";
import type { EndedExclusion, ExclusionEnd } from "../state/ended_exclusions.ts";
import type { FolderSpan } from "../state/folder_spans.ts";
import {
  prunedNow,
  type Unfinished,
  unfinishedWarning,
  unfinishedWork,
  whereNow,
} from "./unfinished.ts";

/** One file's history, as `history PATH` shows it. */
export interface FileHistory {
  /** The logical path the PATH names. */
  path: string;
  /** Its contents, oldest first; none for a path never backed up. */
  entries: HistoryEntry[];
  /** For a path never backed up, the line that says so, with a hint at what was meant. */
  neverBackedUp?: string;
  /** An exclude pattern took it out since it was backed up: its current content is its last. */
  excluded?: true;
  /** When (ISO), where the state recorded it (not by a version before 2026-12-05's). */
  excludedAt?: string;
  /**
   * Each exclusion of it that ended (followed again, or deleted or purged while excluded),
   * oldest first, recorded since 2026-12-06 (state/ended_exclusions.ts); none: absent.
   */
  exclusions?: ExclusionSpan[];
  /**
   * For a folder that holds no file (empty, or holding only folders): when it stood, oldest
   * first, as the state records it (schema 10 on: state/folder_spans.ts); absent otherwise.
   */
  stood?: StoodSpan[];
}

/** A span of a folder's, as `history PATH` shows it: from when, to when (null: standing). */
export interface StoodSpan {
  from: string;
  to: string | null;
}

/** An exclusion that ended, as `history PATH` shows it. */
export interface ExclusionSpan {
  /** When the config took it out, and when that ended (ISO). */
  from: string;
  to: string;
  /** How it ended: followed again, deleted from its source, or purged. */
  ended: ExclusionEnd;
}

/** What the state holds of the path a PATH names. */
interface Recorded {
  path: string;
  copies: StoredCopy[];
  /** Whether the path is a folder the state knows files below. */
  folder: boolean;
  unfinished: Unfinished;
  /** The same name in the other Unicode form, where only it was backed up. */
  otherForm?: string;
  /** The latest run's time, to tell times ahead of the clock. */
  latest: number;
  /** For a path never backed up, the hint at what was meant ("" for none). */
  hint: string;
  /** Whether an exclude pattern took it out since it was backed up (no longer followed). */
  excluded: boolean;
  /** When, where recorded. */
  excludedAt?: number;
  /** The runs whose guard holds deletions back now (held_back.ts). */
  held: HeldRun[];
  /** Its exclusions that ended, oldest first. */
  ended: EndedExclusion[];
  /** For a path with no content and no file below it: its spans as a folder, oldest first. */
  stood: FolderSpan[];
}

/**
 * Every run of the backup. A run that holds the backup root is asked for before the state
 * is read and after (one that ended between the two is not taken for one killed); the
 * list itself shows runs interrupted, without a warning.
 */
export function backupRuns(config: Config): RunEntry[] {
  const before = holderNow(config);
  const recorded = withState(config, (store) => store.recordedRuns());
  return runEntries(recorded, before ?? holderNow(config));
}

/**
 * The history of the file `given` names, its warnings said first through `warn`; a
 * UsageError for a folder. `json`: the caller prints a document, whose `excluded` says a
 * file excluded since, so that is not warned of too (docs/json.md).
 */
export function fileHistory(
  config: Config,
  given: string,
  warn: (line: string) => void,
  json = false,
): FileHistory {
  const recorded = withState(config, (store) => recordedAt(config, store, given));
  const { path, copies, unfinished } = recorded;
  const warning = unfinishedWarning(unfinished, "shows", runningNow(config));
  if (warning) warn(warning);
  const clockNote = copies.length > 0 ? historyTimesNote(recorded.latest, Date.now()) : undefined;
  if (clockNote) warn(clockNote);
  const current = copies.some((c) => c.validTo === null);
  if (recorded.excluded && current && !json) {
    const when = recorded.excludedAt === undefined
      ? ""
      : `; taken out at ${new Date(recorded.excludedAt).toISOString()}`;
    warn(
      `WARNING: '${path}' is excluded (${LEFT_OUT_BY}${when}): no run has backed it up ` +
        "since, so its content shown current is the last one backed up, and the file may " +
        "have changed since",
    );
  }
  const heldLine = current ? heldBackHistoryWarning(recorded.held, path) : undefined;
  if (heldLine) warn(heldLine);
  if (copies.length === 0 && recorded.folder) {
    throw new UsageError(`Cannot show history of folder '${given}': give a file PATH under it`);
  }
  const iso = (ms: number) => new Date(ms).toISOString();
  if (copies.length === 0 && recorded.stood.length > 0) {
    const stood = recorded.stood.map((s) => ({
      from: iso(s.from),
      to: s.to === null ? null : iso(s.to),
    }));
    return { path, entries: [], stood };
  }
  if (copies.length === 0) {
    return { path, entries: [], neverBackedUp: neverBackedUpLine(given, recorded) };
  }
  const held = (storage: string) => isStoredCopy(storedEntry(config.backupRoot, storage));
  const entries = historyEntries(
    copies,
    (at) => whereNow(unfinished, at, held),
    (at) => prunedNow(unfinished, at, held),
  );
  const { excluded, excludedAt, ended } = recorded;
  const at = excludedAt === undefined ? {} : { excludedAt: iso(excludedAt) };
  const exclusions = ended.map((e) => ({ from: iso(e.from), to: iso(e.to), ended: e.by }));
  return {
    path,
    entries,
    ...excluded ? { excluded: true, ...at } : {},
    ...exclusions.length > 0 ? { exclusions } : {},
  };
}

function recordedAt(config: Config, store: StateStore, given: string): Recorded {
  const resolver = resolverFor(config, store);
  const path = asRecorded(resolver, given);
  const unfinished = unfinishedWork(store.pendingIntents());
  const copies = store.copiesOf(path);
  // The same name in the other Unicode form (what a Mac's file system gives: é as e
  // and an accent), which a terminal shows alike.
  const otherForm = copies.length > 0
    ? undefined
    : [path.normalize("NFC"), path.normalize("NFD")].find((p) =>
      p !== path && store.copiesOf(p).length > 0
    );
  const latest = store.latestRunTime();
  const folder = resolver.isFolder(path);
  // A folder that holds no file, whose spans the state keeps (schema 10 on).
  const stood = copies.length > 0 || folder ? [] : store.folderSpans(path);
  const other = resolver.otherReading(given) ?? resolver.leftReading(path);
  const hint = copies.length > 0 || folder || otherForm || stood.length > 0
    ? ""
    : leftSourceHint(store, other) || resolver.storedCopyHintFor(given, path) ||
      spellingHint(store, path, other);
  const excluded = store.trackedOne(path)?.status === "excluded";
  const excludedAt = excluded
    ? store.excludedAt(path).find((r) => r.path === path)?.excludedAt ?? undefined
    : undefined;
  const held = copies.length > 0 ? store.heldBackRuns() : [];
  const ended = copies.length > 0 ? store.endedExclusions(path).filter((e) => e.path === path) : [];
  return {
    path,
    copies,
    folder,
    unfinished,
    otherForm,
    latest,
    hint,
    excluded,
    excludedAt,
    held,
    ended,
    stood,
  };
}

function neverBackedUpLine(given: string, { path, otherForm, hint }: Recorded): string {
  const why = otherForm === undefined
    ? hint
    : `, but the same name written ${
      unicodeForm(otherForm)
    } was: give the path as the disk spells it (the two look alike on screen)`;
  return `Cannot show history of '${given}': '${path}' was never backed up${why}`;
}

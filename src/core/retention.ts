/**
 * Retention, a pure rule: of the versions stored for one path (copies in versions/), keep
 * the `max` with the highest content numbers and, where the config asks for them, the
 * newest version of each of the newest `days`, `weeks` and `months` (calendar days, weeks
 * from Monday and months, in the periods' `timeZone` (calendar.ts: the process's where it
 * is "local" or absent), by when the version's content was first backed up) that have
 * versions of that path, as restic's `forget --keep-daily` keeps snapshots;
 * prune the rest, oldest first. And where `keep_deleted_days` is set, the copies of files
 * deleted longer ago than that (in _deleted/). Latest copies and duplicates are never
 * touched.
 */
import { type CivilDay, dayReader } from "./calendar.ts";
import type { Action, RecordedContent } from "./types.ts";

/** A version as the rule reads it: whose, its number, and when its content was first backed up. */
export interface DatedVersion {
  path: string;
  copyId: number;
  seq: number;
  /** When its content was first backed up (ms since the epoch, as the state records it). */
  validFrom: number;
}

/** A version with its place, as a prune needs it. */
export interface StoredVersion extends DatedVersion {
  storedAt: string;
  /** A file's content as recorded, to tell a copy holding other bytes (not for a symlink). */
  recorded?: RecordedContent;
  /** A symlink's target as recorded (its digest), to tell a copy that is not that symlink. */
  link?: { hash: string; algo: string };
}

/** How many days, weeks and months keep their newest version of each file (0: none). */
export interface KeptPeriods {
  days: number;
  weeks: number;
  months: number;
  /**
   * The zone they are cut in (`retention.time_zone`): an IANA name, or "local" (as absent)
   * for the process's (calendar.ts).
   */
  timeZone?: string;
}

/** No versions kept by period: the newest `max` only. */
export const NO_PERIODS: KeptPeriods = { days: 0, weeks: 0, months: 0 };

/** The most versions of one path the rule keeps: what a path over it surely loses. */
export function mostKept(max: number, periods: KeptPeriods): number {
  return max + periods.days + periods.weeks + periods.months;
}

export function planRetention(
  versions: StoredVersion[],
  max: number,
  periods: KeptPeriods = NO_PERIODS,
): Action[] {
  return prunedVersions(versions, max, periods).map(pruneAction);
}

/** The versions the rule lets go: by path, then oldest first. */
export function prunedVersions<V extends DatedVersion>(
  versions: V[],
  max: number,
  periods: KeptPeriods = NO_PERIODS,
): V[] {
  const byPath = new Map<string, V[]>();
  for (const v of versions) {
    const list = byPath.get(v.path) ?? [];
    list.push(v);
    byPath.set(v.path, list);
  }
  const pruned: V[] = [];
  for (const path of [...byPath.keys()].sort()) {
    const list = byPath.get(path)!.sort((a, b) => a.seq - b.seq);
    const kept = keptOf(list, max, periods);
    pruned.push(...list.filter((v) => !kept.has(v)));
  }
  return pruned;
}

/** The prune of a stored copy: a version the rule let go, or a deleted file's. */
export function pruneAction(v: StoredVersion): Action {
  const { path, copyId, seq, storedAt, recorded, link } = v;
  return {
    type: "prune",
    path,
    copyId,
    seq,
    storedAt,
    ...(recorded && { recorded }),
    ...(link && { link }),
  };
}

/** A day, in ms: `keep_deleted_days` counts 24-hour days back from the pass. */
export const DAY_MS = 86_400_000;

/**
 * The time before which a file deleted has its copy in _deleted/ pruned, for a pass at
 * `now` (ms); undefined where they are kept for good (`days` 0).
 */
export function deletedCutoff(now: number, days: number): number | undefined {
  return days > 0 ? now - days * DAY_MS : undefined;
}

/** The versions of one path (oldest first) the rule keeps. */
function keptOf<V extends DatedVersion>(list: V[], max: number, periods: KeptPeriods): Set<V> {
  const kept = new Set(list.slice(Math.max(0, list.length - max)));
  const rules: [number, (day: CivilDay) => string][] = [
    [periods.days, dayKey],
    [periods.weeks, weekKey],
    [periods.months, monthKey],
  ];
  const dayOf = dayReader(periods.timeZone);
  const days = new Map<V, CivilDay>();
  for (const [count, periodOf] of rules) {
    const seen = new Set<string>();
    // Newest first: the first version met in a period is its newest.
    for (let i = list.length - 1; i >= 0 && seen.size < count; i--) {
      let day = days.get(list[i]);
      if (!day) days.set(list[i], day = dayOf(list[i].validFrom));
      const period = periodOf(day);
      if (seen.has(period)) continue;
      seen.add(period);
      kept.add(list[i]);
    }
  }
  return kept;
}

/** A calendar day, as a key. */
function dayKey(d: CivilDay): string {
  return `${d.year}-${d.month}-${d.day}`;
}

/** The week (from Monday) of a day, as its Monday's day: calendar arithmetic, no zone. */
function weekKey(d: CivilDay): string {
  const sinceMonday = (d.weekday + 6) % 7;
  const monday = new Date(0);
  monday.setUTCFullYear(d.year, d.month - 1, d.day - sinceMonday);
  return `${monday.getUTCFullYear()}-${monday.getUTCMonth() + 1}-${monday.getUTCDate()}`;
}

/** A calendar month, as a key. */
function monthKey(d: CivilDay): string {
  return `${d.year}-${d.month}`;
}

/**
 * As-of resolution, pure: from every recorded content of every path (the state's `copies`
 * rows) and a selector — the latest, a moment, or one path's content number — which
 * content each path had, and which of those can no longer be restored because retention
 * pruned their copy or it was lost. A content whose own copy is gone but whose bytes the
 * backup still stores for another path or version (same digest) is restored from there;
 * one recorded under another hash algorithm is found by reading it (other_algos.ts).
 * Also the `--at` time parser. No disk and no clock, so everything here is tested with
 * tables of rows; nothing is written, so an interruption leaves nothing.
 *
 * A content is the path's content at time T when valid_from <= T < (valid_to ?? ∞): the
 * interval is half-open, so at the instant one content replaced another (two runs within
 * the same millisecond) exactly one of them matches.
 */
import type { StoredCopy } from "../state/store.ts";

export type Selector =
  /** Each tracked path's current content; deleted paths are left out. */
  | { kind: "latest" }
  /** The tree as it was at `time` (ms since the epoch). */
  | { kind: "at"; time: number }
  /** Content number `seq` of one path. */
  | { kind: "version"; path: string; seq: number };

/** A content that was selected but whose copy is gone. */
interface Unavailable {
  copy: StoredCopy;
  reason: string;
}

export interface Resolution {
  /** One content per path, sorted by path; each has a stored copy. */
  copies: StoredCopy[];
  unavailable: Unavailable[];
}

/**
 * Per path of `rows` (which must hold every row of each of their paths), the content the
 * selector names: those whose own copy is stored, and those whose copy is gone; both
 * sorted by path.
 */
export function selectContents(
  rows: readonly StoredCopy[],
  sel: Selector,
): { stored: StoredCopy[]; gone: StoredCopy[] } {
  const byPath = new Map<string, StoredCopy>();
  for (const c of rows) {
    if (!matches(c, sel)) continue;
    // Intervals of one path never overlap; should a damaged state say otherwise, the
    // newest content wins.
    const seen = byPath.get(c.path);
    if (!seen || c.seq > seen.seq) byPath.set(c.path, c);
  }
  const out = { stored: [] as StoredCopy[], gone: [] as StoredCopy[] };
  for (const path of [...byPath.keys()].sort()) {
    const c = byPath.get(path)!;
    (isStored(c) ? out.stored : out.gone).push(c);
  }
  return out;
}

/**
 * Contents whose own copy is gone, restored from the first stored copy (in storage path
 * order) of the same bytes, when the backup still holds one for another path or version;
 * the others are unavailable, with why. `stored` is read once; only the contents of
 * `gone` are remembered, so the cost in memory is theirs, not the backup's.
 */
export function findElsewhere(
  gone: readonly StoredCopy[],
  stored: Iterable<StoredCopy>,
): Resolution {
  const first = new Map<string, string | undefined>(gone.map((c) => [contentKey(c), undefined]));
  for (const c of stored) {
    if (!isStored(c)) continue;
    const key = contentKey(c);
    if (!first.has(key)) continue;
    const seen = first.get(key);
    if (seen === undefined || c.storedAt! < seen) first.set(key, c.storedAt!);
  }
  const resolution: Resolution = { copies: [], unavailable: [] };
  for (const c of gone) {
    const elsewhere = first.get(contentKey(c));
    if (elsewhere !== undefined) resolution.copies.push({ ...c, storedAt: elsewhere });
    else if (isWholeInRecord(c)) resolution.copies.push(c);
    else resolution.unavailable.push({ copy: c, reason: goneReason(c) });
  }
  return resolution;
}

/**
 * Whether the state's record alone makes the content, with no copy to read: an empty file
 * (no bytes), or a symlink (its target); never one purged, asked by name to be gone (its
 * record keeps no target either). The record is checked against its digest as the content
 * is made (copy_out.ts).
 */
function isWholeInRecord(c: StoredCopy): boolean {
  if (c.location === "purged") return false;
  return c.kind === "file" ? c.size === 0 : c.linkTarget !== null;
}

/** Whether a recorded content's copy is (as far as the state knows) in the backup root. */
export function isStored(c: StoredCopy): boolean {
  return c.storedAt !== null && c.location !== "pruned" && c.location !== "lost" &&
    c.location !== "purged";
}

/**
 * For contents whose own copy turned out missing or damaged before any run recorded that,
 * the other stored copies of the same bytes (storage path order), where a restore can read
 * them instead: one read of `everything`, keeping only what `wanted` needs.
 */
export function othersHolding(
  wanted: readonly StoredCopy[],
  everything: Iterable<StoredCopy>,
): (c: StoredCopy) => string[] {
  const byContent = new Map<string, string[]>(wanted.map((c) => [contentKey(c), []]));
  for (const s of everything) {
    if (isStored(s)) byContent.get(contentKey(s))?.push(s.storedAt!);
  }
  for (const list of byContent.values()) list.sort();
  return (c) => (byContent.get(contentKey(c)) ?? []).filter((p) => p !== c.storedAt);
}

/**
 * What makes two stored copies the same content: kind and digest. Copies recorded under
 * different algorithms never share a key: see other_algos.ts for those.
 */
export const contentKey = (c: StoredCopy) => `${c.kind}:${c.algo}:${c.hash}`;

function matches(c: StoredCopy, sel: Selector): boolean {
  switch (sel.kind) {
    case "latest":
      return c.validTo === null;
    case "at":
      return c.validFrom <= sel.time && (c.validTo === null || sel.time < c.validTo);
    case "version":
      return c.path === sel.path && c.seq === sel.seq;
  }
}

/** Why a content's copy is gone, as the state records it (pruned or lost). */
export function goneReason(c: StoredCopy): string {
  const when = c.prunedAt === null ? "" : ` at ${new Date(c.prunedAt).toISOString()}`;
  if (c.location === "lost") {
    return `version ${c.seq} was found missing from the backup root${when}: its copy is lost`;
  }
  if (c.location === "purged") {
    return `version ${c.seq} was purged${when} (backup-tool purge): its copy no longer exists`;
  }
  return `version ${c.seq} was pruned by retention${when}: its copy no longer exists`;
}

/** Whether a logical path is one of `targets` or lies under one ("" = everything). */
export function isWithin(path: string, targets: readonly string[]): boolean {
  if (targets.length === 0) return true;
  return targets.some((t) => t === "" || path === t || path.startsWith(`${t}/`));
}

/**
 * The targets not at or below another one given ("" holds everything), each once, in the
 * order given: those inside another add nothing to what the other covers.
 */
export function outermost(targets: readonly string[]): string[] {
  return targets.filter((t, i) => !targets.some((o, j) => (o === t ? j < i : isWithin(t, [o]))));
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})(Z?)$/i;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** A time before now: counts of weeks, days, hours, minutes and seconds (`2h`, `1d12h`). */
const AGO = /^(?:\d+[wdhms])+$/i;
const AGO_PART = /(\d+)([wdhms])/gi;

/** Each unit of `AGO` in ms: a day is 24 hours, as `keep_deleted_days` counts them. */
const UNIT_MS: Record<string, number> = {
  w: 7 * 86_400_000,
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
};

export const AT_FORMAT = "an ISO-8601 time such as 2026-11-28T18:00:00Z, " +
  "2026-11-28T18:00 (local time), a date such as 2026-11-28 (the end of that day), " +
  "or a time before now such as 90m, 2h, 3d or 1w2d (weeks, days, hours, minutes, seconds)";

/**
 * Parses an `--at` value into ms since the epoch, or undefined when it is not one. A date
 * alone means the last millisecond of that day; without `Z` or an offset, local time.
 * Every year from 0000 to 9999 means that year (proleptic Gregorian calendar). A duration
 * (`2h`, `1d12h`) means that long before `now`.
 */
export function parseAt(text: string, now = Date.now()): number | undefined {
  if (AGO.test(text.trim())) return agoFrom(text.trim(), now);
  const d = DATE_ONLY.exec(text.trim());
  if (d) {
    const [y, mo, day] = [Number(d[1]), Number(d[2]), Number(d[3])];
    if (!validFields(y, mo, day, 0, 0, 0)) return undefined;
    // The next midnight minus 1 ms: right even on days with a DST change.
    const nextMidnight = d[4]
      ? utcTime(y, mo, day + 1, 0, 0, 0, 0)
      : localTime(y, mo, day + 1, 0, 0, 0, 0);
    return nextMidnight - 1;
  }
  const m = DATE_TIME.exec(text.trim());
  if (!m) return undefined;
  const [y, mo, day, h, mi] = [1, 2, 3, 4, 5].map((i) => Number(m[i]));
  const s = Number(m[6] ?? 0);
  const ms = Number((m[7] ?? "").padEnd(3, "0").slice(0, 3));
  if (!validFields(y, mo, day, h, mi, s)) return undefined;
  if (!m[8]) return localTime(y, mo, day, h, mi, s, ms);
  const offset = offsetMinutes(m[8]);
  if (offset === undefined) return undefined;
  return utcTime(y, mo, day, h, mi, s, ms) - offset * 60_000;
}

/** The moment `text` (an `AGO` duration) before `now`; undefined past the year 0. */
function agoFrom(text: string, now: number): number | undefined {
  let ms = 0;
  for (const [, count, unit] of text.matchAll(AGO_PART)) {
    ms += Number(count) * UNIT_MS[unit.toLowerCase()];
  }
  const at = now - ms;
  return Number.isSafeInteger(at) && at >= utcTime(0, 1, 1, 0, 0, 0, 0) ? at : undefined;
}

/** Whether an `--at` value is a local time (no `Z` and no offset). */
export function isLocalTime(text: string): boolean {
  const d = DATE_ONLY.exec(text.trim());
  if (d) return !d[4];
  const m = DATE_TIME.exec(text.trim());
  return m !== null && !m[8];
}

function validFields(y: number, mo: number, d: number, h: number, mi: number, s: number) {
  const t = new Date(utcTime(y, mo, d, h, mi, s, 0));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d &&
    t.getUTCHours() === h && t.getUTCMinutes() === mi && t.getUTCSeconds() === s;
}

// `Date.UTC` and `new Date(y, …)` read years 0–99 as 1900–1999; for those years the time is
// built with `setUTCFullYear` / `setFullYear`, which take the year as given.

/** The UTC time with these fields (`mo` from 1; out-of-range fields roll over). */
function utcTime(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number) {
  if (y >= 100) return Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, s, ms);
  return t.getTime();
}

/** The local time (in the TZ) with these fields, as `new Date(y, mo - 1, …)` gives it. */
function localTime(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number) {
  if (y >= 100) return new Date(y, mo - 1, d, h, mi, s, ms).getTime();
  // Before any time zone rule, so no DST: setting the day, then the time, is exact.
  const t = new Date(0);
  t.setFullYear(y, mo - 1, d);
  t.setHours(h, mi, s, ms);
  return t.getTime();
}

/** `Z`, `+02:00`, `+0200` or `-05` as minutes east of UTC. */
function offsetMinutes(text: string): number | undefined {
  if (text.toUpperCase() === "Z") return 0;
  const digits = text.slice(1).replace(":", "");
  const h = Number(digits.slice(0, 2));
  const m = Number(digits.slice(2) || 0);
  if (h > 23 || m > 59) return undefined;
  return (text[0] === "-" ? -1 : 1) * (h * 60 + m);
}

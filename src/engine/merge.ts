/**
 * The merge of a sorted scan with the state's tracked files, read page by page in the
 * same order, so neither side is ever held in memory as a lookup table: for a million
 * files the pass keeps the scan entries and two flags per entry, not a second copy of the
 * state. It decides which entries must be read (new, or fingerprint changed) and which
 * tracked paths the scan no longer saw. Read-only.
 *
 * Both sides use code point order, which is UTF-8 byte order, which is how SQLite compares
 * text; JavaScript's `<` compares UTF-16 units and would disagree on characters beyond
 * U+FFFF, silently turning a present file into a "vanished" one.
 */
import type { TrackedFile } from "./types.ts";
import type { ScanEntry } from "./types.ts";

/** Tracked rows per page: large enough to amortize the query, small enough to stay flat. */
const PAGE_ROWS = 4096;

/** Compares strings by code point (= UTF-8 byte order = SQLite's BINARY collation). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (U+D800..U+DFFF) stands for a code point above U+FFFF: it sorts after
    // every other unit, including U+E000..U+FFFF.
    const sx = x >= 0xd800 && x <= 0xdfff ? x + 0x2000 : x >= 0xe000 ? x - 0x800 : x;
    const sy = y >= 0xd800 && y <= 0xdfff ? y + 0x2000 : y >= 0xe000 ? y - 0x800 : y;
    return sx - sy;
  }
  return a.length - b.length;
}

export interface TrackedSource {
  trackedPage(from: string, to: string, after: string, limit: number): TrackedFile[];
}

/**
 * The key ranges holding the tracked paths under each prefix (a source name or a scoped
 * logical path): `[prefix, prefix + "0")` covers the prefix itself and everything below
 * it (`"/"` is followed by `"0"` in byte order); callers filter the neighbours it also
 * covers (`prefix.txt`). Sorted and disjoint when the prefixes are.
 */
export function prefixRanges(prefixes: string[]): [string, string][] {
  return [...prefixes].sort(compareCodePoints).map((p) => [p, `${p}0`]);
}

/** Tracked files in the ranges, in order, a page at a time. */
export function* trackedRows(
  state: TrackedSource,
  ranges: [string, string][],
): Generator<TrackedFile> {
  let last = "";
  for (const [from, to] of ranges) {
    for (let after = "";;) {
      const page = state.trackedPage(from, to, after, PAGE_ROWS);
      for (const row of page) {
        if (last !== "" && compareCodePoints(row.path, last) <= 0) continue; // overlap
        last = row.path;
        yield row;
      }
      if (page.length < PAGE_ROWS) break;
      after = page[page.length - 1].path;
    }
  }
}

export interface Merged {
  /** 1 where the entry must be read: new, or its fingerprint says it may have changed. */
  toRead: Uint8Array;
  /** 1 where the entry is a tracked path. */
  tracked: Uint8Array;
  /** Tracked rows no scanned entry matched, in order. */
  unmatched: TrackedFile[];
}

/** Merges sorted entries with sorted tracked rows. */
export function mergeScan(
  entries: ScanEntry[],
  rows: Iterable<TrackedFile>,
  needsHash: (e: ScanEntry, t: TrackedFile | undefined) => boolean,
): Merged {
  const toRead = new Uint8Array(entries.length);
  const tracked = new Uint8Array(entries.length);
  const unmatched: TrackedFile[] = [];
  let i = 0;
  for (const t of rows) {
    while (i < entries.length && compareCodePoints(entries[i].path, t.path) < 0) {
      toRead[i] = needsHash(entries[i], undefined) ? 1 : 0;
      i++;
    }
    if (i < entries.length && entries[i].path === t.path) {
      tracked[i] = 1;
      toRead[i] = needsHash(entries[i], t) ? 1 : 0;
      i++;
    } else unmatched.push(t);
  }
  for (; i < entries.length; i++) toRead[i] = needsHash(entries[i], undefined) ? 1 : 0;
  return { toRead, tracked, unmatched };
}

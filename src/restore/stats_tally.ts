/**
 * What `stats` adds up, a recorded path at a time: the copies stored at each place and
 * their bytes, the contents recorded with no copy left, and the paths whose older versions
 * and deleted copies take the most bytes, the `top` of them kept (never more than twice as
 * many held, whatever the number of paths). Pure.
 */
import { compareCodePoints } from "../core/merge.ts";
import {
  GONE_LOCATIONS,
  type GoneLocation,
  type PathSums,
  STORED_LOCATIONS,
  type StoredLocation,
} from "../state/stats_queries.ts";

/** Copies and the bytes of their files. */
export interface Amount {
  copies: number;
  bytes: number;
}

/** A path whose older versions and deleted copies take bytes (`--top`). */
export interface TopPath {
  path: string;
  /** Its copies in versions/ and _deleted/. */
  versions: number;
  bytes: number;
}

export interface Tally {
  stored: Record<StoredLocation, Amount>;
  gone: Record<GoneLocation, number>;
  /**
   * The files the config leaves out now (excluded: no run backs them up) and all their
   * stored copies, which `purge PATH` may delete.
   */
  excluded: Amount & { files: number };
  /** Recorded paths added up (every one at or below the PATHs, stored or not). */
  paths: number;
}

export function emptyTally(): Tally {
  const stored = Object.fromEntries(STORED_LOCATIONS.map((l) => [l, { copies: 0, bytes: 0 }]));
  const gone = Object.fromEntries(GONE_LOCATIONS.map((l) => [l, 0]));
  return { stored, gone, excluded: { files: 0, copies: 0, bytes: 0 }, paths: 0 } as Tally;
}

/** Adds one path's figures to `tally`; what its old copies take, for the top list. */
export function addPath(tally: Tally, row: PathSums): TopPath {
  tally.paths++;
  STORED_LOCATIONS.forEach((l, i) => {
    tally.stored[l].copies += row[1 + 2 * i] as number;
    tally.stored[l].bytes += row[2 + 2 * i] as number;
  });
  const goneAt = 1 + 2 * STORED_LOCATIONS.length;
  GONE_LOCATIONS.forEach((l, i) => tally.gone[l] += row[goneAt + i] as number);
  if (row[goneAt + GONE_LOCATIONS.length] === 1) {
    tally.excluded.files++;
    STORED_LOCATIONS.forEach((_, i) => {
      tally.excluded.copies += row[1 + 2 * i] as number;
      tally.excluded.bytes += row[2 + 2 * i] as number;
    });
  }
  const [path, , , versions, versionBytes, deleted, deletedBytes] = row;
  return { path, versions: versions + deleted, bytes: versionBytes + deletedBytes };
}

/** Every stored copy added up. */
export function totalOf(tally: Tally): Amount {
  const all = Object.values(tally.stored);
  return {
    copies: all.reduce((n, a) => n + a.copies, 0),
    bytes: all.reduce((n, a) => n + a.bytes, 0),
  };
}

/** Most bytes first, then most copies, then path order. */
export function byCost(a: TopPath, b: TopPath): number {
  return b.bytes - a.bytes || b.versions - a.versions || compareCodePoints(a.path, b.path);
}

/**
 * The `n` paths whose old copies cost the most, of those offered: held unsorted up to
 * 2n (at least 1,000), then sorted and cut back to `n`, so that a state of any size costs
 * O(n) memory and O(paths · log n) time.
 */
export class TopPaths {
  #held: TopPath[] = [];
  readonly #room: number;

  constructor(readonly n: number) {
    this.#room = Math.max(2 * n, 1000);
  }

  offer(p: TopPath): void {
    if (p.versions === 0) return;
    this.#held.push(p);
    if (this.#held.length >= this.#room) this.#cut();
  }

  /** The top `n`, most bytes first. */
  list(): TopPath[] {
    this.#cut();
    return [...this.#held];
  }

  #cut(): void {
    this.#held.sort(byCost);
    if (this.#held.length > this.n) this.#held.length = this.n;
  }
}

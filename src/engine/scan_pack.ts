/**
 * How the scan worker's items cross to the main thread cheaply: a chunk's paths as two
 * NUL-joined strings (NUL is never part of a name) and its numbers in one transferable
 * Float64Array, instead of one cloned object per entry, whose serialization cost more
 * than a third of the worker's time (profiled). Pure.
 */
import type { ScanEntry } from "./types.ts";

/** One item of the walk, in order: an entry, or a problem or special file met there. */
export type ScanItem =
  | ScanEntry
  | { problem: { path: string; message: string } }
  | { special: { path: string; message: string } };

export interface PackedItems {
  paths: string;
  abs: string;
  /** Per entry, FIELDS numbers: size, mtimeMs, ctimeMs, ino, dev, mode, kind (1 = symlink). */
  numbers: Float64Array;
  /** Symlink targets, by entry index. */
  links: [number, string][];
  /** Problems and special files, by the index of the entry they come before. */
  events: [number, "problem" | "special", string, string][];
}

const FIELDS = 7;
const SEP = "\0";

export function packItems(items: ScanItem[]): PackedItems {
  const entries: ScanEntry[] = [];
  const links: [number, string][] = [];
  const events: PackedItems["events"] = [];
  for (const item of items) {
    if ("problem" in item) {
      events.push([entries.length, "problem", item.problem.path, item.problem.message]);
    } else if ("special" in item) {
      events.push([entries.length, "special", item.special.path, item.special.message]);
    } else {
      if (item.linkTarget !== undefined) links.push([entries.length, item.linkTarget]);
      entries.push(item);
    }
  }
  const numbers = new Float64Array(entries.length * FIELDS);
  for (let i = 0, o = 0; i < entries.length; i++, o += FIELDS) {
    const e = entries[i];
    numbers[o] = e.size;
    numbers[o + 1] = e.mtimeMs;
    numbers[o + 2] = e.ctimeMs;
    numbers[o + 3] = e.ino;
    numbers[o + 4] = e.dev;
    numbers[o + 5] = e.mode;
    numbers[o + 6] = e.kind === "symlink" ? 1 : 0;
  }
  return {
    paths: entries.map((e) => e.path).join(SEP),
    abs: entries.map((e) => e.abs).join(SEP),
    numbers,
    links,
    events,
  };
}

export function unpackItems(packed: PackedItems): ScanItem[] {
  const n = packed.numbers.length / FIELDS;
  const paths = n > 0 ? packed.paths.split(SEP) : [];
  const abs = n > 0 ? packed.abs.split(SEP) : [];
  const links = new Map(packed.links);
  const items: ScanItem[] = [];
  let next = 0;
  const eventsBefore = (i: number) => {
    for (; next < packed.events.length && packed.events[next][0] === i; next++) {
      const [, kind, path, message] = packed.events[next];
      items.push(
        kind === "problem" ? { problem: { path, message } } : { special: { path, message } },
      );
    }
  };
  const v = packed.numbers;
  for (let i = 0; i < n; i++) {
    eventsBefore(i);
    const o = i * FIELDS;
    const entry: ScanEntry = {
      path: paths[i],
      abs: abs[i],
      kind: v[o + 6] === 1 ? "symlink" : "file",
      size: v[o],
      mtimeMs: v[o + 1],
      ctimeMs: v[o + 2],
      ino: v[o + 3],
      dev: v[o + 4],
      mode: v[o + 5],
    };
    const target = links.get(i);
    if (target !== undefined) entry.linkTarget = target;
    items.push(entry);
  }
  eventsBefore(n);
  return items;
}

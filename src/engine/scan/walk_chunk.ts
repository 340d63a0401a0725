/**
 * How the walk worker sends what it walked (staging.ts): a chunk's entries as columns, not
 * objects. Structured clone builds an object, or an array, a property at a time: receiving
 * 100,000 entries that way cost the main thread about 350 ms, more than merging them with
 * the state; joined strings and one Float64Array cost about a tenth of that (measured
 * here). Paths are joined with NUL, the one character no file name can hold. An entry's
 * absolute path, which is its source's folder and its path inside (`absOf`) but for odd
 * cases, travels as "" and is made again on arrival: the absolute paths were most of what
 * a 100,000-file tree's chunks weighed, and the main thread holds what the worker walked
 * ahead while it walks its own share. What the scan reported between entries travels
 * beside them, with the index of the entry it came before, so the main thread sees
 * everything in walk order. Pure data; nothing to leave behind.
 */
import { sep } from "node:path";
import type { ScanEntry } from "../../core/types.ts";
import { childPath } from "../rel_path.ts";

/** Numbers per entry: size, mtime, ctime, inode, device, mode, uid, gid, kind, nlink. */
const FIELDS = 10;
const KINDS: ScanEntry["kind"][] = ["file", "symlink"];
const SEP = "\0";

/**
 * A chunk as posted: `nums` holds FIELDS numbers an entry (NaN for an absent uid, gid or
 * nlink).
 */
export interface WalkedChunk<R> {
  count: number;
  paths: string;
  abs: string;
  /** Symlink targets, in the order of the symlinks among the entries. */
  links: string;
  nums: Float64Array<ArrayBuffer>;
  /** Reports, each with the index of the entry it came before (`count`: after the last). */
  reports: [before: number, report: R][];
}

/** Each source's folder by name, as the walk was given it: what `absOf` makes paths from. */
export type SourceRoots = ReadonlyMap<string, string>;

export function sourceRoots(sources: readonly { name: string; path: string }[]): SourceRoots {
  return new Map(sources.map((s) => [s.name, s.path]));
}

/**
 * The absolute path of the logical `path` (`<source name>/<path inside>`): its source's
 * folder, this system's separator, the path inside with this system's separators. What the
 * walk makes but where a folder's path was spelled otherwise; undefined for a source's own
 * root, or a source not in `roots`.
 */
export function absOf(roots: SourceRoots, path: string): string | undefined {
  const slash = path.indexOf("/");
  const root = slash < 0 ? undefined : roots.get(path.slice(0, slash));
  if (root === undefined) return undefined;
  const inside = sep === "/" ? path.slice(slash + 1) : path.slice(slash + 1).replaceAll("/", sep);
  return childPath(root, inside);
}

/** Collects entries and reports into a chunk. */
export class ChunkWriter<R> {
  #paths: string[] = [];
  #abs: string[] = [];
  #links: string[] = [];
  #nums: number[] = [];
  #reports: [number, R][] = [];

  /** `roots`: the walk's sources, whose entries' absolute paths are left out where they can be. */
  constructor(readonly roots?: SourceRoots) {}

  get count(): number {
    return this.#paths.length;
  }

  /** Whether the chunk holds anything to send. */
  get empty(): boolean {
    return this.#paths.length === 0 && this.#reports.length === 0;
  }

  add(e: ScanEntry): void {
    this.#paths.push(e.path);
    this.#abs.push(this.roots !== undefined && absOf(this.roots, e.path) === e.abs ? "" : e.abs);
    if (e.kind === "symlink") this.#links.push(e.linkTarget ?? "");
    this.#nums.push(
      e.size,
      e.mtimeMs,
      e.ctimeMs,
      e.ino,
      e.dev,
      e.mode,
      e.uid ?? NaN,
      e.gid ?? NaN,
      KINDS.indexOf(e.kind),
      e.nlink ?? NaN,
    );
  }

  report(r: R): void {
    this.#reports.push([this.#paths.length, r]);
  }

  /** The chunk so far, and a fresh start; its `nums` buffer may be transferred. */
  take(): WalkedChunk<R> {
    const chunk = {
      count: this.#paths.length,
      paths: this.#paths.join(SEP),
      abs: this.#abs.join(SEP),
      links: this.#links.join(SEP),
      nums: Float64Array.from(this.#nums),
      reports: this.#reports,
    };
    this.#paths = [];
    this.#abs = [];
    this.#links = [];
    this.#nums = [];
    this.#reports = [];
    return chunk;
  }
}

/**
 * The entry with strings of its own. The entries `readChunk` gives out hold substrings of
 * their chunk's joined strings, and V8 cuts a substring of 13 characters or more out of
 * its parent without copying it, keeping the parent alive: one entry kept keeps its whole
 * chunk. The 1,000 changed entries a 100,000-file run held until its walk ended kept 10 MiB
 * of chunks alive that way, half of the main thread's live heap then (a heap snapshot).
 * Whatever keeps an entry after its chunk keeps this copy. JSON makes the copy: a string
 * it parses is a new one.
 */
export function ownStrings(e: ScanEntry): ScanEntry {
  const [path, abs, linkTarget] = JSON.parse(JSON.stringify([e.path, e.abs, e.linkTarget]));
  return linkTarget === null ? { ...e, path, abs } : { ...e, path, abs, linkTarget };
}

/**
 * Visits a chunk in walk order: each report, and each entry rebuilt with the fields the
 * scan gave it (an absent uid, gid, nlink or link target stays absent). Stops, returning false,
 * as soon as `onEntry` returns false.
 */
export async function readChunk<R>(
  chunk: WalkedChunk<R>,
  onReport: (r: R) => void,
  onEntry: (e: ScanEntry) => Promise<boolean>,
  /** The roots the chunk's writer was given: where it left an absolute path out. */
  roots?: SourceRoots,
): Promise<boolean> {
  const paths = chunk.count > 0 ? chunk.paths.split(SEP) : [];
  const abs = chunk.count > 0 ? chunk.abs.split(SEP) : [];
  const links = chunk.links.split(SEP);
  const n = chunk.nums;
  let report = 0;
  let link = 0;
  for (let i = 0; i <= chunk.count; i++) {
    while (report < chunk.reports.length && chunk.reports[report][0] === i) {
      onReport(chunk.reports[report++][1]);
    }
    if (i === chunk.count) break;
    const at = i * FIELDS;
    const kind = KINDS[n[at + 8]];
    const entry: ScanEntry = {
      path: paths[i],
      abs: abs[i] === "" ? madeAbs(roots, paths[i]) : abs[i],
      kind,
      size: n[at],
      mtimeMs: n[at + 1],
      ctimeMs: n[at + 2],
      ino: n[at + 3],
      dev: n[at + 4],
      mode: n[at + 5],
      uid: Number.isNaN(n[at + 6]) ? undefined : n[at + 6],
      gid: Number.isNaN(n[at + 7]) ? undefined : n[at + 7],
      nlink: Number.isNaN(n[at + 9]) ? undefined : n[at + 9],
    };
    if (kind === "symlink") entry.linkTarget = links[link++];
    if (!await onEntry(entry)) return false;
  }
  return true;
}

/** An absolute path a chunk left out: made as its writer checked it could be. */
function madeAbs(roots: SourceRoots | undefined, path: string): string {
  const abs = roots && absOf(roots, path);
  if (abs === undefined) {
    throw new Error(`Cannot read a walked chunk: no source folder for '${path}'`);
  }
  return abs;
}

/**
 * Verify: re-hash stored copies (all, or a random sample) with the algorithm each was
 * recorded with, and walk the backup root for files the state does not know. Every copy's
 * presence is checked (from the walk's listing, cheap); only hashing is sampled.
 * `.backup-tool/` is not walked, nor run logs in a log folder an older config put inside
 * the backup root. The state is read as it goes, never whole (see `verifyBackup`), so a
 * million copies cost megabytes, not gigabytes. Read-only: an interruption leaves nothing.
 *
 * Run it while no backup runs: a run in progress moves copies between the state's view and
 * the walk, and would show up as missing or unknown files. What an interrupted run left
 * (journaled, not recorded) is taken into account: its moved copies are checked where
 * they went.
 */
import { join } from "node:path";
import type { StateStore, StoredCopy } from "../state/store.ts";
import { STATE_DIR } from "../engine/layout.ts";
import { isRunLogName } from "../log/runlog.ts";
import { nativePath } from "../engine/fsops.ts";
import { hashCopy, READ_BUFFER_BYTES } from "../engine/stage.ts";
import { errorText } from "../engine/errors.ts";
import { loadDigests } from "../engine/digest.ts";
import { movedTo, type Unfinished } from "./unfinished.ts";
import { DiskProbe } from "../engine/foreign.ts";

export interface BadCopy {
  /** Storage path relative to the backup root, with `/`. */
  file: string;
  /** The logical path and content number whose copy this is. */
  path: string;
  version: number;
  /** Changed copies: what was recorded, what was found (or why it could not be read). */
  algo?: string;
  expected?: string;
  found?: string;
}

export interface VerifyReport {
  ok: boolean;
  /** Copies re-hashed. */
  checked: number;
  /** Copies the state records. */
  total: number;
  missing: BadCopy[];
  changed: BadCopy[];
  unknown: { file: string }[];
  /**
   * Actions of an interrupted run, journaled but never recorded (0 normally): the copies
   * they moved were checked where they went, and the copies they placed are not unknown.
   */
  unfinished: number;
}

export interface VerifyOptions {
  /** Percentage of copies to re-hash, 0 < p <= 100 (default 100). */
  samplePercent?: number;
  /**
   * The log folder's storage path, when an older config put it inside the backup root (""
   * for the root itself): the tool's run logs there are not unknown files.
   */
  logFolder?: string;
  /** Random source in [0, 1), replaceable in tests. */
  random?: () => number;
  /** What an interrupted run left unrecorded (see unfinished.ts). */
  unfinished?: Unfinished;
}

/** The stored copies verify checks, read as it goes: the state's, or a list (tests). */
export interface CopyCatalog {
  /** The id and kind of each copy recorded at a storage path (normally one or none). */
  kindsAt(storedAt: string): [number, "file" | "symlink"][];
  /** Every stored copy, in storage path order; asked once, or twice for a sample. */
  each(): Iterable<StoredCopy>;
}

/** The state's stored copies as a catalog (open while verify runs). */
export function catalogOf(store: StateStore): CopyCatalog {
  return { kindsAt: (p) => store.copyKindsAt(p), each: () => store.eachStoredCopy() };
}

/**
 * Checks in three steps, none holding every copy in memory: the walk asks the state about
 * each name it lists (a lookup in the storage index) and keeps only what is unknown; a
 * pass over the state's copies finds each one's name (its own, or one the walk listed under
 * another spelling or an interrupted run moved it to) and hashes it; with a sample, a
 * second pass hashes the chosen ones. Memory grows with what is wrong, not with the backup.
 */
export async function verifyBackup(
  root: string,
  catalog: CopyCatalog,
  opts: VerifyOptions = {},
): Promise<VerifyReport> {
  await loadDigests();
  const unfinished = opts.unfinished;
  const listing = listBackup(root, catalog, unfinishedNames(unfinished), opts.logFolder);
  const report: VerifyReport = {
    ok: true,
    checked: 0,
    total: 0,
    missing: [],
    changed: [],
    unknown: [],
    unfinished: unfinished?.actions ?? 0,
  };
  /** The other names an interrupted run may have moved a copy to, holding its kind. */
  const movedNames = (c: StoredCopy) =>
    unfinished
      ? movedTo(unfinished, c.storedAt!).filter((m) => listing.kinds.get(m) === c.kind)
      : [];
  const claim = strayClaimer(listing.strays, new DiskProbe(root).ignoresCase());
  /** Copies found under a name other than their own, and that name. */
  const elsewhere = new Map<number, string>();
  const buf = new Uint8Array(READ_BUFFER_BYTES);
  const check = (c: StoredCopy, name: string) => {
    const found = digestOf(root, name, c, buf);
    // Where an interrupted run placed new content over it, the old one is where it moved.
    const intact = found === c.hash ||
      movedNames(c).some((m) => m !== name && digestOf(root, m, c, buf) === c.hash);
    if (!intact) report.changed.push({ ...bad(c), algo: c.algo, expected: c.hash, found });
    report.checked++;
  };
  const sampling = (opts.samplePercent ?? 100) < 100;
  let present = 0;
  for (const c of catalog.each()) {
    report.total++;
    const name = listing.matched.has(c.id)
      ? c.storedAt!
      : [listing.listed.has(c.id) ? undefined : claim(c.storedAt!, c.kind), ...movedNames(c)]
        .find((n) => n !== undefined);
    if (name === undefined) {
      report.missing.push(bad(c));
      continue;
    }
    present++;
    if (name !== c.storedAt) elsewhere.set(c.id, name);
    if (!sampling) check(c, name);
  }
  for (const file of listing.strays.keys()) report.unknown.push({ file });
  if (sampling) {
    const take = sampler(present, opts.samplePercent!, opts.random ?? Math.random);
    for (const c of catalog.each()) {
      const name = listing.matched.has(c.id) ? c.storedAt! : elsewhere.get(c.id);
      if (name !== undefined && take()) check(c, name);
    }
  }
  report.ok = report.missing.length + report.changed.length + report.unknown.length === 0;
  return report;
}

/** What the walk of the backup root found, kept small: see `listBackup`. */
interface Listing {
  /** Copies listed under their own name. */
  listed: IdSet;
  /** Of those, the ones listed as their recorded kind. */
  matched: IdSet;
  /** Names no copy is recorded at (storage path → kind), in walk order. */
  strays: Map<string, EntryKind>;
  /** The kind of each listed name an interrupted run placed or moved a copy to. */
  kinds: Map<string, EntryKind>;
}

type EntryKind = "file" | "symlink" | "other";

/** The names an interrupted run placed or moved copies to (none are strays). */
function unfinishedNames(unfinished?: Unfinished): Set<string> {
  return new Set([...unfinished?.placed ?? [], ...unfinished?.moved.values() ?? []]);
}

/**
 * Walks everything under `root` but the state folder and run logs, asking the catalog
 * about each name as it is listed.
 */
function listBackup(
  root: string,
  catalog: CopyCatalog,
  unfinished: Set<string>,
  logFolder?: string,
): Listing {
  const out: Listing = {
    listed: new IdSet(),
    matched: new IdSet(),
    strays: new Map(),
    kinds: new Map(),
  };
  const logPrefix = logFolder === undefined || logFolder === "" ? logFolder : `${logFolder}/`;
  const visit = (dir: string, prefix: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const rel = prefix + e.name;
      if (rel === STATE_DIR) continue;
      if (prefix === logPrefix && e.isFile && isRunLogName(e.name)) continue;
      if (e.isDirectory) {
        visit(join(dir, e.name), `${rel}/`);
        continue;
      }
      const kind: EntryKind = e.isFile ? "file" : e.isSymlink ? "symlink" : "other";
      if (unfinished.has(rel)) out.kinds.set(rel, kind);
      const recorded = catalog.kindsAt(rel);
      for (const [id, recordedKind] of recorded) {
        out.listed.add(id);
        if (recordedKind === kind) out.matched.add(id);
      }
      if (recorded.length === 0 && !unfinished.has(rel)) out.strays.set(rel, kind);
    }
  };
  visit(root, "");
  return out;
}

/**
 * The name a copy not listed under its own may have, taken from the strays (and so no
 * longer unknown): on a disk that stores names decomposed (HFS+, the format of many older
 * Mac backup disks, lists `é` as `e` and an accent), the one stray that differs from it
 * only in Unicode normalization. Such a disk opens the copy by either name. On a disk that
 * ignores case, letter case may differ too: two source folders `Docs` and `docs` are one
 * folder there, listed under the name made first. A stray of another kind is claimed but
 * not the copy's (the copy is missing), as its name says whose it is.
 */
function strayClaimer(
  strays: Map<string, EntryKind>,
  ignoresCase: boolean,
): (storedAt: string, kind: "file" | "symlink") => string | undefined {
  const keyOf = (name: string) =>
    ignoresCase ? name.normalize("NFC").toLowerCase() : name.normalize("NFC");
  let byKey: Map<string, string[]> | undefined;
  return (storedAt, kind) => {
    if (strays.size === 0) return undefined;
    if (byKey === undefined) {
      byKey = new Map();
      for (const name of strays.keys()) {
        const key = keyOf(name);
        byKey.set(key, [...byKey.get(key) ?? [], name]);
      }
    }
    const key = keyOf(storedAt);
    const candidates = byKey.get(key) ?? [];
    if (candidates.length !== 1) return undefined;
    byKey.delete(key); // claimed: no other copy is at that name
    const name = candidates[0];
    const listedKind = strays.get(name);
    strays.delete(name);
    return listedKind === kind ? name : undefined;
  };
}

/** A set of copy ids (small integers): one bit each. */
class IdSet {
  #bits = new Uint8Array(1024);

  add(id: number): void {
    if (id >> 3 >= this.#bits.length) {
      const grown = new Uint8Array(Math.max(this.#bits.length * 2, (id >> 3) + 1));
      grown.set(this.#bits);
      this.#bits = grown;
    }
    this.#bits[id >> 3] |= 1 << (id & 7);
  }

  has(id: number): boolean {
    return id >> 3 < this.#bits.length && (this.#bits[id >> 3] & (1 << (id & 7))) !== 0;
  }
}

function bad(c: StoredCopy): BadCopy {
  return { file: c.storedAt!, path: c.path, version: c.seq };
}

function digestOf(root: string, name: string, c: StoredCopy, buf: Uint8Array): string {
  const at = nativePath(root, name);
  try {
    return hashCopy(at, c.kind, c.algo, buf);
  } catch (e) {
    return `unreadable: ${errorText(e)}`;
  }
}

/**
 * Selection sampling (Knuth's algorithm S): asked once for each of `n` items in turn,
 * says yes to exactly ceil(n × percent / 100) of them, every such subset equally likely.
 */
export function sampler(n: number, percent: number, random: () => number): () => boolean {
  const k = Math.min(n, Math.ceil((n * percent) / 100));
  let seen = 0;
  let taken = 0;
  return () => {
    const left = n - seen++;
    if (taken >= k) return false;
    const take = left <= k - taken || random() * left < k - taken;
    if (take) taken++;
    return take;
  };
}

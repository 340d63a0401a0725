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
 * they went. Copies behind a symlink put by hand in a folder's place (`versions/` moved to
 * another disk and linked back) are checked where it leads, as restore reads them, and
 * the link is named (see `listBackup`).
 */
import type { StateStore, StoredCopy } from "../state/store.ts";
import { lstatOrNone, nativePath } from "../engine/fs/fsops.ts";
import { type LinkedFolder, listBackup, strayClaimer, unfinishedNames } from "./verify_listing.ts";
import { hashingCopyAs, READ_BUFFER_BYTES } from "../engine/stage.ts";
import { errorText } from "../engine/errors.ts";
import { loadDigests } from "../engine/digest.ts";
import { movedTo, type Unfinished } from "./unfinished.ts";
import { DiskProbe } from "../engine/foreign.ts";
import { StoppedError, turnTaker } from "../engine/event_turn.ts";
import { pausePoint } from "../engine/fault.ts";

interface BadCopy {
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
   * Folders of the backup root that could not be listed (no permission, a name this system
   * cannot give back): the copies below them are neither found nor called missing.
   */
  unreadable: Unreadable[];
  /**
   * Actions of an interrupted run, journaled but never recorded (0 normally): the copies
   * they moved were checked where they went, and the copies they placed are not unknown.
   */
  unfinished: number;
  /**
   * Symlinks put by hand in the place of a folder the state records copies below, walked
   * through: the copies there were checked where each leads.
   */
  linked: LinkedFolder[];
}

/** What verify could not read: a folder of the backup root, or a copy (whose own it names). */
interface Unreadable {
  file: string;
  error: string;
  kind: "folder" | "copy";
  /** A copy's logical path and content number. */
  path?: string;
  version?: number;
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
  /**
   * A stop signal (`verify --repair`, which holds the lock): heard between two copies and
   * between two blocks of one (within about 250 ms, a copy of gigabytes too), the check
   * then ends with `StoppedError`. Without one, no turn of the event loop is taken.
   */
  signal?: AbortSignal;
}

/** The stored copies verify checks, read as it goes: the state's, or a list (tests). */
export interface CopyCatalog {
  /** The id and kind of each copy recorded at a storage path (normally one or none). */
  kindsAt(storedAt: string): [number, "file" | "symlink"][];
  /** Every stored copy, in storage path order; asked once, or twice for a sample. */
  each(): Iterable<StoredCopy>;
  /** Whether some copy is recorded below this storage folder. */
  storedBelow(folder: string): boolean;
}

/** The state's stored copies as a catalog (open while verify runs). */
export function catalogOf(store: StateStore): CopyCatalog {
  return {
    kindsAt: (p) => store.copyKindsAt(p),
    each: () => store.eachStoredCopy(),
    storedBelow: (folder) => store.storedBelow(folder),
  };
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
  const turn = opts.signal ? turnTaker(opts.signal) : undefined;
  const names = unfinishedNames(unfinished);
  const listing = await listBackup(root, catalog, names, opts.logFolder, turn);
  const report: VerifyReport = {
    ok: true,
    checked: 0,
    total: 0,
    missing: [],
    changed: [],
    unknown: [],
    unreadable: listing.unreadable,
    unfinished: unfinished?.actions ?? 0,
    linked: listing.linked,
  };
  /** The other names an interrupted run may have moved a copy to, holding its kind. */
  const movedNames = (c: StoredCopy) =>
    unfinished
      ? movedTo(unfinished, c.storedAt!).filter((m) => listing.kinds.get(m) === c.kind)
      : [];
  // Another spelling is the copy's only where the disk opens the copy by its own name too
  // (not one inode: exFAT through FUSE numbers each spelling apart).
  const opensAs = (storedAt: string) => {
    const own = lstatOrNone(nativePath(root, storedAt));
    return own !== undefined && !own.isDirectory;
  };
  const claim = strayClaimer(listing.strays, new DiskProbe(root).ignoresCase(), opensAs);
  const unchecked = (c: StoredCopy) =>
    listing.unreadable.some((u) => u.kind === "folder" && c.storedAt!.startsWith(`${u.file}/`));
  /** Copies found under a name other than their own, and that name. */
  const elsewhere = new Map<number, string>();
  const buf = new Uint8Array(READ_BUFFER_BYTES);
  const digest = (name: string, c: StoredCopy) => digestOf(root, name, c, buf, turn);
  const check = async (c: StoredCopy, name: string) => {
    const found = await digest(name, c);
    if (found.startsWith(UNREADABLE)) { // there, but not to be read: not known to be changed
      const error = found.slice(UNREADABLE.length);
      report.unreadable.push({ file: name, error, kind: "copy", path: c.path, version: c.seq });
      return;
    }
    // Where an interrupted run placed new content over it, the old one is where it moved:
    // named there when it does not hold it either.
    const moved = movedNames(c).filter((m) => m !== name);
    let intact = found === c.hash;
    for (const m of moved) intact ||= await digest(m, c) === c.hash;
    if (!intact) {
      const at = moved.at(-1) ?? name;
      const there = at === name ? found : await digest(at, c);
      report.changed.push({ ...bad(c), file: at, algo: c.algo, expected: c.hash, found: there });
    }
    report.checked++;
  };
  const sampling = (opts.samplePercent ?? 100) < 100;
  let present = 0;
  for (const c of catalog.each()) {
    await turn?.();
    report.total++;
    const name = listing.matched.has(c.id)
      ? c.storedAt!
      : [listing.listed.has(c.id) ? undefined : claim(c.storedAt!, c.kind), ...movedNames(c)]
        .find((n) => n !== undefined);
    if (name === undefined) {
      // Deleted by the interrupted run's retention (journaled): gone as planned, not missing.
      if (unfinished?.pruned.has(c.storedAt!)) report.total--;
      else if (!unchecked(c)) report.missing.push(bad(c));
      continue;
    }
    present++;
    if (name !== c.storedAt) elsewhere.set(c.id, name);
    if (!sampling) await check(c, name);
  }
  for (const file of listing.strays.keys()) report.unknown.push({ file });
  if (sampling) {
    const take = sampler(present, opts.samplePercent!, opts.random ?? Math.random);
    for (const c of catalog.each()) {
      await turn?.();
      const name = listing.matched.has(c.id) ? c.storedAt! : elsewhere.get(c.id);
      if (name !== undefined && take()) await check(c, name);
    }
  }
  report.ok = report.missing.length + report.changed.length + report.unknown.length +
      report.unreadable.length === 0;
  return report;
}

function bad(c: StoredCopy): BadCopy {
  return { file: c.storedAt!, path: c.path, version: c.seq };
}

/** What `digestOf` gives, followed by why, for a copy it cannot read. */
const UNREADABLE = "unreadable: ";

/**
 * The copy's digest, read a block at a time; with `turn` (a stop signal given), the event
 * loop gets its turn between blocks, and a stop ends the read (`StoppedError`).
 */
async function digestOf(
  root: string,
  name: string,
  c: StoredCopy,
  buf: Uint8Array,
  turn?: () => Promise<void>,
): Promise<string> {
  const blocks = hashingCopyAs(nativePath(root, name), c.kind, [c.algo], buf);
  try {
    for (let r = blocks.next();; r = blocks.next()) {
      if (r.done) return r.value[0];
      pausePoint("rehashing"); // tests: a stop signal sent while a large copy is read
      await turn?.();
    }
  } catch (e) {
    if (e instanceof StoppedError) throw e;
    return `${UNREADABLE}${errorText(e)}`;
  } finally {
    blocks.return([]); // the file closed, where a stop ended the read
  }
}

/**
 * Selection sampling (Knuth's algorithm S): asked once for each of `n` items in turn,
 * says yes to exactly ceil(n × percent / 100) of them, every such subset equally likely.
 */
export function sampler(n: number, percent: number, random: () => number): () => boolean {
  // Rounded to millionths of a copy first: 1,000 × 16.1 / 100 is 161.00000000000003 in
  // binary floating point, which would round up to 162.
  const share = Math.ceil(Math.round(n * percent * 10_000) / 1_000_000);
  const k = n === 0 ? 0 : Math.min(n, Math.max(1, share)); // never none of a backup
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

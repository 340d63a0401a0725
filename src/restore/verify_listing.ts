/**
 * Verify's walk of the backup root, kept small: each name it lists is looked up in the
 * state's storage index (the catalog), and only what no copy is recorded at ("strays") is
 * kept, with a bit per copy listed. Folders that cannot be listed are named, not fatal; a
 * backup disk's own `lost+found` is passed over. A symlink put by hand in the place of a
 * folder the state records copies below (`versions/` moved to another disk and linked back)
 * is walked through, as restore reads copies through it, once: never into a folder already
 * walked, nor one holding the backup root. Reads only.
 */
import { isAbsolute, join, relative, sep } from "node:path";
import { lstatOrNone, nativePath } from "../engine/fs/fsops.ts";
import { foldName, STATE_DIR } from "../core/layout.ts";
import { realPathOrNone } from "../engine/fs/identity.ts";
import { isRunLogName } from "../log/log_files.ts";
import { errorText, PreflightError } from "../engine/errors.ts";
import { pausePoint } from "../engine/fault.ts";
import type { Unfinished } from "./unfinished.ts";
import type { CopyCatalog } from "./verify.ts";

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
  /** Folders that could not be listed, and why. */
  unreadable: { file: string; error: string; kind: "folder" | "copy" }[];
  /** Symlinks in a folder's place walked through (see `listBackup`), and where they lead. */
  linked: LinkedFolder[];
}

/** A symlink put by hand in the place of a folder of the backup, walked through. */
export interface LinkedFolder {
  /** Its storage path. */
  file: string;
  /** The folder it leads to (its real path). */
  target: string;
}

/** A file system's own folder at its top (fsck puts what it finds there): not the backup's. */
const LOST_AND_FOUND = "lost+found";

export type EntryKind = "file" | "symlink" | "other";

/** The names an interrupted run placed or moved copies to (none are strays). */
export function unfinishedNames(unfinished?: Unfinished): Set<string> {
  return new Set([...unfinished?.placed ?? [], ...unfinished?.moved.values() ?? []]);
}

/**
 * Walks everything under `root` but the state folder and run logs, asking the catalog
 * about each name as it is listed. `turn` (verify --repair's stop signal) is taken at each
 * folder: a walk of millions of files hears a stop within about 250 ms (StoppedError).
 */
export async function listBackup(
  root: string,
  catalog: CopyCatalog,
  unfinished: Set<string>,
  logFolder?: string,
  turn?: () => Promise<void>,
): Promise<Listing> {
  const out: Listing = {
    listed: new IdSet(),
    matched: new IdSet(),
    strays: new Map(),
    kinds: new Map(),
    unreadable: [],
    linked: [],
  };
  const leadsTo = linkFollower(root, catalog);
  const logPrefix = logFolder === undefined || logFolder === "" ? logFolder : `${logFolder}/`;
  const visit = async (dir: string, prefix: string) => {
    pausePoint("listing"); // tests: a stop signal sent while the walk goes on
    await turn?.(); // a stop signal heard between two folders (StoppedError)
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch (e) {
      const file = prefix.slice(0, -1);
      if (file === "") { // the backup root itself: nothing can be checked
        throw new PreflightError(
          `Cannot read backup root '${root}': ${errorText(e)}: run verify as a user who can ` +
            "read it",
        );
      }
      out.unreadable.push({ file, error: errorText(e), kind: "folder" });
      return;
    }
    for (const e of entries) {
      const rel = prefix + e.name;
      if (rel === STATE_DIR) continue;
      if (prefix === logPrefix && e.isFile && isRunLogName(e.name)) continue;
      if (e.isDirectory) {
        // A disk's own lost+found is passed over, readable or not (fsck's finds in it are
        // not the backup's), unless copies are recorded in it.
        if (rel === LOST_AND_FOUND && !catalog.storedBelow(rel)) continue;
        await visit(join(dir, e.name), `${rel}/`);
        continue;
      }
      const target = e.isSymlink ? leadsTo(join(dir, e.name), rel) : undefined;
      if (target !== undefined) {
        out.linked.push({ file: rel, target });
        await visit(join(dir, e.name), `${rel}/`);
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
  await visit(root, "");
  return out;
}

/**
 * Where a symlink listed at `rel` leads, if the walk is to go through it: to a folder, with
 * copies recorded below `rel`, that is neither in nor above a folder walked already (the
 * backup root, or where a link walked through leads), so that no folder is walked twice
 * and a link to `/` or to a folder above the backup root is not walked at all.
 */
function linkFollower(root: string, catalog: CopyCatalog) {
  const walked = [realPathOrNone(root) ?? root];
  const overlaps = (a: string, b: string) => inOrAt(a, b) || inOrAt(b, a);
  return (abs: string, rel: string): string | undefined => {
    if (!catalog.storedBelow(rel)) return undefined;
    const target = realPathOrNone(abs);
    if (target === undefined || !statOrNone(target)?.isDirectory) return undefined;
    if (walked.some((w) => overlaps(w, target))) return undefined;
    walked.push(target);
    return target;
  };
}

/** Whether `path` is `folder` or lies inside it (both real, absolute paths). */
function inOrAt(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function statOrNone(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(path);
  } catch {
    return undefined;
  }
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
export function strayClaimer(
  strays: Map<string, EntryKind>,
  ignoresCase: boolean,
  /** Whether the disk opens the copy by its own name (the stray's entry, by another). */
  opensAs: (storedAt: string) => boolean,
): (storedAt: string, kind: "file" | "symlink") => string | undefined {
  const keyOf = (name: string) => ignoresCase ? foldName(name) : name.normalize("NFC");
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
    // Elsewhere (ext4 keeps both spellings as two names) the copy is missing, the stray unknown.
    if (candidates.length !== 1 || !opensAs(storedAt)) return undefined;
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

/**
 * The files (storage paths) that stand at a storage path: the entry itself, or every file
 * below it when it is a folder; none when nothing is there.
 */
export function standingAt(root: string, storage: string): string[] {
  const info = lstatOrNone(nativePath(root, storage));
  if (info === undefined) return [];
  if (!info.isDirectory) return [storage];
  const out: string[] = [];
  const visit = (dir: string, prefix: string) => {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isDirectory) visit(join(dir, e.name), `${prefix}${e.name}/`);
      else out.push(prefix + e.name);
    }
  };
  visit(nativePath(root, storage), `${storage}/`);
  return out;
}

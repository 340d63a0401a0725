/**
 * Twins: two paths of the backup that the destination's disk takes for one name, as a
 * disk that ignores letter case (exFAT, APFS and NTFS by default) takes `README` and
 * `readme` made on Linux, or APFS an NFC and an NFD `é`. A restore never lets one twin
 * replace the other: the later one is restored under the next name by the backup's own
 * rule for such names (`readme.~2`, `.~3`, …), and said so; twin folders (`Docs/`,
 * `docs/`) share the one folder the disk gives them, as in the backup, and only the files
 * that clash in it are renamed.
 *
 * A name is a twin's when an lstat finds something there (before the file is written, or
 * when placing it finds the name taken) but its folder lists it under another spelling
 * (exfat-fuse gives each spelling its own inode number, so inode numbers cannot tell),
 * and that spelling is a path this same restore restores. Anything else there was there
 * before the restore, and is left alone or, with --overwrite, replaced as any file is.
 * Nothing is remembered per file: the folders' listings are read only where a name is
 * found taken on a disk that may fold it (probed once per file system with a temporary
 * file, or a name that is not ASCII), a few kept for the next file. The names given to
 * renamed twins are remembered (few), so two twins never get names that are twins again.
 */
import { basename, dirname, join, relative, sep } from "node:path";
import { foldName, parentOf, withSuffix } from "../core/layout.ts";
import { lstatOrNone } from "../engine/fs/fsops.ts";
import { withProbeFile } from "./dest_file.ts";
import type { Reached } from "./pinned.ts";
import type { RestoreItem } from "./restore_item.ts";

/** Whether this restore restores a file at or below a logical path. */
export type RestoredHere = (logical: string) => boolean;

/** The other twin, whose entry the disk gives for a destination. */
export interface Twin {
  /** The destination as the backup names it. */
  wanted: string;
  /** The entry found there, as its folder spells it. */
  other: string;
  /** The other twin's logical path. */
  otherPath: string;
}

/** Folder listings kept for the next names (a restore goes through a folder in a row). */
const LISTINGS_KEPT = 8;
/** `.~K` names tried for one twin before it is refused. */
const MAX_SUFFIX = 100;

export class Twins {
  /** Per file system (device), whether it ignores letter case (probed). */
  readonly #caseBlind = new Map<string, boolean>();
  /** The names given to renamed twins, case-folded. */
  readonly #given = new Set<string>();
  readonly #listings = new Map<string, Set<string>>();

  constructor(readonly restoredHere: RestoredHere) {}

  /**
   * Whether a name found taken in `folder` may be another spelling's entry: its disk
   * ignores case (probed with a temporary file named `probe`, once per file system), or
   * the path is not ASCII (a disk may ignore Unicode normalization alone).
   */
  mayFold(folder: Reached, item: RestoreItem, probe: string): boolean {
    // deno-lint-ignore no-control-regex
    if (!/^[\x00-\x7f]*$/.test(relative(item.base, item.dest))) return true;
    const device = folder.id?.split(":")[0];
    if (device === undefined) return true; // no inode numbers (Windows): NTFS may
    let blind = this.#caseBlind.get(device);
    if (blind === undefined) this.#caseBlind.set(device, blind = ignoresCase(folder, probe));
    return blind;
  }

  /**
   * The twin this restore restores whose entry the disk gives for `item`'s destination,
   * found taken; undefined where the name is its own (or nothing is there any more).
   */
  twinOf(item: RestoreItem): Twin | undefined {
    if (lstatOrNone(item.dest) === undefined) return undefined;
    const rel = relative(item.base, item.dest).split(sep);
    const spelled = this.#spelled(item.base, rel);
    if (spelled === undefined || spelled.every((name, i) => name === rel[i])) return undefined;
    const logical = item.copy.path.split("/");
    const otherPath = [...logical.slice(0, logical.length - rel.length), ...spelled].join("/");
    if (!this.restoredHere(otherPath)) return undefined;
    return { wanted: item.dest, other: join(item.base, ...spelled), otherPath };
  }

  /** The twin this restore restores in place of a folder on `item`'s way, if any. */
  folderTwinOf(item: RestoreItem, folder: string): Twin | undefined {
    const up = relative(folder, item.dest).split(sep).length;
    const logical = item.copy.path.split("/");
    const path = logical.slice(0, logical.length - up).join("/");
    return this.twinOf({ ...item, dest: folder, copy: { ...item.copy, path } });
  }

  /**
   * `item` under the first free name by the backup's rule (`readme.~2`): none this
   * restore restores or gave a twin, none the disk takes for another spelling, nothing
   * but a file (restored over only as any file is). Undefined when none is free.
   */
  renamed(item: RestoreItem, twin: Twin): RestoreItem | undefined {
    const dir = dirname(item.dest);
    const name = basename(item.dest);
    const logicalDir = parentOf(item.copy.path);
    for (let k = 2; k <= MAX_SUFFIX; k++) {
      const candidate = withSuffix(name, `.~${k}`);
      const dest = join(dir, candidate);
      if (this.#given.has(foldName(dest))) continue;
      if (this.restoredHere(`${logicalDir}/${candidate}`)) continue;
      const there = lstatOrNone(dest);
      if (there !== undefined && (there.isDirectory || !this.#listed(dir, candidate))) continue;
      this.#given.add(foldName(dest));
      return { ...item, dest, twin };
    }
    return undefined;
  }

  /** The disk's spelling of each name of `rel` below `base`; undefined where one is missing. */
  #spelled(base: string, rel: string[]): string[] | undefined {
    const out: string[] = [];
    let at = base;
    for (const name of rel) {
      let names = this.#list(at);
      if (names !== undefined && !names.has(name)) names = this.#list(at, true);
      if (names === undefined) return undefined;
      let found: string | undefined = name;
      if (!names.has(name)) {
        const key = foldName(name);
        found = [...names].find((n) => foldName(n) === key);
      }
      if (found === undefined) return undefined;
      out.push(found);
      at = join(at, found);
    }
    return out;
  }

  /** Whether `name` is listed in `dir` as it is spelled (read again where it is not). */
  #listed(dir: string, name: string): boolean {
    return (this.#list(dir)?.has(name) || this.#list(dir, true)?.has(name)) ?? false;
  }

  /** A folder's names, as last read (or read `fresh`); undefined where it cannot be. */
  #list(dir: string, fresh = false): Set<string> | undefined {
    let names = fresh ? undefined : this.#listings.get(dir);
    if (names !== undefined) return names;
    try {
      names = new Set(Array.from(Deno.readDirSync(dir), (e) => e.name));
    } catch {
      return undefined;
    }
    this.#listings.delete(dir);
    this.#listings.set(dir, names);
    if (this.#listings.size > LISTINGS_KEPT) {
      this.#listings.delete(this.#listings.keys().next().value!);
    }
    return names;
  }
}

/**
 * Whether the disk of a folder ignores letter case: a temporary file made there answers to
 * its name in capitals too, as the same entry (one inode, or one name listed). One that
 * cannot be made counts as ignoring it (the listings then tell, name by name).
 */
function ignoresCase(folder: Reached, probe: string): boolean {
  return withProbeFile(folder, probe, true, (at) => {
    try {
      const upper = lstatOrNone(folder.at(probe.toUpperCase()));
      if (upper === undefined) return false;
      const own = lstatOrNone(at);
      if (own?.ino == null || upper.ino === null || own.ino === upper.ino) return true;
      const names = new Set(Array.from(Deno.readDirSync(folder.at(".")), (e) => e.name));
      return !names.has(probe.toUpperCase());
    } catch {
      return true;
    }
  });
}

/**
 * What happened to a twin, said in one line: restored `as` another name, or not (`refused`:
 * the rest of the sentence, with the remedy).
 */
export function twinText(twin: Twin, how: { as: string } | { refused: string }): string {
  const disk = `this disk takes its name for that of '${twin.otherPath}', restored here too ` +
    "(it ignores letter case or Unicode normalization)";
  return "as" in how
    ? `restored as '${how.as}': ${disk}`
    : `Cannot restore to '${twin.wanted}': ${
      disk.replace("its name", "that name")
    }, ${how.refused}`;
}

/** How to restore a twin elsewhere, said as a remedy. */
export function twinElsewhereRemedy(item: RestoreItem): string {
  return `restore '${item.copy.path}' alone with --to another folder, or onto a disk that tells ` +
    "letter case apart";
}

/**
 * The folders a restore makes, and the metadata they get once every file is in place:
 * the permission bits, owner (run as root), extended attributes and ACLs (a default ACL
 * too, set only now, so the files restored in it keep exactly their own recorded ones) and
 * modification time their source folders had when a run last walked them
 * (core/folder_meta.ts), deepest first, so that setting a
 * folder's time comes after everything written in it. Each is reached through the
 * restore's open folders (pinned.ts) and changed through its descriptor, never by a path
 * someone could swap for a symlink meanwhile. A folder with nothing recorded (a state
 * from before 2026-12-02, or Windows) keeps what the umask gave it. The folders that stood
 * at the moment restored with no file to hold (empty ones: standing_folders.ts) are made
 * here too (`makeFolders`), once the files are in place. An interruption leaves the folders
 * made so far with the umask's permissions.
 */
import { dirname, join, relative, sep } from "node:path";
import type { FolderMeta } from "../core/types.ts";
import { errorText } from "../engine/errors.ts";
import { parentOf } from "../core/layout.ts";
import { applyMeta } from "../engine/fs/copy_meta.ts";
import { finishMeta } from "./dest_file.ts";
import type { Refusal } from "../engine/fs/xattrs.ts";
import { type DestFolders, RefusedFolder } from "./pinned.ts";
import type { RestoreItem } from "./restore_item.ts";
import type { FolderItem } from "./standing_folders.ts";
import { refusedFolderReason } from "./dest_folder.ts";
import { noRoom } from "./full_disks.ts";
import { lstatOrNone } from "../engine/fs/fsops.ts";

/** Folders remembered (about 150 bytes each); past it, the rest keep the umask's modes. */
const MADE_LIMIT = 262_144;

export interface FolderProblem {
  folder: string;
  /** The logical path of the folder not made (`notMade`), for a dry run's line. */
  logical?: string;
  reason: string;
  /** The folder itself could not be made (an empty one the restore makes: standing_folders.ts). */
  notMade?: boolean;
}

export class MadeFolders {
  /** Destination folder → the item's base and the folder's logical path. */
  readonly #made = new Map<string, { base: string; logical: string }>();

  /**
   * Remembers the folders from `first` down to the item's own folder (or `deepest` above
   * it, where the folders below could not be made) as made, each with its logical path
   * (the base too, where it was made: a source root, `<source>`).
   */
  add(item: RestoreItem, first: string, deepest = dirname(item.dest)): void {
    let dir = dirname(item.dest);
    let logical = parentOf(item.copy.path);
    while (dir !== deepest && dir !== item.base && logical !== "") {
      dir = dirname(dir);
      logical = parentOf(logical);
    }
    while (this.#made.size < MADE_LIMIT && logical !== "") {
      this.#made.set(dir, { base: item.base, logical });
      if (dir === first || dir === item.base) break;
      dir = dirname(dir);
      logical = parentOf(logical);
    }
  }

  /**
   * Remembers the folders from `first` down to `dir` (logical path `logical`) as made: a
   * folder made for itself (standing_folders.ts), not on the way to a file.
   */
  addFolder(dir: string, logical: string, base: string, first: string): void {
    for (let d = dir, l = logical; this.#made.size < MADE_LIMIT && l !== "";) {
      this.#made.set(d, { base, logical: l });
      if (d === first || d === base) break;
      d = dirname(d);
      l = parentOf(l);
    }
  }

  /** Whether this restore made the folder `dir` (as far as it remembers: MADE_LIMIT). */
  has(dir: string): boolean {
    return this.#made.has(dir);
  }

  /**
   * Gives each made folder its recorded metadata; returns what could not be given, and
   * passes the attributes a folder would not take to `onRefused`. Those in `writable`
   * (files left in them, for a restore run again) keep their owner's write permission
   * whatever the recorded mode.
   */
  finish(
    folders: DestFolders,
    metaOf: (logical: string) => FolderMeta | undefined,
    writable?: ReadonlySet<string>,
    onRefused?: (folder: string, refusals: Refusal[], dev: number) => void,
  ) {
    const problems: FolderProblem[] = [];
    const deepestFirst = [...this.#made].sort(([a], [b]) => depth(b) - depth(a));
    for (const [dir, { base, logical }] of deepestFirst) {
      const recorded = metaOf(logical);
      if (recorded === undefined) continue;
      const meta = writable?.has(dir) ? { ...recorded, mode: recorded.mode | 0o200 } : recorded;
      try {
        const reached = folders.reach(base, dir);
        try {
          if (reached.fd === undefined) applyMeta(dir, meta); // no /proc: by path
          else if (reached.id === folders.madeId(dir)) {
            finishMeta(reached.fd, dir, meta, (r, dev) => onRefused?.(dir, r, dev));
          } else {
            // Not the folder this restore made (moved away, and another put there since).
            problems.push({ folder: dir, reason: "it was replaced since the restore made it" });
          }
        } finally {
          reached.release();
        }
      } catch (e) {
        problems.push({ folder: dir, reason: errorText(e) });
      }
    }
    this.#made.clear();
    return problems;
  }
}

function depth(path: string): number {
  let n = 0;
  for (let i = path.indexOf("/"); i !== -1; i = path.indexOf("/", i + 1)) n++;
  return n + (path.match(/\\/g)?.length ?? 0);
}

/**
 * Makes each folder (and those on the way) that is not there, through the restore's pinned
 * folders (pinned.ts: never through a symlink put on the way), remembering those made for
 * their metadata and their parents for the flush (told to `placed`); returns the folders that
 * could not be made, each with why, and telling `made` of each made. One that is there is
 * left as it is. None is tried in a
 * base on a disk found `full` (by a file, or by a folder here: said once).
 */
export function makeFolders(
  items: Iterable<FolderItem>,
  folders: DestFolders,
  madeFolders: MadeFolders,
  { placed, holds, full, made }: {
    placed: (dir: string, base: string) => void;
    /**
     * Whether a file was placed in the folder (or below it): it is there, nothing to do; or
     * meant to be and not (its failure said why, once).
     */
    holds: (dir: string) => boolean;
    full: Set<string>;
    /** Told of each folder made for itself (not one there already), as it is made. */
    made?: (item: FolderItem) => void;
  },
): FolderProblem[] {
  const problems: FolderProblem[] = [];
  // The folders refused: those below them are not tried, nor said. Not only the last: in
  // path order, `a b` comes between `a` and `a/x` (' ' sorts before '/').
  const refused = new Set<string>();
  for (const item of items) {
    const { logical, dest, base, toDir } = item;
    if (holds(dest) || full.has(base)) continue;
    if (belowAny(dest, refused)) continue;
    try {
      const reached = folders.reach(base, dest);
      reached.release();
      if (reached.made === undefined) continue;
      madeFolders.addFolder(dest, logical, base, reached.made);
      placed(dirname(reached.made), base);
      made?.(item);
    } catch (e) {
      const partial = folders.takePartial();
      if (partial) {
        const deepest = partial.deepest;
        let at = logical;
        for (let d = dest; d !== deepest && at !== ""; d = dirname(d)) at = parentOf(at);
        madeFolders.addFolder(deepest, at, base, partial.first);
      }
      refused.add(e instanceof RefusedFolder ? e.folder : dest);
      const reason = e instanceof RefusedFolder
        ? refusedFolderReason(e, base, toDir)
        : errorText(e);
      problems.push({ folder: dest, logical, reason, notMade: true });
      if (noRoom(e)) full.add(base);
    }
  }
  return problems;
}

/**
 * What `makeFolders` would do, writing nothing (a dry run): the folders not there that it
 * would make, and those it would refuse, each with why: a file or a symlink where a folder
 * must be, on the way from the item's base (the restore's pinned folders refuse the same),
 * the folders below it not tried. Reads only.
 */
export function foldersToMake(
  items: Iterable<FolderItem>,
  /**
   * A folder a file would be restored in (made on the way to it), or would not: not tried,
   * as `makeFolders`' `holds` says.
   */
  filesIn: (dest: string) => boolean = () => false,
): { wouldMake: FolderItem[]; refused: FolderProblem[] } {
  const wouldMake: FolderItem[] = [];
  const refused: FolderProblem[] = [];
  // The places refused: as `makeFolders`' (not only the last one).
  const blocked = new Set<string>();
  for (const item of items) {
    if (filesIn(item.dest) || belowAny(item.dest, blocked)) continue;
    const place = placeOf(item.base, item.dest);
    if (place === "missing") wouldMake.push(item);
    else if (place !== "there") {
      blocked.add(place.folder);
      const reason = place instanceof RefusedFolder
        ? refusedFolderReason(place, item.base, item.toDir)
        : errorText(place.error);
      refused.push({ folder: item.dest, logical: item.logical, reason, notMade: true });
    }
  }
  return { wouldMake, refused };
}

/** Whether `dest` lies below one of `folders` (its parents looked up, not every folder). */
function belowAny(dest: string, folders: ReadonlySet<string>): boolean {
  if (folders.size === 0) return false;
  for (let child = dest, d = dirname(dest); d !== child; child = d, d = dirname(d)) {
    if (folders.has(d)) return true;
  }
  return false;
}

/**
 * A folder's place below `base`: a folder there, missing, a file or symlink on the way, or
 * a folder on the way that cannot be looked into (`error`: this user may not search it).
 */
function placeOf(
  base: string,
  dest: string,
): "there" | "missing" | RefusedFolder | { folder: string; error: unknown } {
  let at = base;
  for (const name of relative(base, dest).split(sep)) {
    const parent = at;
    at = join(at, name);
    let found: Deno.FileInfo | undefined;
    try {
      found = lstatOrNone(at);
    } catch (error) {
      return { folder: parent, error };
    }
    if (found === undefined) return "missing";
    if (found.isSymlink) return new RefusedFolder("symlink", at);
    if (!found.isDirectory) return new RefusedFolder("file", at);
  }
  return "there";
}

/**
 * Hard links given back, as restic and Time Machine do: files the backup recorded as one
 * file under several names (copies that carry the same device and inode, as the run that
 * last saw them found them, and the same content, mode, owner, time and extended
 * attributes: state/record.ts) are restored as one file again. The first of them a restore
 * writes, or finds up to date
 * with exactly its recorded bytes, mode, owner and time, is the group's anchor; each later
 * one's temporary file is made a hard link of it, looked at before and after the link (it
 * must be the very inode this restore wrote or checked, never a file put in its place),
 * and is then put in place as every restored file is (write.ts), so every rule on
 * existing files (`--overwrite` or not) holds as for a copy. Where a link cannot be made
 * (FAT and exFAT keep none, another file system, a file's limit of names) the file is
 * written as a copy of its own, which the later names then link to, and the restore says
 * so once per disk (a note). An anchor that is not put in place after all (a file appeared
 * at its name meanwhile, its folder replaced) leaves the names linked to it one file
 * without it: the first of them placed takes its role, and the others are named links of
 * that one. Only the temporary file is made here: an interruption leaves at most it, named
 * as every temporary file of a restore is.
 */
import { basename } from "node:path";
import type { StoredCopy } from "../state/store.ts";
import { lstatOrNone, removeQuietly } from "../engine/fs/fsops.ts";
import { errorText } from "../engine/errors.ts";
import { noRoom } from "./full_disks.ts";
import type { DestFolders, Reached } from "./pinned.ts";
import { reachFolder } from "./dest_folder.ts";
import type { RestoreItem, RestoreResult } from "./restore_item.ts";

/**
 * Groups whose anchor is remembered, about 300 bytes each: a tree of very many groups (a
 * folder of snapshots made with `cp -al`) keeps at most this many, the oldest forgotten
 * first; a later name of a forgotten group is written as a copy of its own (and anchors
 * the names after it).
 */
const ANCHORS_LIMIT = 100_000;

/**
 * Whether a link failure (its text) is the file's, not the disk's: EXDEV (the anchor on
 * another file system) and EMLINK (the file has as many names as it may), 18 and 31 on
 * Linux and macOS; on Windows ERROR_NOT_SAME_DEVICE (17) and ERROR_TOO_MANY_LINKS (1142:
 * NTFS gives a file 1,024 names), where 18 and 31 are other failures. Other links there
 * are tried.
 */
export function failsLinkOnly(why: string, os: typeof Deno.build.os = Deno.build.os): boolean {
  return (os === "windows" ? /\(os error (17|1142)\)/ : /\(os error (18|31)\)/).test(why);
}

/** The file a group's later names are made links of. */
export interface Anchor {
  item: RestoreItem;
  /** The identity of the folder it is in (`Reached.id`). */
  folderId: string;
  /** Its names there, tried in turn: its temporary name until it is placed, then its own. */
  names: string[];
  ino: number;
  dev: number;
  /**
   * Set once it was not put in place (a conflict, its folder replaced): `heir` is the
   * first name linked to it that was, which the others linked to it are links of.
   */
  notPlaced?: { heir?: string };
}

export class HardLinks {
  readonly #anchors = new Map<string, Anchor>();
  /** Devices of destination folders where links failed: none is tried there again. */
  readonly #refused = new Set<string>();
  readonly #noted = new Set<string>();
  /** One line per disk where the links could not be kept, for the restore to say once. */
  readonly notes: string[] = [];

  /**
   * Makes `tmpName` in `folder` a hard link of the anchor of the item's group, checked to be
   * it: that anchor, or undefined where there is none or no link was made (the item is then
   * written as a copy of its own).
   */
  linkTemp(
    item: RestoreItem,
    folder: Reached,
    tmpName: string,
    folders: DestFolders,
  ): Anchor | undefined {
    const key = keyOf(item.copy);
    const anchor = key === undefined ? undefined : this.#anchors.get(key);
    if (anchor === undefined || folder.id === undefined) return undefined;
    if (this.#refused.has(deviceOf(folder))) return undefined;
    const there = anchor.folderId === folder.id ? folder : reachedOrNone(folders, anchor);
    if (there === undefined) return undefined;
    try {
      return this.#linkFrom(anchor, there, folder, tmpName) ? anchor : undefined;
    } finally {
      if (there !== folder) there.release();
    }
  }

  /**
   * The item's copy was written as `info` to `tmpName` in `folder`: its group's anchor now,
   * returned, for `settled` to be told what became of it.
   */
  wrote(
    item: RestoreItem,
    folder: Reached,
    tmpName: string,
    info?: Deno.FileInfo,
  ): Anchor | undefined {
    return this.#anchor(item, folder, [tmpName, basename(item.dest)], info);
  }

  /** The item's destination `info` was found to hold its recorded bytes, mode, owner, time. */
  found(item: RestoreItem, folder: Reached, info: Deno.FileInfo): void {
    const key = keyOf(item.copy);
    if (key !== undefined && !this.#anchors.has(key)) {
      this.#anchor(item, folder, [basename(item.dest)], info);
    }
  }

  /**
   * What became of a written item (`anchor`: the group it anchors; `linkedTo`: the anchor
   * it was linked to), and its result as it is to be said: an anchor placed is linked to
   * under its own name; one not placed is forgotten, and the names linked to it are no
   * links of it: the first of them placed anchors the group in its stead (not said to be a
   * link of anything), and those after it are said to be links of that one.
   */
  settled(
    { anchor, linkedTo, folderId }: { anchor?: Anchor; linkedTo?: Anchor; folderId?: string },
    r: RestoreResult,
  ): RestoreResult {
    const key = keyOf(r.copy);
    if (key === undefined) return r;
    if (anchor !== undefined) {
      if (r.outcome === "restored") anchor.names = [basename(r.dest)];
      else {
        anchor.notPlaced = {};
        // Not placed: the next name placed or written anchors the group.
        if (this.#anchors.get(key) === anchor) this.#anchors.delete(key);
      }
      return r;
    }
    const lost = linkedTo?.notPlaced;
    if (lost === undefined || r.outcome !== "restored") return r;
    if (lost.heir !== undefined) return { ...r, hardLinkOf: lost.heir };
    lost.heir = r.dest;
    const { hardLinkOf: _, ...own } = r;
    if (!this.#anchors.has(key) && folderId !== undefined) {
      const { ino, dev } = linkedTo!;
      this.#remember(key, { item: own, folderId, names: [basename(r.dest)], ino, dev });
    }
    return own;
  }

  #anchor(
    item: RestoreItem,
    folder: Reached,
    names: string[],
    info?: Deno.FileInfo,
  ): Anchor | undefined {
    const key = keyOf(item.copy);
    if (key === undefined || folder.id === undefined || !info?.isFile || !info.ino) return;
    const anchor = { item, folderId: folder.id, names, ino: info.ino, dev: info.dev! };
    this.#remember(key, anchor);
    return anchor;
  }

  #remember(key: string, anchor: Anchor): void {
    this.#anchors.delete(key); // to the end: forgotten last
    if (this.#anchors.size >= ANCHORS_LIMIT) {
      this.#anchors.delete(this.#anchors.keys().next().value!);
    }
    this.#anchors.set(key, anchor);
  }

  /** Links the anchor, found in `there` under one of its names, as `tmpName` in `folder`. */
  #linkFrom(anchor: Anchor, there: Reached, folder: Reached, tmpName: string): boolean {
    const tmpAt = folder.at(tmpName);
    for (const name of anchor.names) {
      const from = there.at(name);
      if (!isAnchor(lstatOrNone(from), anchor)) continue;
      try {
        Deno.linkSync(from, tmpAt);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) continue; // placed meanwhile: its own name next
        // No room for the name (a folder's block, a quota): the disk's, not the links'.
        if (noRoom(e)) throw e;
        if (!(e instanceof Deno.errors.AlreadyExists)) this.#cannotLink(folder, e);
        return false;
      }
      if (isAnchor(lstatOrNone(tmpAt), anchor)) return true;
      removeQuietly(tmpAt); // another file took the anchor's name between the look and the link
    }
    return false;
  }

  #cannotLink(folder: Reached, e: unknown): void {
    const device = deviceOf(folder);
    const why = errorText(e).split(":")[0];
    if (!failsLinkOnly(why)) this.#refused.add(device);
    if (this.#noted.has(device)) return;
    this.#noted.add(device);
    this.notes.push(
      `hard links could not be made in '${folder.path}' (${why}): files the backup ` +
        `recorded as one file under several names were restored there as separate copies`,
    );
  }
}

/**
 * What ties copies restored as one file: their recorded device and inode, content, mode,
 * owner and time (one file has one of each; copies recorded at other moments may not).
 */
export function keyOf(c: StoredCopy): string | undefined {
  if (c.kind !== "file" || c.hardLink === undefined) return undefined;
  const { dev, ino } = c.hardLink;
  const xattrs = c.xattrs?.toBase64() ?? "";
  return [dev, ino, c.algo, c.hash, c.size, c.mode, c.uid, c.gid, c.mtimeMs, xattrs].join(":");
}

function isAnchor(info: Deno.FileInfo | undefined, anchor: Anchor): boolean {
  return info !== undefined && info.isFile && info.ino === anchor.ino && info.dev === anchor.dev;
}

/** The file system a reached folder is on (its identity's device). */
function deviceOf(folder: Reached): string {
  return folder.id?.split(":")[0] ?? folder.path;
}

/** The anchor's folder, if it is still the one the anchor was made in. */
function reachedOrNone(folders: DestFolders, anchor: Anchor): Reached | undefined {
  let there: Reached;
  try {
    there = reachFolder(folders, anchor.item, false);
  } catch {
    return undefined;
  }
  if (there.id === anchor.folderId) return there;
  there.release();
  return undefined;
}

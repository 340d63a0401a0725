/**
 * The restore writer: puts one stored content at its destination, in two steps that
 * batches.ts runs for many at a time. `writeOne` writes the copy to a temporary file next
 * to the destination (`.backup-tool-restore-<pid>-<n>.tmp`), hashed as it is written and
 * compared with the recorded digest, and gives it its recorded mode and mtime; once it is
 * flushed, `placeOne` links it to the final name. So a final name only ever holds a
 * complete, checked file; an interruption leaves at most hidden temporary files, which can
 * be deleted.
 *
 * What to do with a destination is decided first (dest_decision.ts, which a dry run follows
 * too): an existing destination with the same content is left as it is ("up to date"); one with
 * other content is left alone and reported unless `overwrite`. A new file is renamed into
 * place with RENAME_NOREPLACE (rename_noreplace.ts), else linked (either fails if a file
 * appeared meanwhile), a plain rename only where neither is possible, so even a file created
 * during the restore is never clobbered,
 * nor one this restore placed under a name the disk takes for this one's (twins.ts).
 * A symlink is recreated with its recorded target; its own mtime and mode are not set
 * (Deno has no lutimes/lchmod). A file the backup recorded as another name of a file
 * restored before it gets a temporary file that is a hard link of that one instead of a
 * copy (hard_links.ts), placed the same way. A destination whose parent folder became a
 * symlink or a file is refused (dest_folder.ts), so nothing is written outside the restore
 * folder; nor is anything written inside the backup root. What a restore item is and what
 * became of it: restore_item.ts.
 */
import { RESTORE_TMP_PREFIX } from "../core/layout.ts";
import { basename, dirname, join } from "node:path";
import type { StoredCopy } from "../state/store.ts";
import { isStored } from "./asof.ts";
import { lstatOrNone, removeQuietly } from "../engine/fs/fsops.ts";
import { renameWithRetry } from "../engine/fs/portability.ts";
import { renameNoReplace } from "../engine/fs/rename_noreplace.ts";
import type { DestFolders, Reached } from "./pinned.ts";
import type { MadeFolders } from "./made_folders.ts";
import { errorText, flagWords, isReadOnlyDisk, withFlagsRemedy } from "../engine/errors.ts";
import { type ReadFrom, RECORDED_TARGET, writeFromAny } from "./copy_out.ts";
import { StoppedError } from "../engine/event_turn.ts";
import { type Twin, type Twins, twinText } from "./twins.ts";
import type { KeptMeta } from "./kept_meta.ts";
import { sameContent } from "./dest_compare.ts";
import { reachFolder, refusedByDisk, refusedOnTheWay } from "./dest_folder.ts";
import { conflict, decide, failed, namedPaths } from "./dest_decision.ts";
import type { RestoreItem, RestoreResult } from "./restore_item.ts";
import type { Anchor, HardLinks } from "./hard_links.ts";
import type { XattrNotes } from "./xattr_notes.ts";
import { type FullDisks, noRoom } from "./full_disks.ts";
import { commandHint } from "../config/selection.ts";

export interface WriteOptions {
  overwrite: boolean;
  /** Other stored copies of a content, tried in turn if its own is missing or damaged. */
  fallbacksOf?: (c: StoredCopy) => Iterable<string>;
  /**
   * Where a run moved a copy without recording it (tried first): the interrupted run found
   * at the start, or one going on, whose journal is read again (asked only on a miss).
   */
  movedOf?: (storedAt: string) => string[];
  /**
   * Which run's retention deleted the copy at a storage path before recording that (said
   * in parentheses: "by …"), if one did: asked only of a copy no place held.
   */
  prunedOf?: (storedAt: string) => string | undefined;
  /**
   * A content's record as the state holds it now (read again), asked of one not found
   * where it was picked: a run going on may have moved its copy, or pruned it, since.
   */
  recordedNow?: (c: StoredCopy) => StoredCopy | undefined;
  /** Read buffer, reused across files. */
  buf: Uint8Array;
  /** Other paths where the backup root or a folder in it is mounted too (bind mounts). */
  rootAliases?: string[];
  /**
   * The folders this restore made, given their recorded metadata at the end
   * (made_folders.ts). Nothing but what it restores is in them, so their files need no
   * look for something in the way.
   */
  madeFolders?: MadeFolders;
  /** Aborted: a file being copied is given up at its next turn (see `turnTaker`, event_turn.ts). */
  signal?: AbortSignal;
  /** Names the disk takes for another's that this restore restores too (twins.ts). */
  twins?: Twins;
  /** What each destination disk keeps of a file's mode and owner (kept_meta.ts). */
  keptMeta?: KeptMeta;
  /** Every destination is looked at, even in a folder this restore made (files again). */
  lookFirst?: boolean;
  /** Files recorded as one file under several names, restored as hard links (hard_links.ts). */
  links?: HardLinks;
  /** Says once per disk the extended attributes it would not take (xattr_notes.ts). */
  xattrNotes?: XattrNotes;
  /** The disks found full: no file bound for one is tried (full_disks.ts). */
  fullDisks?: FullDisks;
  /**
   * Bound for a disk found full: looked at only, since that needs no room (up to date, a
   * conflict), and this result given where it would be written (or a folder made for it).
   */
  notTried?: RestoreResult;
}

/**
 * Numbers the temporary files, from a random start: a run killed and run again under the
 * same process id (PID 1 in a container) would otherwise meet its own leftovers' names.
 */
let tmpCounter = crypto.getRandomValues(new Uint32Array(1))[0];

/** A content written to its temporary file, checked, and waiting to be flushed and placed. */
export interface Written {
  item: RestoreItem;
  /** The temporary file's path as named (where it is flushed from, and errors name it). */
  tmp: string;
  /** Its name in the destination's folder. */
  tmpName: string;
  /** The identity of the folder it was written in: the one it must be placed in. */
  folderId: string | undefined;
  /** The temporary file's inode once written: what is placed must still be it. */
  tmpIno: number | null;
  /** Whether the destination held something (other content, replaced with --overwrite). */
  replaces: boolean;
  /**
   * The file seen at the destination (`replaces`), by inode and change time: only it is
   * replaced, as it was, not one put there meanwhile (a freed inode number is soon given
   * to a new file) nor one written to since.
   */
  replacedId?: string;
  /** Where the bytes came from, and whether that was the content's own copy (`writeFromAny`). */
  from: ReadFrom;
  /** Made a hard link of this restored file instead (hard_links.ts): its group's anchor. */
  linkedTo?: Anchor;
  /** Written as the anchor of its group (hard_links.ts), the file later names link to. */
  anchor?: Anchor;
}

export const isWritten = (w: Written | RestoreResult): w is Written => !("outcome" in w);

/**
 * Writes one content to a temporary file next to its destination, or says why it needs
 * none (up to date) or cannot be restored (`decide`); throws only `StoppedError`. The
 * destination's folder is reached through `folders` (pinned.ts), and everything in it
 * through that.
 */
export async function writeOne(
  root: string,
  given: RestoreItem,
  opts: WriteOptions,
  folders: DestFolders,
): Promise<Written | RestoreResult> {
  const tmpName = `${RESTORE_TMP_PREFIX}${Deno.pid}-${++tmpCounter}.tmp`;
  const decision = await decide(root, given, opts, folders, tmpName);
  if (decision.kind === "done") return decision.result;
  const { item, folder, existing } = decision;
  const { copy, dest } = item;
  const dir = dirname(dest);
  const tmp = join(dir, tmpName);
  const tmpAt = folder.at(tmpName);
  try {
    const replaces = existing !== undefined;
    const replacedId = existing && fileIdentity(existing);
    const written = { item, tmp, tmpName, folderId: folder.id, replaces, replacedId };
    const linkedTo = opts.links?.linkTemp(item, folder, tmpName, folders);
    if (linkedTo) {
      const from = { from: copy.storedAt ?? "", own: true };
      return { ...written, tmpIno: linkedTo.ino, from, linkedTo };
    }
    const from = await writeFromAny(root, copy, tmpAt, tmp, opts);
    // The file written, by its descriptor (a symlink: looked at by its name).
    const made = from.info ?? lstatOrNone(tmpAt);
    const anchor = opts.links?.wrote(item, folder, tmpName, made);
    const read = { from: from.from, own: from.own }; // held till placed: no more
    return { ...written, tmpIno: made?.ino ?? null, from: read, ...anchor ? { anchor } : {} };
  } catch (e) {
    removeQuietly(tmpAt);
    if (e instanceof StoppedError) throw e;
    return failed(item, cannotWriteIn(dir, tmpName, e) ?? e, folder, opts);
  } finally {
    folder.release();
  }
}

/**
 * Puts a flushed temporary file at its destination, in the folder it was written in (one
 * put in its place meanwhile is refused); never throws.
 */
export async function placeOne(
  { item, tmp, tmpName, folderId, tmpIno, replaces, replacedId, from, linkedTo }: Written,
  opts: WriteOptions,
  folders: DestFolders,
): Promise<RestoreResult> {
  const { copy, dest } = item;
  let folder: Reached | undefined;
  let tmpAt = tmp;
  try {
    folder = reachFolder(folders, item);
    if (folder.id !== folderId) {
      return {
        ...item,
        outcome: "failed",
        reason: `the folder '${dirname(dest)}' was replaced while the restore ran, so ` +
          `nothing was put there: restore it again`,
      };
    }
    tmpAt = folder.at(tmpName);
    const destAt = folder.at(basename(dest));
    // Swapped since it was written (for a symlink or a FIFO of someone's): never placed.
    const now = lstatOrNone(tmpAt);
    const kindNow = copy.kind === "file" ? now?.isFile : now?.isSymlink;
    if (!now || !kindNow || (tmpIno !== null && now.ino !== tmpIno)) {
      tmpAt = ""; // not ours: left where it is
      return {
        ...item,
        outcome: "failed",
        reason: `its temporary file '${tmp}' was replaced before it was put in place: ` +
          "restore it again",
      };
    }
    // With --overwrite, only what was seen there is replaced: a file removed meanwhile is
    // placed as a new one, and one put there or written to meanwhile is left alone (as is
    // anything at a symlink's place: a rename would replace it).
    const there = replaces || copy.kind === "symlink" ? lstatOrNone(destAt) : undefined;
    if (there && (!replaces || fileIdentity(there) !== replacedId)) return taken(item, opts);
    if (there || copy.kind === "symlink") {
      await renameWithRetry(tmpAt, destAt);
      tmpAt = ""; // renamed: no name left to remove
    } else if (await linkNew(tmpAt, destAt)) {
      tmpAt = ""; // renamed, or linked and its temporary name removed
    } else {
      // A twin this restore placed meanwhile is never taken for this file, nor replaced.
      const twin = item.twin === undefined ? opts.twins?.twinOf(item) : undefined;
      if (twin !== undefined) return placedTwin(item, twin);
      // Appeared meanwhile (another restore of the same backup?): the same bytes are no conflict.
      const now = lstatOrNone(destAt);
      if (now && await sameContent(destAt, now, copy, opts)) {
        return { ...item, outcome: "up-to-date" };
      }
      return conflict(item, true);
    }
    if (linkedTo !== undefined) {
      return { ...item, outcome: "restored", hardLinkOf: linkedTo.item.dest };
    }
    // Its own copy (where a run moved it too, as read: never asked again, since that run
    // goes on), or none to repair: an empty file made from nothing, or a content whose copy
    // the state knows is gone (pruned, lost), made from elsewhere or from its record.
    if (from.own || !isStored(copy)) return { ...item, outcome: "restored" };
    return {
      ...item,
      outcome: "restored",
      note: `its copy '${copy.storedAt}' is missing or damaged: read from ${
        from.from === RECORDED_TARGET
          ? "the target the state records"
          : `'${from.from}', which holds the same content`
      }; run '${commandHint("verify --repair")}'`,
    };
  } catch (e) {
    const odd = refusedOnTheWay(item.base, dest, e);
    const reason = odd === undefined
      ? withFlagsRemedy(namedPaths(errorText(e), folder), "then restore again")
      : refusedByDisk(odd);
    return { ...item, outcome: "failed", reason, ...noRoom(e) ? { noRoom: true } : {} };
  } finally {
    if (tmpAt !== "") removeQuietly(tmpAt);
    folder?.release();
  }
}

/** An entry's inode, change time and size: another file, or the same one written to, differ. */
function fileIdentity(info: Deno.FileInfo): string {
  return `${info.ino}:${info.ctime?.getTime()}:${info.size}`;
}

/**
 * A temporary file that could not be made in the destination's folder (one this user may
 * not write in, a read-only disk, an immutable one), said of that folder, with the remedy, rather than as the
 * system names the temporary file; undefined for any other failure (a stored copy that
 * cannot be read, say). A read-only disk is EROFS on Linux and macOS (30), and on Windows
 * ERROR_WRITE_PROTECT (19), where 30 is ERROR_READ_FAULT, a disk that could not be read.
 */
export function cannotWriteIn(
  dir: string,
  tmpName: string,
  e: unknown,
  os: typeof Deno.build.os = Deno.build.os,
): Error | undefined {
  const text = errorText(e);
  if (!text.includes(tmpName)) return undefined;
  // EPERM (Deno's PermissionDenied too): a folder immutable, which no chmod mends.
  if (os !== "windows" && /\(os error 1\)/.test(text)) {
    const { look, off } = flagWords(os);
    return new Error(
      `Cannot write in '${dir}': operation not permitted: the folder is immutable (${look}): ` +
        `take the flag off with ${off}, or restore with --to a folder you can write to`,
    );
  }
  const why = e instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : isReadOnlyDisk(e, os)
    ? "its disk is mounted read-only"
    : undefined;
  if (why === undefined) return undefined;
  return new Error(
    `Cannot write in '${dir}': ${why}: make it writable, or restore with --to a folder you ` +
      "can write to",
  );
}

/** A destination found taken when the file was placed: by a twin (twins.ts), or a conflict. */
function taken(item: RestoreItem, opts: WriteOptions): RestoreResult {
  const twin = item.twin === undefined ? opts.twins?.twinOf(item) : undefined;
  return twin === undefined ? conflict(item, true) : placedTwin(item, twin);
}

/** A file whose name a twin this restore placed meanwhile took: to be written again. */
function placedTwin(item: RestoreItem, twin: Twin): RestoreResult {
  const reason = twinText(twin, {
    refused: "and placed it while this file was restored: restore it again to restore it " +
      "under another name",
  });
  return { ...item, outcome: "failed", reason, again: true };
}

/**
 * Puts a new file in place without ever replacing one: a rename that refuses a taken name
 * (renameat2's RENAME_NOREPLACE, one call), else a hard link, which fails when the name is
 * taken, then the temporary name removed. Filesystems without hard links (FAT, some network
 * shares) fall back to a rename. Returns false when a file appeared at `dest` meanwhile
 * (the temporary file is left for the caller); true once `tmp` is gone.
 */
async function linkNew(tmp: string, dest: string): Promise<boolean> {
  const renamed = renameNoReplace(tmp, dest);
  if (renamed !== "unsupported") return renamed === "renamed";
  try {
    Deno.linkSync(tmp, dest);
    removeQuietly(tmp);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return false;
  }
  if (lstatOrNone(dest)) return false;
  await renameWithRetry(tmp, dest); // Windows refuses it while an indexer has the file open
  return true;
}

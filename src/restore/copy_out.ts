/**
 * Reading a content out of the backup root into a temporary file: from its own stored copy,
 * checked against the recorded digest while it is written, else (that copy missing,
 * damaged, or one the disk cannot read: an I/O error) from where an interrupted run moved
 * it, another stored copy of the same bytes, or (a symlink) the target the state records; a
 * file gets its recorded metadata, extended attributes too (dest_file.ts), a symlink its
 * owner and time (symlink_meta.ts). A stored copy with holes (a sparse file's) is written
 * with them (sparse.ts). A long read gives the event loop a turn now and then, so that a
 * stop signal is heard. Writes only the temporary file, which the caller removes.
 */
import { lstatOrNone, nativePath, removeQuietly } from "../engine/fs/fsops.ts";
import { makeSymlink, restoredLinkTarget } from "../engine/fs/portability.ts";
import { finishSymlink } from "../engine/fs/symlink_meta.ts";
import type { StoredCopy } from "../state/store.ts";
import { hashText } from "../engine/stage.ts";
import { keepsMode } from "../engine/fs/copy_meta.ts";
import { createTemp, finishTemp, type OnRefused } from "./dest_file.ts";
import { XATTRS_KEPT } from "../engine/fs/xattrs.ts";
import { basename, dirname } from "node:path";
import { createDigest } from "../engine/digest.ts";
import { openSource, type SourceFile } from "../engine/fs/source_file.ts";
import type { StatResult } from "../engine/fs/folders.ts";
import { turnTaker } from "../engine/event_turn.ts";
import { needsOwner } from "../engine/fs/owner.ts";
import type { WriteOptions } from "./write.ts";
import { goneReason, isStored } from "./asof.ts";
import { hasHoles, holeWriter, writeAll } from "../engine/fs/sparse.ts";
import { commandHint } from "../config/selection.ts";

/**
 * Writes the stored copy to `tmp` (named `named` in errors), checking its digest on the
 * way, and gives it its meta through its descriptor (dest_file.ts); returns what the file
 * written is, by its descriptor (a symlink: undefined).
 */
async function writeChecked(
  stored: string,
  tmp: string,
  named: string,
  c: StoredCopy,
  opts: WriteOptions,
): Promise<Deno.FileInfo | undefined> {
  const buf = opts.buf;
  if (c.kind === "symlink") {
    const target = readStored(() => Deno.readLinkSync(stored), stored);
    if (hashText(target, c.algo) !== c.hash) throw damaged(stored, c);
    const made = restoredLinkTarget(target);
    makeSymlink(made, tmp, c.mode, named);
    finishSymlink(tmp, made, c);
    return undefined;
  }
  const h = createDigest(c.algo);
  let total = 0;
  const opened = readStored(() => openStoredFile(stored), stored);
  using src = opened.file;
  // Created with its recorded permission bits where the umask keeps them all and no owner
  // or extended attribute is given (no chmod then), else private until they are set.
  const keeps = keepsMode(c.mode) && !needsOwner(c) && !(XATTRS_KEPT && c.xattrs);
  using dst = createTemp(tmp, keeps ? c.mode & 0o777 : 0o600, named);
  // A sparse stored copy is restored with its holes (sparse.ts), any other as it reads.
  const holes = hasHoles(opened.info) ? holeWriter(dst) : undefined;
  const turn = turnTaker(opts.signal);
  for (let n = src.read(buf); n > 0; n = src.read(buf)) {
    await turn();
    total += n;
    if (total > c.size) throw damaged(stored, c); // never more than it should hold
    const chunk = buf.subarray(0, n);
    h.update(chunk);
    if (holes) holes.write(chunk);
    else writeAll(dst, chunk);
  }
  if (total !== c.size || h.digest("hex") !== c.hash) throw damaged(stored, c);
  holes?.end(); // its full length, after a last hole too
  finishTemp(dst, tmp, c, !keeps, refusalsSaid(named, opts));
  return dst.statSync();
}

/** Where a file restored as `named` says the attributes its disk would not take. */
function refusalsSaid(named: string, opts: WriteOptions): OnRefused | undefined {
  const notes = opts.xattrNotes;
  return notes && ((refused, dev) => notes.refused(dirname(named), dev, refused));
}

/** Where `writeFromAny` read a content. */
export interface ReadFrom {
  /** A storage path, or RECORDED_TARGET, or EMPTY_CONTENT. */
  from: string;
  /**
   * Its own copy, where it was recorded or where a run moved it (or an empty file, made
   * from nothing): decided as it is read, never asked again, since the run goes on.
   */
  own: boolean;
  /**
   * The file written, as its descriptor saw it once done (a symlink: none): what an lstat
   * of the temporary file would give, without looking its name up again.
   */
  info?: Deno.FileInfo;
}

/**
 * Writes the content to `tmp` from its own stored copy or, if that is missing or damaged,
 * from another place holding it (`readFromAny`), or, for a symlink, from the target the
 * state records; returns which (RECORDED_TARGET for the last). Whatever it reads is checked
 * against the recorded digest.
 */
export async function writeFromAny(
  root: string,
  c: StoredCopy,
  tmp: string,
  named: string,
  opts: WriteOptions,
): Promise<ReadFrom> {
  if (isEmptyFile(c)) {
    // No bytes to read: made whole from the record, even after retention pruned its copy.
    using dst = createTemp(tmp, 0o600, named);
    finishTemp(dst, tmp, c, true, refusalsSaid(named, opts));
    return { from: EMPTY_CONTENT, own: true, info: dst.statSync() };
  }
  let info: Deno.FileInfo | undefined;
  const attempt = async (at: string) => {
    try {
      info = await writeChecked(nativePath(root, at), tmp, named, c, opts);
    } catch (e) {
      if (e instanceof UnusableCopy || isReadFault(e)) removeQuietly(tmp);
      throw e;
    }
  };
  // A symlink is whole in the state: its recorded target, if it is the recorded content.
  const fromRecord = () => {
    if (c.kind !== "symlink" || c.linkTarget === null) return false;
    if (hashText(c.linkTarget, c.algo) !== c.hash) return false;
    const made = restoredLinkTarget(c.linkTarget);
    makeSymlink(made, tmp, c.mode, named);
    finishSymlink(tmp, made, c);
    return true;
  };
  const read = await readFromAny(root, c, opts, attempt, fromRecord);
  return read.from === RECORDED_TARGET ? read : { ...read, info };
}

/**
 * Reads a content of the backup `root` through `attempt` (which throws UnusableCopy for a
 * place that does not hold it, or a read fault, anything else to give up) from its own
 * stored copy or, if that is missing, damaged or unreadable (`isReadFault`), from where a
 * run moved it (its journal) or the state records it now (a run going on moved it), or from
 * the first other copy of the same content that holds it intact, or from its record
 * (`fromRecord`: a symlink's target); returns which (RECORDED_TARGET for the last). The
 * error is the own copy's, should none hold it.
 * The restore writer and `restore --to -` (stream_out.ts) read a content so.
 */
export async function readFromAny(
  root: string,
  c: StoredCopy,
  opts: Pick<WriteOptions, "movedOf" | "recordedNow" | "fallbacksOf" | "prunedOf">,
  attempt: (at: string) => Promise<void>,
  fromRecord: () => boolean = () => false,
): Promise<ReadFrom> {
  let first: unknown;
  const errors = new Map<string, unknown>();
  const holds = async (at: string) => {
    try {
      await attempt(at);
      return true;
    } catch (e) {
      // A copy the disk cannot read (EIO) is as damaged: another may hold the bytes.
      if (!(e instanceof UnusableCopy) && !isReadFault(e)) throw e;
      first ??= e;
      errors.set(at, e);
      return false;
    }
  };
  // Its own copy (none once retention pruned it: a symlink's record may still make it).
  const own = c.storedAt;
  if (own !== null) {
    if (await holds(own)) return { from: own, own: true };
    const moved = opts.movedOf?.(own) ?? [];
    for (const at of moved) if (await holds(at)) return { from: at, own: true };
    // Where an interrupted run moved it, the copy is at the last of its moves that exists:
    // the error is that place's, not the one its new content took.
    const there = [...moved].reverse().find((at) => lstatOrNone(nativePath(root, at)));
    if (there !== undefined) first = errors.get(there) ?? first;
  }
  // Moved by a run going on since the restore picked it: read where the state now says.
  const now = own === null ? undefined : opts.recordedNow?.(c);
  if (now && isStored(now) && now.storedAt !== own) {
    if (await holds(now.storedAt!)) return { from: now.storedAt!, own: true };
    // Its copy is there now: the error is that place's, not the one its new content took.
    first = errors.get(now.storedAt!) ?? first;
  }
  for (const at of opts.fallbacksOf?.(c) ?? []) {
    if (await holds(at)) return { from: at, own: false };
  }
  if (fromRecord()) return { from: RECORDED_TARGET, own: false };
  const prunedBy = own === null ? undefined : opts.prunedOf?.(own);
  if (prunedBy !== undefined) {
    throw new UnusableCopy(prunedUnrecordedReason(c.seq, prunedBy));
  }
  if (!isStored(c) || first === undefined) throw new UnusableCopy(goneReason(c));
  // Pruned (or found lost) by a run going on since the restore picked it: said so.
  if (now !== undefined && !isStored(now)) throw new UnusableCopy(goneReason(now));
  throw first;
}

/**
 * Whether a failure to read a stored copy is the disk's: EIO (a bad sector, a btrfs block
 * whose checksum fails), on Linux and macOS (5; on Windows 5 is a refusal, and no read
 * fault is told apart there). Another stored copy of the same bytes, in other blocks, may
 * read; the copy is as damaged.
 */
export function isReadFault(e: unknown, os: typeof Deno.build.os = Deno.build.os): boolean {
  return os !== "windows" && e instanceof Error && /\(os error 5\)/.test(e.message);
}

/** What `writeFromAny` returns when a symlink was made from the state's record alone. */
export const RECORDED_TARGET = "";
/** What `writeFromAny` returns for an empty file, made from the record alone. */
export const EMPTY_CONTENT = "\0empty";

/** An empty file: its record is its whole content (the digest of no bytes). */
export function isEmptyFile(c: StoredCopy): boolean {
  return c.kind === "file" && c.size === 0 && createDigest(c.algo).digest("hex") === c.hash;
}

/** A stored copy that is missing or does not hold its recorded content. */
export class UnusableCopy extends Error {}

/**
 * Opens or reads a stored copy, naming a missing one plainly. Something else in its place
 * (a folder, or a file where a folder of the way was: what a run interrupted right after
 * archiving the copy leaves, with the copy where its journal says) counts as missing.
 */
export function readStored<T>(read: () => T, stored: string): T {
  try {
    return read();
  } catch (e) {
    if (!isElsewhere(e, Deno.build.os, stored)) throw e;
    throw new UnusableCopy(
      `the stored copy '${stored}' is missing: run '${commandHint("verify")}' to check the backup`,
    );
  }
}

/**
 * Whether a failure to read a stored copy says something else is in its place: nothing,
 * a file on the way, a folder, a symlink in place of a file (a loop), or, in its number,
 * ENOTDIR, EISDIR or EINVAL on Linux and macOS (20, 21, 22: a readlink of a file is
 * EINVAL), ERROR_NOT_A_REPARSE_POINT on Windows (4390: a readlink of a file), where 20 to
 * 22 are a device's failures (ERROR_BAD_UNIT, ERROR_NOT_READY: a disk gone, not a copy).
 * On Windows a folder opened as a file is "Access is denied" (5), as a file the user may
 * not read is: told apart by a look at `path`, the copy's place, where one is given.
 */
export function isElsewhere(
  e: unknown,
  os: typeof Deno.build.os = Deno.build.os,
  path?: string,
): boolean {
  return e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory ||
    e instanceof Deno.errors.IsADirectory || e instanceof Deno.errors.FilesystemLoop ||
    (os === "windows" ? /\(os error 4390\)/ : /\(os error (20|21|22)\)/)
      .test((e as Error)?.message ?? "") ||
    (os === "windows" && e instanceof Deno.errors.PermissionDenied && path !== undefined &&
      isFolder(path));
}

/** Whether a folder stands at `path` (not followed through a symlink). */
function isFolder(path: string): boolean {
  try {
    return Deno.lstatSync(path).isDirectory;
  } catch {
    return false;
  }
}

/**
 * A stored file opened for reading, without following a symlink or waiting on a FIFO put
 * in its place, with what its stat gave; anything but a file there is refused like a
 * missing file.
 */
export function openStoredFile(stored: string): { file: SourceFile; info: StatResult } {
  const file = openSource(stored);
  const info = file.stat();
  if (info.kind === "file") return { file, info };
  file[Symbol.dispose]();
  throw new Deno.errors.IsADirectory(`Is not a file: '${stored}'`);
}

export function damaged(stored: string, c: StoredCopy): Error {
  const twin = caseTwinAnswering(stored);
  if (twin !== undefined) {
    // A copy of the backup root onto exFAT or FAT32 could not hold both names.
    return new UnusableCopy(
      `the stored copy '${stored}' is not on this disk, which ignores letter case: ` +
        `'${twin}', another file's copy, answers to its name; restore from a copy of the ` +
        "backup root on a disk that tells letter case apart (ext4, btrfs, xfs; not exFAT, FAT, " +
        "or APFS and NTFS as macOS and Windows make them)",
    );
  }
  return new UnusableCopy(
    `the stored copy '${stored}' does not match its recorded ${c.algo} digest: it was ` +
      `damaged or altered after the backup; run '${commandHint("verify")}' to check the others`,
  );
}

/**
 * The name in the stored copy's folder that answered to the copy's own name where the two
 * differ only in letter case (a disk that ignores case: the copy's own name is not listed
 * there); undefined where its own name is listed, or the folder cannot be listed.
 */
function caseTwinAnswering(stored: string): string | undefined {
  const name = basename(stored);
  const lower = name.toLowerCase();
  let twin: string | undefined;
  try {
    for (const e of Deno.readDirSync(dirname(stored))) {
      if (e.name === name) return undefined;
      if (e.name.toLowerCase() === lower) twin = e.name;
    }
  } catch {
    return undefined;
  }
  return twin;
}

/**
 * Why a version cannot be read whose copy an interrupted run's retention deleted before
 * recording it (`by`: that run, as `prunedBy` names it).
 */
export function prunedUnrecordedReason(seq: number, by: string): string {
  return `version ${seq} was pruned by retention (${by}): its copy no longer exists`;
}

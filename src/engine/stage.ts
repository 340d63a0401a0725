/**
 * The hasher: reads a source file once, feeding each buffer both to the digest and, when
 * staging, to a temporary copy inside the backup root (`.backup-tool/tmp/`). The copy gets
 * the file's mode, mtime and extended attributes (read from the open file before its bytes:
 * xattrs.ts; set as copy_meta.ts does); it is flushed later, a batch at a time
 * (`syncFiles`). If the file changed while it was read (size, mtime or length read differ
 * from its stat), the read is retried; a file that keeps changing is reported and left to
 * the next run, so a digest is never recorded for bytes that were not stored, nor a copy
 * mixing two states of it. (A file that keeps growing, a busy log, is given up too: reading
 * it twice alike cannot tell an append from a write ahead of the reader, which a growing
 * database does.) A file found grown over `exclude_larger_than` when looked at again (held
 * since the walk: a growing disk image) is not read on: GrownLargeError, said as the walk
 * says one (large.ts). An interruption leaves at most temporary files, which the next run
 * removes. Callers await `loadDigests()` (digest.ts) before the first call.
 */
import { dirname } from "node:path";
import type { ScanEntry } from "../core/types.ts";
import { createDigest } from "./digest.ts";
import { removeQuietly } from "./fs/fsops.ts";
import { isRealFolderPath } from "./fs/identity.ts";
import { makeSymlink } from "./fs/portability.ts";
import { statFields, type StatResult } from "./fs/folders.ts";
import { openSource, type SourceFile } from "./fs/source_file.ts";
import { makeFile } from "./fs/own_file.ts";
import { overLimit } from "./scan/large.ts";
import { pausePoint } from "./fault.ts";
import { RETRIED } from "./errors.ts";
import { needsOwner } from "./fs/owner.ts";
import { keepsMode, ownedMode } from "./fs/copy_meta.ts";
import { hasHoles, holeWriter, writeAll } from "./fs/sparse.ts";
import { applyXattrs, readXattrs, type XattrTarget } from "./fs/xattrs.ts";

/** 1 MiB reads: node:crypto SHA-256 reaches about 1.1 GB/s from 1 MiB up (measured here). */
export const READ_BUFFER_BYTES = 1 << 20;
/** A file seen changing on this many consecutive reads is left for the next run. */
const READ_ATTEMPTS = 3;

export class FileChangedError extends Error {}
/**
 * A file seen changing on every one of its READ_ATTEMPTS reads (a busy log): `run` reports
 * it as a failure; a watch reads it again once it is quiet (pass_types.ts `deferChanging`).
 */
export class KeptChangingError extends FileChangedError {}
/** A FIFO, socket or device found where a file was to be read (opened, never read). */
export class NotAFileError extends Error {}
/**
 * A file grown over `exclude_larger_than` between the walk and its read (held until the
 * deletions were planned: a growing disk image): left out as the walk leaves one out, not
 * read on (large.ts).
 */
export class GrownLargeError extends Error {
  constructor(readonly abs: string, readonly size: number) {
    super(`'${abs}' grew over exclude_larger_than (${size} bytes) after the walk saw it`);
  }
}

interface Staged {
  entry: ScanEntry;
  hash: string;
  tmp?: string;
}

/**
 * Digest of a file's bytes (or a symlink's target), and a temporary copy when `tmp` is
 * given; a file found grown over `limit` (exclude_larger_than) when looked at again throws
 * GrownLargeError.
 */
export function stageEntry(
  entry: ScanEntry,
  algo: string,
  buf: Uint8Array,
  tmp?: string,
  limit?: number | null,
): Staged {
  const steps = stageSteps(entry, algo, buf, tmp, limit);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * `stageEntry` on a thread that must hear a stop signal while it reads one large file (the
 * main thread): `turn` is awaited between the file's blocks, and throws `StoppedError`
 * (event_turn.ts) once a signal came. The file is then given up, its temporary copy left
 * to the caller to remove, as on any failure.
 */
export async function stageEntryHeard(
  entry: ScanEntry,
  algo: string,
  buf: Uint8Array,
  tmp: string | undefined,
  turn: () => Promise<void>,
  limit?: number | null,
): Promise<Staged> {
  const steps = stageSteps(entry, algo, buf, tmp, limit);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    try {
      await turn();
    } catch (e) {
      steps.return(undefined as never); // closes the files it holds open
      throw e;
    }
  }
}

/** `stageEntry`'s work, pausing (yield) between the blocks of a file read. */
function* stageSteps(
  entry: ScanEntry,
  algo: string,
  buf: Uint8Array,
  tmp?: string,
  limit?: number | null,
): Generator<void, Staged> {
  if (entry.kind === "symlink") return stageSymlink(entry, algo, tmp);
  for (let attempt = 1;; attempt++) {
    const result = yield* copyOnce(entry, algo, buf, tmp);
    if (result && (!result.unsure || (yield* sameOnceMore(result, algo, buf)))) {
      return result.staged;
    }
    if (tmp) removeQuietly(tmp);
    if (attempt >= READ_ATTEMPTS) {
      throw new KeptChangingError(
        `Cannot back up '${entry.abs}': it kept changing while being read: ${RETRIED}`,
      );
    }
    entry = restat(entry);
    // Grown over the limit since the walk: left out as the walk leaves one out, not read.
    if (overLimit(limit, entry.kind, entry.size)) throw new GrownLargeError(entry.abs, entry.size);
  }
}

/** Digest of a stored copy: a symlink's target text, or a file's bytes. */
export function hashCopy(
  path: string,
  kind: "file" | "symlink",
  algo: string,
  buf: Uint8Array,
): string {
  return hashCopyAs(path, kind, [algo], buf)[0];
}

/** Digests of a stored copy (or a source entry) under several algorithms, in one read. */
export function hashCopyAs(
  path: string,
  kind: "file" | "symlink",
  algos: string[],
  buf: Uint8Array,
): string[] {
  const blocks = hashingCopyAs(path, kind, algos, buf);
  for (let r = blocks.next();; r = blocks.next()) if (r.done) return r.value;
}

/**
 * `hashCopyAs` a block at a time: it yields after each block read, where verify --repair
 * gives a stop signal its turn (a copy of gigabytes is not read to its end first), and
 * returns the digests. Ended early (`return`), it closes the file.
 */
export function* hashingCopyAs(
  path: string,
  kind: "file" | "symlink",
  algos: string[],
  buf: Uint8Array,
): Generator<void, string[], void> {
  if (kind === "symlink") {
    const target = Deno.readLinkSync(path);
    return algos.map((algo) => hashText(target, algo));
  }
  const digests = algos.map(createDigest);
  using f = openSource(path);
  // Looked at before it is read: a FIFO in the file's place has no data or a writer's
  // (opened without waiting), a device such as /dev/zero never ends.
  const found = f.stat().kind;
  if (found !== "file") {
    throw new NotAFileError(`Cannot read '${path}': it is a ${found}, not a file`);
  }
  for (let n = f.read(buf); n > 0; n = f.read(buf)) {
    for (const h of digests) h.update(buf.subarray(0, n));
    yield;
  }
  return digests.map((h) => h.digest("hex"));
}

export function hashText(text: string, algo: string): string {
  return createDigest(algo).update(text).digest("hex");
}

/**
 * Whether a file read once without a change time to the nanosecond reads the same again
 * (see `copyOnce`): a write during the first read, in the second of the file's last
 * change and with its mtime put back, shows in no time Deno gives, but a torn read differs
 * from the next, which gives what the file holds once the writer is done.
 */
function* sameOnceMore(first: { staged: Staged }, algo: string, buf: Uint8Array) {
  return (yield* copyOnce(first.staged.entry, algo, buf, undefined))?.staged.hash ===
    first.staged.hash;
}

/**
 * How long after a file's last change time a read must begin for the change times looked
 * at around it to show any write made during it; a read begun sooner is made once more,
 * and the two must agree (`sameOnceMore`). A change time is stamped from a clock that
 * ticks: file systems that keep whole seconds (ext4 with 128-byte inodes, made so for small
 * disks by older mkfs) or two (FAT, whose change time macOS gives as its modification time)
 * give no nanoseconds, nor does Deno's own stat (CHANGE_COARSE_MS: two seconds and a margin
 * for the kernel's file clock, which may lag the one Date.now reads by a tick); the others
 * stamp with the kernel's tick, 10 ms at most (HZ=100), before Linux 6.13 (CHANGE_TICK_MS,
 * with margin).
 */
const CHANGE_COARSE_MS = 2000 + 100;
const CHANGE_TICK_MS = 50;

/**
 * Whether a read begun at `began` (Date.now) may have missed a write made during it,
 * unseen in the change times looked at around it: the last change is too recent for
 * their resolution. False where the system gives no change time (0).
 */
export function changeTooRecent(s: Pick<StatResult, "ctimeMs" | "ctimeExact">, began: number) {
  if (s.ctimeMs === 0) return false;
  if (s.ctimeExact === undefined) return s.ctimeMs + CHANGE_COARSE_MS > began;
  const [seconds, nanos] = s.ctimeExact.split(".").map(Number);
  if (nanos === 0) return seconds * 1000 + CHANGE_COARSE_MS > began;
  return seconds * 1000 + nanos / 1e6 + CHANGE_TICK_MS > began;
}

function* copyOnce(
  entry: ScanEntry,
  algo: string,
  buf: Uint8Array,
  tmp: string | undefined,
): Generator<void, { staged: Staged; unsure: boolean } | undefined> {
  const began = Date.now();
  const h = createDigest(algo);
  let src: SourceFile;
  try {
    src = openSource(entry.abs);
  } catch (e) {
    // A symlink there now (ELOOP), or a socket (ENXIO): looked at again by the caller.
    if (e instanceof Deno.errors.FilesystemLoop || isOtherKindNow(entry.abs)) return undefined;
    throw e;
  }
  using _ = src;
  const opened = src.stat();
  // Those of the bytes read: a change to them meanwhile moves the change time (checked below).
  const xattrs = readXattrs(src.fd);
  // Created with the source's permission bits where the umask keeps them all and the owner
  // stays (owner.ts), so no chmod is needed (the handle may write whatever the mode says);
  // anything else starts private, and so does a file with extended attributes, which are set
  // before its mode (a user.* attribute needs the owner's write permission; an ACL sets the
  // group bits, which the chmod after it gives their recorded value again).
  const keeps = keepsMode(entry.mode) && !needsOwner(entry) && xattrs === undefined;
  const mode = keeps ? entry.mode & 0o777 : 0o600;
  using dst = tmp ? makeFile(tmp, mode, !keeps) : undefined;
  // A sparse source's copy keeps its holes (sparse.ts); any other is written as it reads.
  const holes = dst && hasHoles(opened) ? holeWriter(dst.file) : undefined;
  // Up to the size the walk saw, without a last read to meet the end: most files take one
  // read instead of two. A file that grew or shrank since fails the check below.
  let total = 0;
  try {
    while (total < entry.size) {
      // Never past that size: the bytes appended meanwhile are not part of what was seen.
      const n = src.read(
        entry.size - total < buf.length ? buf.subarray(0, entry.size - total) : buf,
      );
      if (n === 0) break;
      const chunk = buf.subarray(0, n);
      h.update(chunk);
      if (holes) holes.write(chunk);
      else if (dst) writeAll(dst.file, chunk);
      total += n;
      pausePoint("reading");
      if (total < entry.size) yield; // between blocks: `stageEntryHeard` may give up here
    }
  } catch (e) {
    // A FIFO, socket or device in the file's place (no data yet: EAGAIN) is not the file
    // the walk saw; a folder's read error (EISDIR) tells the caller what happened.
    if (isSpecial(src.stat().kind)) return undefined;
    throw e;
  }
  holes?.end(); // its full length, after a last hole too
  const after = src.stat();
  const hash = h.digest("hex");
  // Not the file the walk saw (saved by rename since, or a folder on the way swapped for a
  // symlink), or written to since (its change time moved, even with its modification time
  // put back, as `cp -p`, `touch -r` and `rsync --inplace -t` do: the copy may mix two
  // states): never copied; looked at again (restat checks the way to it), then read again.
  // The walk knows the change time to the second only (Deno's); the open file's, looked at
  // before and after the read, as exactly as the system stamps it (statx on Linux: the
  // kernel's clock tick, a few milliseconds at most), so a write during the read within
  // that second is seen too. A write between the walk and the open within the second is
  // not, but then what is read is one state the file had: the later. (A change time of 0:
  // the system gives none.)
  if (
    after.kind !== "file" || !sameFileAs(entry, after) || total !== entry.size ||
    after.size !== entry.size || after.mtimeMs !== entry.mtimeMs ||
    (after.ctimeMs !== 0 && after.ctimeMs !== entry.ctimeMs) ||
    after.ctimeExact !== opened.ctimeExact
  ) {
    return undefined;
  }
  if (dst) {
    // Through the held descriptor where there is one: never through a name (own_file.ts).
    const at = dst.through ?? tmp!;
    if (!keeps && Deno.build.os !== "windows") {
      const mode = ownedMode(at, entry);
      // After the chown, which clears file capabilities; a backup disk that keeps none
      // (exFAT) keeps them in the state only, from which a restore gives them.
      const target: XattrTarget = dst.fd === undefined ? { path: tmp! } : { fd: dst.fd };
      if (xattrs !== undefined) applyXattrs(target, xattrs, false);
      Deno.chmodSync(at, mode);
    }
    const when = new Date(entry.mtimeMs);
    dst.file.utimeSync(when, when); // after the last write, through the handle: no path lookup
  }
  const read = withXattrs(entry, xattrs);
  return { staged: { entry: read, hash, tmp }, unsure: changeTooRecent(after, began) };
}

/** The entry with the attributes read from its file (an entry looked at again had older). */
function withXattrs(entry: ScanEntry, xattrs: string | undefined): ScanEntry {
  if (entry.xattrs === xattrs) return entry;
  const { xattrs: _, ...rest } = entry;
  return xattrs === undefined ? rest : { ...rest, xattrs };
}

/** Whether something other than a file stands at `path` now (after its open failed). */
function isOtherKindNow(path: string): boolean {
  try {
    return !Deno.lstatSync(path).isFile;
  } catch {
    return false; // the open's own error says it better
  }
}

function isSpecial(kind: StatResult["kind"]): boolean {
  return kind === "fifo" || kind === "socket" || kind === "device";
}

/** Whether two looks saw the same file (where the platform gives inode numbers). */
function sameFileAs(a: FileIds, b: FileIds): boolean {
  if (!a.ino || !b.ino) return true;
  return a.ino === b.ino && a.dev === b.dev;
}

type FileIds = { ino: number | null; dev: number | null };

function stageSymlink(entry: ScanEntry, algo: string, tmp?: string): Staged {
  const target = entry.linkTarget ?? Deno.readLinkSync(entry.abs);
  if (tmp) makeSymlink(target, tmp, entry.mode);
  return { entry, hash: hashText(target, algo), tmp };
}

/**
 * The entry looked at again after it changed. Another file now (saved by rename: a new
 * inode) is taken only as a regular file reached through real folders, looked at before
 * and after the lstat: a folder on the way swapped for a symlink would otherwise lead to
 * a file the source never held.
 */
function restat(entry: ScanEntry): ScanEntry {
  const folder = dirname(entry.abs);
  const before = isRealFolderPath(folder);
  const info = Deno.lstatSync(entry.abs);
  const again: ScanEntry = { ...entry, ...statFields(info) };
  // A FIFO made in the file's place may get its freed inode number: the kind is checked.
  if (info.isFile && (sameFileAs(entry, again) || (before && isRealFolderPath(folder)))) {
    return again;
  }
  throw new FileChangedError(
    `Cannot back up '${entry.abs}': it was replaced through a symlink or by another kind of ` +
      `entry while being read: ${RETRIED}`,
  );
}

/**
 * A duplicate's staged copy made to share its disk blocks with the stored copy of the same
 * content, where the backup root's file system can share extents between files (Linux
 * btrfs; XFS made with reflink=1, the default of mkfs.xfs since 5.1; OCFS2 and bcachefs,
 * see SHARING_TYPES): its `_duplicates/` copy then takes next to no room of its own. A new
 * or changed file's staged copy likewise, where a stored copy already holds its content (a
 * moved or renamed file's old copy, archived by the same run; a version it was put back
 * to; a deleted file's made again: state/stored_copies.ts). Both are looked up only where
 * `mayShareAt` says the root's file system is one that shares and the config's
 * `share_blocks` is not false (its callers ask that first): elsewhere no query and no call
 * is made. It stays a whole file of its own: a restore,
 * `verify` and every other reader see its bytes as before, and a later change to either
 * file (there is none: stored copies are never written) would be copied on write.
 *
 * How: the kernel's FIDEDUPERANGE ioctl (linux/fs.h) on the stored copy, opened to read,
 * with the staged copy as its destination, through the C library (libc.ts), in ranges of
 * 16 MiB (btrfs refuses longer ones; the last range ends at the files' end, which may be
 * unaligned there). The kernel locks both files, compares their bytes itself, and remaps
 * the staged copy's blocks to the stored copy's only where they are identical: a stored
 * copy damaged since it was written (a disk fault, a change by hand) is never spread. Where
 * it differs from a staged copy just hashed to the same digest, the stored copy is what is
 * damaged (`"differs"`: the batch warns, naming it and `verify --repair`), and the staged
 * copy stays whole. Done by the batch before its flush (batch.ts): the kernel writes both
 * files' ranges back before it compares them, which the flush then need not, and the
 * remapping is flushed with the file. (A first backup of 200 files of 1-4 MiB, half of
 * them duplicates, on btrfs: sharing and flush took 0.77-1.10 s done before the flush,
 * 0.70-1.35 s after it, six runs each, against 0.65-1.02 s of flush without sharing: the
 * order is within the noise.) One call at a time: eight at once, each on a thread of its
 * own, measured no faster.
 * The stored copy is only read: its bytes, times, mode, owner and xattrs stay as they were
 * (its mtime is looked at after each call all the same; a file system found to move it has
 * it put back and is not asked again); the staged copy's mtime, set when it was written
 * (stage.ts), is put back if the call moved it.
 *
 * Off where it cannot help: only on Linux with FFI permitted; only for files of more than
 * one block (SHARE_MIN_BYTES); a file system that refuses (ext4, tmpfs, a network share:
 * EOPNOTSUPP, EINVAL, EXDEV, ENOTTY...) is remembered by its device for the process and not
 * asked again. Any failure leaves the whole copy, as without this module, and is never the
 * file's failure. An interruption leaves the staged copy whole, or sharing some or all of
 * its blocks with the stored copy: both hold the same bytes, both correct.
 */
import { dirname } from "node:path";
import { cStringIn, EINTR, errnoOf, FILE_SYMBOLS, O_NOFOLLOW, O_NONBLOCK } from "./libc.ts";
import { O_RDONLY_CLOEXEC, openLibc, PATH_BYTES } from "./libc.ts";

/**
 * Files of at most one 4 KiB block (the block of btrfs and XFS on x86_64 and most aarch64
 * systems) are left whole: btrfs keeps a file of up to 2 KiB (max_inline) in its metadata,
 * with no extent to share (the call would fail with EINVAL, as a file system refusing
 * does), and sharing a single block would save that block only, at the cost of two opens,
 * an ioctl and the shared extent's back reference in the file system's metadata.
 */
export const SHARE_MIN_BYTES = 4096 + 1;
/**
 * The longest range one call asks for: btrfs compares and shares at most 16 MiB at a time
 * (BTRFS_MAX_DEDUPE_LEN; longer ones fail with EINVAL on older kernels). A multiple of
 * every block size.
 */
const RANGE_BYTES = 16 << 20;
/**
 * `_IOWR(0x94, 54, struct file_dedupe_range)`: read and write (3 << 30), the struct's
 * header of 24 bytes (<< 16), the type 0x94 (<< 8) and the number 54: the generic ioctl
 * encoding, the same on x86_64 and aarch64.
 */
const FIDEDUPERANGE = 0xc0189436n;
/** `FILE_DEDUPE_RANGE_DIFFERS`: the info's status where the two ranges' bytes differ. */
const RANGE_DIFFERS = 1;
/** struct file_dedupe_range (24 bytes) and one struct file_dedupe_range_info (32). */
const REQUEST_BYTES = 24 + 32;

const SYMBOLS = {
  ...FILE_SYMBOLS,
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  statfs: { parameters: ["buffer", "buffer"], result: "i32" },
} as const;

/**
 * `f_type` of statfs(2), the first field of struct statfs (a 64-bit word on x86_64 and
 * aarch64, little-endian: its low 32 bits hold the magic), of the file systems whose
 * FIDEDUPERANGE compares and shares (their `remap_file_range` takes REMAP_FILE_DEDUP):
 * BTRFS_SUPER_MAGIC and XFS_SUPER_MAGIC (linux/magic.h); OCFS2_SUPER_MAGIC (linux/magic.h;
 * fs/ocfs2/file.c `ocfs2_remap_file_range` shares where the volume has refcount trees,
 * mkfs.ocfs2's `refcount` feature, and answers EOPNOTSUPP elsewhere); BCACHEFS_SUPER_MAGIC
 * (linux/magic.h, bcachefs_format.h's BCACHEFS_STATFS_MAGIC: `bch2_remap_file_range` takes
 * REMAP_FILE_DEDUP from Linux 6.11 on, commit "bcachefs: support REMAP_FILE_DEDUP in
 * bch2_remap_file_range", and answered EOPNOTSUPP before). A refusal is remembered as any
 * other (REFUSALS). OCFS2 and bcachefs are read from those sources, not tried: no test
 * here makes either file system.
 */
const SHARING_TYPES = new Set([0x9123683e, 0x58465342, 0x7461636f, 0xca451a4e]);
/** struct statfs is 120 bytes on x86_64 and aarch64: room to spare. */
const STATFS_BYTES = 256;
/** Per folder asked: whether its file system is one that shares, and its device. */
const sharingFolders = new Map<string, { shares: boolean; dev: number }>();

/**
 * Bound as the module loads (a run or watch session asks `mayShareAt` at its start), held
 * for the process, as xattrs.ts' and own_file.ts' are.
 */
const lib = openLibc(SYMBOLS);
/** The devices whose file system refused (or moved a stored copy's mtime): not asked again. */
const refused = new Set<number>();
/**
 * The folders of staged copies found on such a device: a staged copy there is not even
 * opened (a run's are all in one folder).
 */
const refusedFolders = new Set<string>();

/** What became of a staged copy: sharing the stored copy's blocks, or left whole. */
export type ShareOutcome = "shared" | "differs" | "whole";

/**
 * Whether copies written below `folder` (the backup root) may share blocks with stored
 * ones: its file system is btrfs, XFS, OCFS2 or bcachefs (statfs' magic number, one call
 * per folder and process) and has not refused since. Asked before a new or changed file's stored copy is
 * looked up, so that a backup root on ext4, tmpfs or a network share makes no query of the
 * state for it: the file system's type is known before any file, where learning it from a
 * first refusal would cost a lookup (and a try) first. (XFS made with reflink=0, OCFS2
 * without refcount trees and bcachefs before Linux 6.11 say yes here, refuse at the first
 * try and are then not asked again.) False off Linux or without FFI.
 */
export function mayShareAt(folder: string): boolean {
  const c = library();
  if (c === undefined) return false;
  let known = sharingFolders.get(folder);
  if (known === undefined) {
    const name = cStringIn(folder, pathBuffer);
    const buf = new Uint8Array(STATFS_BYTES);
    const magic = name !== undefined && c.symbols.statfs(name, buf) === 0
      ? new DataView(buf.buffer).getUint32(0, true)
      : 0;
    let dev = -1;
    try {
      dev = Deno.statSync(folder).dev;
    } catch { /* no device to remember a refusal by */ }
    known = { shares: SHARING_TYPES.has(magic), dev };
    sharingFolders.set(folder, known);
  }
  return known.shares && !refused.has(known.dev);
}

/** Whether a staged copy of `size` bytes is worth trying to share (Linux, FFI, size). */
export function worthSharing(size: number): boolean {
  return size >= SHARE_MIN_BYTES && Deno.build.os === "linux" && library() !== undefined;
}

/**
 * Shares the blocks of the staged copy at `staged` (absolute) with the stored copy at
 * `stored` (absolute), `size` bytes each: "differs" where the kernel found other bytes in
 * the stored copy, "whole" where nothing was shared (a file system that cannot, or any
 * failure). Never throws.
 */
export function shareExtents(staged: string, stored: string, size: number): ShareOutcome {
  const c = library();
  const folder = dirname(staged);
  if (c === undefined || refusedFolders.has(folder)) return "whole";
  const dest = openToRead(c, staged);
  if (dest < 0) return "whole";
  try {
    const destBefore = statOf(dest);
    if (!destBefore?.isFile || destBefore.size !== size) return "whole";
    if (refused.has(destBefore.dev)) {
      refusedFolders.add(folder);
      return "whole";
    }
    const src = openToRead(c, stored);
    if (src < 0) return "whole";
    try {
      const srcBefore = statOf(src);
      if (!srcBefore?.isFile || srcBefore.size !== size) return "whole";
      const outcome = dedupeRanges(c, src, dest, size, destBefore.dev);
      keepTime(src, srcBefore, destBefore.dev);
      keepTime(dest, destBefore);
      return outcome;
    } finally {
      c.symbols.close(src);
    }
  } finally {
    c.symbols.close(dest);
  }
}

/** The ioctl over the whole length, a range at a time. */
function dedupeRanges(
  c: NonNullable<typeof lib>,
  src: number,
  dest: number,
  size: number,
  dev: number,
): ShareOutcome {
  const request = new Uint8Array(REQUEST_BYTES);
  const view = new DataView(request.buffer);
  let shared = 0;
  for (let at = 0; at < size;) {
    const length = Math.min(RANGE_BYTES, size - at);
    request.fill(0);
    view.setBigUint64(0, BigInt(at), true); // src_offset
    view.setBigUint64(8, BigInt(length), true); // src_length
    view.setUint16(16, 1, true); // dest_count
    view.setBigInt64(24, BigInt(dest), true); // info[0].dest_fd
    view.setBigUint64(32, BigInt(at), true); // info[0].dest_offset
    if (c.symbols.ioctl(src, FIDEDUPERANGE, request) !== 0) {
      const errno = errnoOf(c);
      if (errno === EINTR) continue;
      if (REFUSALS.has(errno)) refused.add(dev);
      return "whole";
    }
    const status = view.getInt32(48, true);
    if (status === RANGE_DIFFERS) return "differs";
    if (status < 0) {
      if (REFUSALS.has(-status)) refused.add(dev);
      return "whole";
    }
    const done = Number(view.getBigUint64(40, true)); // info[0].bytes_deduped
    shared += done;
    at += done > 0 ? done : length;
  }
  return shared > 0 ? "shared" : "whole";
}

/**
 * The errors that mean the file system cannot share extents here (not this file's): no
 * remap support (EOPNOTSUPP, and ENOTTY or ENOSYS from one that knows no such ioctl),
 * EINVAL (a file system or mount that cannot, or one longer range than it takes), EXDEV
 * (the two files on different mounts), EPERM (a kernel that wants the destination open
 * for writing).
 */
const REFUSALS = new Set([95, 25, 38, 22, 18, 1]);

/**
 * Puts a file's mtime back where the call moved it (no file system known does); the
 * stored copy's moved: the device is not asked again.
 */
function keepTime(fd: number, before: Deno.FileInfo, refuseDev?: number): void {
  const after = statOf(fd);
  if (!after || after.mtime?.getTime() === before.mtime?.getTime()) return;
  if (refuseDev !== undefined) refused.add(refuseDev);
  try {
    Deno.utimeSync(fdPath(fd), before.atime ?? before.mtime!, before.mtime!);
  } catch { /* as good as can be: the copy's bytes are what they were */ }
}

/** A regular file opened to read, without following a symlink or waiting on a FIFO; -1. */
function openToRead(c: NonNullable<typeof lib>, path: string): number {
  const name = cStringIn(path, pathBuffer);
  if (name === undefined) return -1;
  return c.symbols.open(name, O_RDONLY_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
}

const pathBuffer = new Uint8Array(PATH_BYTES);

/** fstat through the descriptor's link in /proc (Deno has no fstat of a raw descriptor). */
function statOf(fd: number): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(fdPath(fd));
  } catch {
    return undefined;
  }
}

function fdPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}

function library(): NonNullable<typeof lib> | undefined {
  return lib;
}

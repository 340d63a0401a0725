/**
 * How the backup root's lock file (lock.ts) is written once it is held: a record is only
 * ever written over the one before, in one write from the file's start, then the file is cut
 * to it (`overwrite`); the file is never emptied first, replaced or renamed over, since its
 * lock, on this inode, is what other runs wait on. A refused session gives the file back
 * what it held and its times (`readBefore`, then `giveBack`), written the same way.
 *
 * A kill at any moment leaves the file holding one whole record, the old one or the new
 * (padded with spaces until the cut), never none: a dead holder's record given back by a
 * refused session is never lost on the way.
 */
import { dirname } from "node:path";
import { diskFullError, errorText, isDiskFull } from "../errors.ts";
import { faultPoint } from "../fault.ts";
import { RECORD_BYTES } from "../../core/lock_record.ts";

/**
 * Writes the holder's record over the previous one (`overwrite`): over blocks the file has,
 * where a full disk still takes it (a record released is cut to nothing, though). A disk
 * too full for the record is said so, with the remedy.
 */
export function writeRecord(f: Deno.FsFile, file: string, bytes: Uint8Array): void {
  try {
    overwrite(f, bytes);
  } catch (e) {
    if (!isDiskFull(errorText(e))) throw e;
    throw new Error(
      `Cannot lock backup root: cannot write '${file}': ${
        diskFullError(dirname(dirname(file)), errorText(e)).message
      }`,
    );
  }
}

/** What pads a record written over a longer one: JSON, and a reader's trim, pass over it. */
const PAD = " ".charCodeAt(0);

/**
 * Writes `bytes` (a record, or what the file held before) over what the lock file holds,
 * in one write from its start, then cuts the file to them: where it holds more, they are
 * padded with spaces to its length first. So the file holds one whole record at every
 * moment, the one before or the new one (padded until the cut), never none: a kill between
 * the write and the cut leaves the new one padded, and a write of a record (`RECORD_BYTES`)
 * is never torn by a kill. Nothing is emptied first, and the file is neither replaced nor
 * renamed over: its lock, on this inode, is what other runs wait on (and Windows lets no
 * locked file be renamed over). fusefat (FAT32 through FUSE) refuses to cut an open file
 * to any length but nothing (EPERM; a cut to its own length too, which is why only a
 * longer file is cut): there the padding stays.
 */
export function overwrite(
  f: Pick<Deno.FsFile, "truncateSync" | "seekSync" | "writeSync" | "statSync">,
  bytes: Uint8Array,
): void {
  const size = f.statSync().size;
  // More than a record is not one to keep: written over, unpadded.
  const padded = new Uint8Array(Math.max(size <= RECORD_BYTES ? size : 0, bytes.length))
    .fill(PAD);
  padded.set(bytes);
  f.seekSync(0, Deno.SeekMode.Start);
  for (let off = 0; off < padded.length;) off += f.writeSync(padded.subarray(off));
  faultPoint("overwritten");
  if (size <= bytes.length) return;
  try {
    f.truncateSync(bytes.length);
  } catch (e) {
    if (!(e instanceof Deno.errors.PermissionDenied)) throw e;
  }
}

/** What the lock file held when it was locked, and its times: see `giveBack`. */
interface Before {
  bytes: Uint8Array;
  /** Whether `bytes` are all it held (a record is one short line; anything longer is not). */
  whole: boolean;
  atime: Date | null;
  mtime: Date | null;
}

export function readBefore(f: Deno.FsFile): Before {
  const { size, atime, mtime } = f.statSync();
  const bytes = readBytes(f);
  return { bytes, whole: bytes.length === size, atime, mtime };
}

/**
 * Writes back what the lock file held before it was taken, and its times (a refused
 * session's release), over this session's record (`overwrite`: a dead holder's record
 * given back is never lost to a kill meanwhile). A write that fails leaves the file as it
 * is, never emptied.
 */
export function giveBack(f: Deno.FsFile, before: Before): void {
  try {
    overwrite(f, before.bytes);
    if (before.mtime) f.utimeSync(before.atime ?? before.mtime, before.mtime);
  } catch { /* left as it is: a record, this session's or the one before */ }
}

/** What the lock file holds from its start, up to a record's most; read from, and left at, its start. */
export function readBytes(f: Deno.FsFile): Uint8Array {
  const buf = new Uint8Array(RECORD_BYTES);
  const n = f.readSync(buf) ?? 0;
  f.seekSync(0, Deno.SeekMode.Start);
  return buf.slice(0, n);
}

/**
 * The holes of sparse files, kept in the copies the tool writes: a staged copy of a source
 * file (stage.ts) and a restored file (restore/copy_out.ts). A file is taken for sparse
 * when the space it occupies is below its length (`hasHoles`: st_blocks × 512 < size),
 * which costs nothing more than the stat of the open file its reader makes anyway; only
 * such files take `holeWriter`, every other file is written as before, byte for byte. The
 * hole writer looks at each block read in 4 KiB pieces (HOLE_BYTES): a piece that is all
 * zeros is not written, the file's position moved past it instead (lseek), and once the
 * last block is in, the file is given its full length (ftruncate), so that one ending in
 * a hole has its exact length. The bytes read back are the same either way: the digest,
 * taken of every byte read, does not change, nor does anything the state records (holes
 * are how the disk keeps the bytes, not part of them).
 *
 * What the writer keeps is like `cp --sparse=auto` and rsync -S: the holes of a sparse
 * file, and any run of zeros in it of a piece or more; a file that occupies all its length
 * (zeros written out, or space reserved with fallocate, as databases and VM images do to
 * be sure of it) is copied whole, zeros and all.
 *
 * Linux only: macOS (APFS) and Windows (NTFS) make holes only through calls of their own
 * (F_PUNCHHOLE, FSCTL_SET_SPARSE), so there every file is written in full as before. On
 * a destination file system without holes (FAT, exFAT) the skipped pieces read back as
 * zeros, as the kernel fills them. An interruption leaves what the writer's caller leaves
 * of its temporary file, which is removed as before: this module holds nothing open.
 */

/** st_blocks (and statx's stx_blocks) count 512-byte units, whatever the file system's own. */
const BLOCK_UNIT_BYTES = 512;

/**
 * The piece looked at for zeros: 4 KiB, the block of ext4, XFS and btrfs (and the page
 * size), the smallest hole they make. A shorter run of zeros could not become a hole, and
 * pieces are aligned to the file's offsets, as the file system's blocks are.
 */
export const HOLE_BYTES = 4096;

/** Where holes are made: Linux, whose file systems make one where a write skips ahead. */
const MAKES_HOLES = Deno.build.os === "linux";

/** What a stat gives of a file's length and of the space it occupies. */
interface Allocation {
  size: number;
  /** 512-byte units the file occupies; absent where the system does not say (Windows). */
  blocks?: number;
}

/**
 * Whether a file occupies less space than its length (it has holes, or a file system that
 * compresses keeps it small), so its copy is written with holes: Linux only.
 */
export function hasHoles(s: Allocation): boolean {
  return MAKES_HOLES && s.blocks !== undefined && s.blocks * BLOCK_UNIT_BYTES < s.size;
}

/** Whether `bytes` are all zeros. */
export function isZero(bytes: Uint8Array): boolean {
  return zeroBetween(bytes, wordsOf(bytes), 0, bytes.length);
}

/** `bytes` seen as 32-bit words, where they are aligned for it (a typed array's must be). */
function wordsOf(bytes: Uint8Array): Int32Array | undefined {
  if (bytes.byteOffset % 4 !== 0) return undefined;
  return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2);
}

/** Whether `bytes[from, to)` are all zeros: through `words`, four at a time, where aligned. */
function zeroBetween(
  bytes: Uint8Array,
  words: Int32Array | undefined,
  from: number,
  to: number,
): boolean {
  let i = from;
  if (words && from % 4 === 0) {
    const last = to >> 2; // the words wholly inside [from, to)
    if (!zeroWords(words, from >> 2, last)) return false;
    i = Math.max(from, last * 4);
  }
  for (; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * Whether `words[from, to)` are all zero. Eight at a time, or-ed together: one branch per
 * 32 bytes, about 13 GB/s here against 8 GB/s for one per word (measured on 1 MiB blocks).
 */
function zeroWords(words: Int32Array, from: number, to: number): boolean {
  let i = from;
  for (const end = to - 7; i < end; i += 8) {
    if (
      (words[i] | words[i + 1] | words[i + 2] | words[i + 3] | words[i + 4] | words[i + 5] |
        words[i + 6] | words[i + 7]) !== 0
    ) return false;
  }
  for (; i < to; i++) if (words[i] !== 0) return false;
  return true;
}

/**
 * The parts of `chunk`, which starts at `offset` in the file, to write: `[start, end)`
 * pairs of indexes into it, flat and in order, the pieces between them all zeros. Pieces
 * are HOLE_BYTES long and aligned to the file's offsets (the first and last may be
 * shorter); adjacent pieces with data are one part.
 */
export function dataParts(chunk: Uint8Array, offset: number): number[] {
  const words = wordsOf(chunk);
  const parts: number[] = [];
  for (let start = 0; start < chunk.length;) {
    const end = Math.min(chunk.length, start + HOLE_BYTES - ((offset + start) % HOLE_BYTES));
    if (!zeroBetween(chunk, words, start, end)) {
      if (parts.length > 0 && parts[parts.length - 1] === start) parts[parts.length - 1] = end;
      else parts.push(start, end);
    }
    start = end;
  }
  return parts;
}

/** Writes a copy's bytes in order, leaving holes where they are zeros. */
interface HoleWriter {
  /** Writes the next bytes of the copy. */
  write(chunk: Uint8Array): void;
  /** Gives the copy its full length once every byte was given (after a hole, too). */
  end(): void;
}

/** A hole writer for `file`, newly made and empty, open to write at its start. */
export function holeWriter(file: Deno.FsFile): HoleWriter {
  let offset = 0; // the file offset of the next chunk
  let position = 0; // the file's own position: the end of the last bytes written
  return {
    write(chunk) {
      const parts = dataParts(chunk, offset);
      for (let i = 0; i < parts.length; i += 2) {
        const at = offset + parts[i];
        if (position !== at) file.seekSync(at, Deno.SeekMode.Start);
        writeAll(file, chunk.subarray(parts[i], parts[i + 1]));
        position = offset + parts[i + 1];
      }
      offset += chunk.length;
    },
    end() {
      if (position !== offset) file.truncateSync(offset);
    },
  };
}

/** Writes all of `chunk` at the file's position (a write may take only part of it). */
export function writeAll(f: Deno.FsFile, chunk: Uint8Array): void {
  for (let off = 0; off < chunk.length;) off += f.writeSync(chunk.subarray(off));
}

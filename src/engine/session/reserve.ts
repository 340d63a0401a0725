/**
 * Room kept for the state on the backup disk: `.backup-tool/reserve`, RESERVE_BYTES of
 * written (not sparse) blocks, made once and kept. Its bytes are random, so that a file
 * system that compresses (btrfs, ZFS) or a copy of the backup root that makes holes of
 * zeros (`rsync -S`, `cp --sparse=always`) keeps them whole; one found holding fewer
 * blocks than its length (such a copy of an older reserve, of zeros) is written again,
 * once a process (`writtenShort`: a file system that counts fewer blocks than were
 * written). A backup disk fills up with copies; SQLite then cannot write even the journal
 * entry of the batch at hand, and a run would store nothing at all. When the state store finds the disk full, it gives the reserve up
 * (removes it) and tries again: the batches at hand are journaled and committed, and the
 * run then stops as "the backup disk is full", having stored what fitted. A later run
 * makes the reserve again once the disk has room for it, and so does a watch before each
 * pass where it is missing or short (`Session.renewReserve`): used by a pass that failed,
 * or never made, the session having started on a disk without room for it. The disk's
 * free space is looked at first (statfs), so a disk without room is not filled to its
 * last byte only to remove the attempt again; node:fs, which asks it, is loaded only then
 * (it brings Deno's Node layer, some 10-20 ms of every run's start otherwise). An
 * interruption leaves at most a partial reserve, which the next session completes or, with
 * no room, removes. SQLite's bare failures are told apart by a probe file (`diskFullAt`):
 * one an append-only state folder keeps is removed by the next session that can.
 */
import { join } from "node:path";
import { RESERVE_FILE } from "../../core/layout.ts";
import { lstatOrNone, removeQuietly } from "../fs/fsops.ts";
import { NotOwnFileError, openOwnFile } from "../fs/own_file.ts";
import { errorText, flagWords, isDiskFull } from "../errors.ts";
import { GIVES_OWNERS } from "../fs/owner.ts";

/**
 * 8 MiB: the journal entries and the commit of the up to four batches a run commits
 * together (2,048 actions: a few MiB of SQLite pages), with room to spare.
 */
export const RESERVE_BYTES = 8 << 20;
/** Written in 1 MiB pieces, from one buffer of random bytes (made when first needed). */
const PIECE_BYTES = 1 << 20;
let piece: Uint8Array | undefined;

/** The random piece the reserve is written with: bytes no compression or hole shrinks. */
function randomPiece(): Uint8Array {
  if (piece) return piece;
  piece = new Uint8Array(PIECE_BYTES);
  // getRandomValues fills at most 65,536 bytes a call.
  for (let at = 0; at < PIECE_BYTES; at += 65_536) {
    crypto.getRandomValues(piece.subarray(at, at + 65_536));
  }
  return piece;
}

/** Reserves this process wrote whole whose file system still counts fewer blocks. */
const writtenShort = new Set<string>();

/**
 * The bytes of the reserve the disk really holds: its length, or less where the file
 * system says it occupies fewer blocks (holes: a sparse copy; or zeros compressed away).
 * Where the system gives no block count (Windows), its length.
 */
function heldBytes(info: Deno.FileInfo): number {
  if (info.blocks === null || info.blocks === undefined) return info.size;
  return Math.min(info.size, info.blocks * 512);
}

/**
 * Makes sure the reserve is there in full; without room for it, goes on without one (a
 * partial one removed). Returns whether it is there in full. `freeAt` tells the bytes the
 * disk has free for this process (`freeBytesAt`): where it says they are too few, nothing
 * is written.
 */
export async function keepReserve(
  stateDir: string,
  freeAt: (dir: string) => Promise<number | undefined> = freeBytesAt,
): Promise<boolean> {
  const path = join(stateDir, RESERVE_FILE);
  const now = lstatOrNone(path);
  const whole = (info: Deno.FileInfo) => heldBytes(info) >= RESERVE_BYTES || writtenShort.has(path);
  if (now?.isFile && now.size === RESERVE_BYTES && whole(now)) return true;
  if (now && !now.isFile) return false; // not ours (state_folder.ts refuses it before this)
  const missing = RESERVE_BYTES - (now?.isFile ? heldBytes(now) : 0);
  const free = await freeAt(stateDir);
  if (free !== undefined && free < missing) {
    removeQuietly(path); // no room, as a write would find
    return false;
  }
  try {
    // Never written through a symlink, a FIFO or a hard link put there (own_file.ts).
    using f = openOwnFile(path);
    const bytes = randomPiece();
    for (let written = 0; written < RESERVE_BYTES;) {
      written += f.writeSync(bytes.subarray(0, Math.min(bytes.length, RESERVE_BYTES - written)));
    }
    // A longer one, cut to size; only then: fusefat refuses a cut to the file's own length
    // (EPERM), and the reserve removed after that left its state unreadable (EPERM) there.
    if (f.statSync().size > RESERVE_BYTES) f.truncateSync(RESERVE_BYTES);
    f.syncSync();
    // A file system that counts fewer blocks than were written (some FUSE ones): taken as
    // whole from now on, rather than written again before each of a watch's passes.
    if (heldBytes(f.statSync()) < RESERVE_BYTES) writtenShort.add(path);
    return true;
  } catch (e) {
    if (e instanceof NotOwnFileError) return false; // not ours: left as it is
    removeQuietly(path); // no room: the disk is nearly full already
    return false;
  }
}

/**
 * The bytes the disk holding `dir` has free for this process (root may use the blocks
 * kept for it too, as ext4's 5%), or undefined where the system does not say.
 */
export async function freeBytesAt(dir: string): Promise<number | undefined> {
  try {
    const { statfsSync } = await import("node:fs");
    const disk = statfsSync(dir);
    const blocks = GIVES_OWNERS ? disk.bfree : disk.bavail;
    // Counted in fragments (f_frsize), which Deno gives beside Node's fields: the block
    // size on every common file system.
    const unit = (disk as { frsize?: number }).frsize || disk.bsize;
    return blocks * unit;
  } catch {
    return undefined;
  }
}

/** Gives the reserve up; true when there was one (so room was freed). */
export function releaseReserve(stateDir: string): boolean {
  const path = join(stateDir, RESERVE_FILE);
  try {
    Deno.removeSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a failure's text `message` means the disk holding `dir` is full: the words of
 * the system or SQLite, or SQLite's "unable to open database file" (all it says when it
 * cannot make its journal) or "disk I/O error" (all it says when it cannot grow the WAL's
 * index, the -shm file) where the disk refuses a new file or PROBE_BYTES in it, for want
 * of inodes or blocks.
 */
export function diskFullAt(message: string, dir: string): boolean {
  return isDiskFull(message) ||
    (/unable to open database file|disk I\/O error/i.test(message) && noRoomAt(dir));
}

/** What the probe writes: the -shm file's first 32 KiB with room to spare. */
const PROBE_BYTES = 64 << 10;

/** The probe's names: `room-<uuid>.probe`. */
const PROBE_NAME = /^room-[0-9a-f-]{36}\.probe$/;

/**
 * The folders a probe found refusing a step for a flag (EPERM: immutable, which takes no
 * new file, or append-only, which lets none be removed, as SQLite's journal then is not).
 */
const flagged = new Set<string>();

/**
 * Whether a probe of `noRoomAt` found `dir` immutable or append-only: what SQLite's bare
 * "disk I/O error" or "unable to open database file" meant there.
 */
export function flaggedAt(dir: string): boolean {
  return flagged.has(dir);
}

/**
 * Whether the disk holding `dir` refuses a new file of PROBE_BYTES: one is made to see. An
 * append-only folder keeps it (removed by the next session that may: `removeStrayProbes`).
 */
function noRoomAt(dir: string): boolean {
  const probe = join(dir, `room-${crypto.randomUUID()}.probe`);
  try {
    Deno.writeFileSync(probe, new Uint8Array(PROBE_BYTES), { createNew: true });
    Deno.removeSync(probe);
    return false;
  } catch (e) {
    if (/\(os error 1\)/.test(errorText(e)) && Deno.build.os !== "windows") flagged.add(dir);
    removeQuietly(probe);
    return isDiskFull(errorText(e));
  }
}

/**
 * A session's start stopped by a state folder immutable or append-only (SQLite says only
 * "disk I/O error", its journal not removed, or "unable to open database file").
 */
export function stateFolderFlagged(dir: string, e: unknown, command: string): Error {
  const { look, off } = flagWords();
  const again = command === "watch" ? "start the watch again" : `${command} again`;
  return new Error(
    `Cannot write the backup state in '${dir}' (${errorText(e)}): the folder is immutable ` +
      `or append-only (${look}): take the flag off with ${off}, then ${again}; nothing was ` +
      "changed",
  );
}

/** Removes the probes a session could not (its state folder was append-only then). */
export function removeStrayProbes(stateDir: string): void {
  try {
    for (const e of Deno.readDirSync(stateDir)) {
      if (e.isFile && PROBE_NAME.test(e.name)) removeQuietly(join(stateDir, e.name));
    }
  } catch { /* looked at again by the next session */ }
}

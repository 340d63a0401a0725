/**
 * A restore's destination disk found full: the first write it refuses for want of room
 * (ENOSPC, or EDQUOT: a quota; of a file's bytes, a folder made for it, a link or a flush)
 * marks that file system, and no later file bound for it is written: each is looked at
 * only (one there with its content is up to date, one with other content a conflict: that
 * needs no room), else given back as not tried (`fullDisk.skipped`, write.ts's `notTried`),
 * counted in the summary, not named a line each, where a million files left would each
 * meet the same error. The restore stops at the first
 * refusal, though a smaller file might still fit (tmpfs takes one after a larger one
 * failed): what is restored is then the files before it in the restore's order, and the
 * same restore run again, once there is room, goes on from there. Files bound for another
 * disk (an in-place restore of sources on several) are still restored. A folder's disk is
 * its device, or that of the nearest folder above it that exists (where a folder not made
 * yet would be made); where none is told (no device number, or 0: on Windows a volume's
 * serial number, which some file systems leave 0), the restore's folder stands for it.
 * Which failure is the disk's want of room is told by the error itself
 * (`noRoom`: its code, ENOSPC or EDQUOT), where it happened, never by a result's text, which
 * names paths: a file called 'No space left on device.txt' that meets another failure is
 * no full disk. Writes nothing; an interruption leaves nothing of its own.
 */
import { dirname } from "node:path";
import { isDiskFull } from "../engine/errors.ts";
import type { FullDisk, RestoreItem, RestoreResult } from "./restore_item.ts";

/** Folders whose disk is remembered once one is full (about 100 bytes each). */
const FOLDERS_LIMIT = 16384;

export class FullDisks {
  /** The disks found full (a device, or the restore's folder where none could be read). */
  readonly #full = new Map<string, FullDisk>();
  readonly #disks = new Map<string, string>();

  /** `stat`: how a folder's device is read (a test's stand-in for a platform's). */
  constructor(private readonly stat: (path: string) => Deno.FileInfo = Deno.statSync) {}

  /**
   * A result as it comes: a write refused for want of room marks its disk full, and the
   * result is marked so (`fullDisk`).
   */
  seen(r: RestoreResult): RestoreResult {
    if (r.fullDisk !== undefined || r.outcome !== "failed" || !r.noRoom) return r;
    const disk = this.#diskOf(dirname(r.dest), r.base);
    // Said of the disk's first refusal: a later one (a batch placed meanwhile) is of it too.
    let full = this.#full.get(disk);
    if (full === undefined) {
      this.#full.set(disk, full = { at: r.base, error: r.reason ?? "", skipped: false });
    }
    return { ...r, fullDisk: full };
  }

  /** The result of an item bound for a disk found full, which is not tried; else undefined. */
  skipped(item: RestoreItem): RestoreResult | undefined {
    if (this.#full.size === 0) return undefined;
    const full = this.#full.get(this.#diskOf(dirname(item.dest), item.base));
    if (full === undefined) return undefined;
    const reason = `not tried: its disk was found full restoring to '${full.at}' (${full.error})`;
    return { ...item, outcome: "failed", reason, fullDisk: { ...full, skipped: true } };
  }

  /** The disk `folder` is on (or would be made on), as a key. */
  #diskOf(folder: string, base: string): string {
    let disk = this.#disks.get(folder);
    if (disk !== undefined) return disk;
    disk = `base:${base}`;
    for (let d = folder;; d = dirname(d)) {
      try {
        const dev = this.stat(d).dev;
        // 0: no device told (Windows gives a volume's serial number, which a file system
        // may leave 0): keyed by the restore's folder, not one disk for all such.
        if (dev) disk = `dev:${dev}`;
        break;
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound) || dirname(d) === d) break;
      }
    }
    if (this.#disks.size >= FOLDERS_LIMIT) this.#disks.clear();
    this.#disks.set(folder, disk);
    return disk;
  }
}

/**
 * Whether a write failed for want of room on its disk (ENOSPC, or EDQUOT: a quota), read
 * from the error or what it was caused by (a folder not made, a flush said again with its
 * remedy): its code, or, an error without one, the system's words before the first quoted
 * path, never a path's own words. Deno names ENOSPC on every system (on Windows for
 * ERROR_DISK_FULL 112 and ERROR_HANDLE_DISK_FULL 39 too) but no EDQUOT (Linux 122, macOS
 * 69: "Disc quota exceeded"), which its words tell; node:fs names both.
 */
export function noRoom(e: unknown): boolean {
  for (let x = e, n = 0; x instanceof Error && n < 4; x = x.cause, n++) {
    const code = (x as { code?: unknown }).code;
    if (code === "ENOSPC" || code === "EDQUOT") return true;
    if (typeof code !== "string" && isDiskFull(x.message.split("'")[0])) return true;
  }
  return false;
}

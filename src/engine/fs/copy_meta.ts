/**
 * A copy's metadata, given from its source's (or, restoring, from what the state recorded):
 * the owner (owner.ts), the permission bits, the modification time and, where asked, exactly
 * the extended attributes recorded (xattrs.ts). Whether a file made with a mode gets it all
 * (`keepsMode`) is told from the umask, read once at start, so that a copy needs no chmod
 * where it does. Each is set on a file already made, in place: an interruption leaves a
 * copy with part of them, a temporary one the next run removes, or one restore writes again.
 */
import { notImplementedHere } from "./portability.ts";
import { needsOwner, type OwnedMeta, ownFile } from "./owner.ts";
import { applyXattrs, XATTRS_KEPT, type XattrTarget } from "./xattrs.ts";

/**
 * The process's umask where Linux shows it (/proc/self/status, read once: asking Deno for
 * it sets it to 0 for a moment, which a file created meanwhile by another thread would
 * get); undefined elsewhere.
 */
const UMASK = (() => {
  if (Deno.build.os !== "linux") return undefined;
  try {
    const line = Deno.readTextFileSync("/proc/self/status").match(/^Umask:\s*([0-7]+)$/m);
    return line ? parseInt(line[1], 8) : undefined;
  } catch {
    return undefined;
  }
})();

/** Whether a file created with these permission bits gets them all (none special or masked). */
export function keepsMode(mode: number): boolean {
  return UMASK !== undefined && (mode & 0o7000) === 0 && (mode & UMASK & 0o777) === 0;
}

/** The permission bits a file just made gets, after its owner where one is given. */
export function ownedMode(path: string, meta: OwnedMeta): number {
  return needsOwner(meta) ? ownFile(path, meta) : meta.mode & 0o7777;
}

/**
 * Gives a copy its source's owner (see owner.ts), permission bits and modification time,
 * and, where `xattrs` says how to reach it (`at`) and what permission bits it has now
 * (`mode`: its caller's look at it), exactly the extended attributes recorded (`e.xattrs`:
 * none where absent); a disk that keeps none is passed over.
 */
export function applyMeta(
  path: string,
  e: OwnedMeta & { mtimeMs: number; xattrs?: string | Uint8Array },
  xattrs?: { at: XattrTarget; mode: number },
): void {
  if (Deno.build.os !== "windows") {
    try {
      const mode = ownedMode(path, e);
      if (xattrs && XATTRS_KEPT) {
        // A user.* attribute is set or removed only with write permission on the file: a
        // read-only copy is made writable to its owner first (a run as the copy's owner,
        // not root, left a read-only file's copy with its old ones, and said nothing). At
        // best: where that is refused, so are the attributes, and the chmod below says why.
        if ((xattrs.mode & 0o200) === 0) tryChmod(path, 0o600);
        applyXattrs(xattrs.at, e.xattrs, true); // after the chown, as above
      }
      Deno.chmodSync(path, mode);
    } catch (err) {
      // A file system without permission bits (FAT or exFAT through FUSE) keeps none.
      if (!notImplementedHere(err)) throw err;
    }
  }
  Deno.utimeSync(path, new Date(e.mtimeMs), new Date(e.mtimeMs));
}

function tryChmod(path: string, mode: number): void {
  try {
    Deno.chmodSync(path, mode);
  } catch {
    // as the caller says
  }
}

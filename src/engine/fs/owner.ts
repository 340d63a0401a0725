/**
 * Owners, and the permission bits that depend on them. A stored copy and a restored file
 * are created by this process, so they start as its user's. Run as root, they are given
 * the recorded owner and group, as `rsync -a`, restic and tar do: a restored home folder
 * is its user's again. Otherwise they stay the process's user's, which is all a user can
 * do, but a file recorded as the process's user's own is given its recorded group where
 * the user belongs to it (as `cp -p` does): the system refuses any other, and the file
 * keeps the group it was made with.
 *
 * The set-user-ID and set-group-ID bits are given only to a file whose owner (group) is
 * the recorded one: a user's set-user-ID program copied by root, which keeps the bit but
 * not the owner, would run as root for anyone who can reach it (`cp -p` and tar clear the
 * bits for the same reason). A copy recorded before owners were (schema 3, 2026-12-02)
 * has neither bit back. Symlinks are not given one here: a restore gives a symlink its
 * owner through lchown (symlink_meta.ts); a stored copy keeps the process's. On Windows
 * nothing here applies. Each call is one chown (and a stat where a special bit is
 * asked for) on a file this process just made, which an interruption leaves as the
 * callers' own temporary file, for them to remove; or on a stored copy reached through its
 * open descriptor (copy_in_place.ts), which the next run gives its owner again.
 */
import { notImplementedHere } from "./portability.ts";

/** The recorded metadata a file's owner and mode are made from. */
export interface OwnedMeta {
  mode: number;
  uid?: number;
  gid?: number;
}

interface Owner {
  uid: number;
  gid: number;
}

/** This process's user and group; undefined on Windows, or where they may not be asked. */
const PROCESS: Owner | undefined = (() => {
  if (Deno.build.os === "windows") return undefined;
  try {
    return { uid: Deno.uid()!, gid: Deno.gid()! };
  } catch {
    return undefined; // a binary built without --allow-sys=uid,gid: keeps no special bit
  }
})();

/** Whether files this process makes can be given their recorded owner (it runs as root). */
export const GIVES_OWNERS = PROCESS?.uid === 0;

const SET_ID_BITS = 0o6000;

/**
 * Whether a file just made needs `ownFile` at all: it must change owner, or a special bit
 * depends on who owns it. False for most files, which then skip the extra calls.
 */
export function needsOwner(meta: OwnedMeta): boolean {
  if ((meta.mode & SET_ID_BITS) !== 0) return Deno.build.os !== "windows";
  if (PROCESS === undefined) return false;
  if (mayTakeGroup(meta)) return true;
  return GIVES_OWNERS && meta.uid !== undefined && meta.gid !== undefined &&
    (meta.uid !== PROCESS.uid || meta.gid !== PROCESS.gid);
}

/**
 * Whether this process, not root, may try to give a file the recorded group: the file was
 * its user's own, in another group than the user's primary one.
 */
function mayTakeGroup(meta: OwnedMeta): boolean {
  return !GIVES_OWNERS && PROCESS !== undefined && meta.uid === PROCESS.uid &&
    meta.gid !== undefined && meta.gid !== PROCESS.gid;
}

/** How a file's owner is changed and read: by its path, or through an open descriptor. */
interface OwnerAccess {
  chown(uid: number, gid: number): void;
  owner(): Owner;
}

/**
 * Gives `path`, a file this process just made (or one reached through its open descriptor's
 * /proc path), its recorded owner where it can, and
 * returns the permission bits it may then have (see `ownThrough`).
 */
export function ownFile(path: string, meta: OwnedMeta): number {
  return ownThrough({
    chown: (uid, gid) => Deno.chownSync(path, uid, gid),
    owner: () => {
      const info = Deno.statSync(path); // followed: `path` may be a /proc/self/fd one
      return { uid: info.uid ?? -1, gid: info.gid ?? -1 };
    },
  }, meta);
}

/**
 * Gives a file its recorded owner where it can, and returns the permission bits it may
 * then have: the recorded ones, less a set-ID bit whose owner or group is not the
 * recorded one. A file system without owners (FAT through FUSE) refuses the chown: the
 * file stays the process's.
 */
export function ownThrough(file: OwnerAccess, meta: OwnedMeta): number {
  const mode = meta.mode & 0o7777;
  if (PROCESS === undefined) return mode & ~SET_ID_BITS;
  const gives = GIVES_OWNERS && meta.uid !== undefined && meta.gid !== undefined &&
    (meta.uid !== PROCESS.uid || meta.gid !== PROCESS.gid);
  if (gives || mayTakeGroup(meta)) {
    try {
      file.chown(meta.uid!, meta.gid!);
    } catch (e) {
      if (!notImplementedHere(e) && !isRefused(e)) throw e;
    }
  }
  if ((mode & SET_ID_BITS) === 0) return mode;
  // Who owns it now, really: a folder with its own set-group-ID bit gives its group.
  return permittedMode(mode, meta, file.owner());
}

/** A chown the file system or the system refuses (Deno's error, or node:fs's code). */
function isRefused(e: unknown): boolean {
  const code = (e as { code?: string })?.code;
  return e instanceof Deno.errors.PermissionDenied || code === "EPERM" || code === "ENOTSUP" ||
    code === "EOPNOTSUPP" || code === "ENOSYS";
}

/** The recorded bits less a set-ID bit whose owner (group) is not the recorded one. */
export function permittedMode(mode: number, meta: OwnedMeta, owner: Owner): number {
  let m = mode & 0o7777;
  if (meta.uid === undefined || meta.uid !== owner.uid) m &= ~0o4000;
  if (meta.gid === undefined || meta.gid !== owner.gid) m &= ~0o2000;
  return m;
}

/** Whether an existing file has the owner a restore would give it (always, unless root). */
export function hasRecordedOwner(info: Deno.FileInfo, meta: OwnedMeta): boolean {
  if (!GIVES_OWNERS || meta.uid === undefined || meta.gid === undefined) return true;
  return info.uid === meta.uid && info.gid === meta.gid;
}

/**
 * What to do where this process may not enter or write a backup root that another user
 * owns: a backup made by root (`0700`), or by the same person on another computer, where
 * they had another uid (the disk keeps numbers, not names). Undefined where the root is
 * this user's, not a folder, or where owners cannot be asked.
 */
export function notOwnRootRemedy(root: string): string | undefined {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(root);
  } catch {
    return undefined;
  }
  if (!PROCESS || !info.isDirectory || info.uid === null || info.uid === PROCESS.uid) {
    return undefined;
  }
  const mode = ((info.mode ?? 0) & 0o7777).toString(8).padStart(4, "0");
  return `it is uid ${info.uid}'s (mode ${mode}), not this user's (uid ${PROCESS.uid}): ` +
    "run as a user who can write it (its owner, or root through sudo); where it is your own " +
    "backup from another computer, where you had another uid, make it yours: " +
    `sudo chown -R ${PROCESS.uid}:${PROCESS.gid} '${root}'`;
}

/**
 * `notOwnRootRemedy` where the failure `e` is this user being denied (EACCES, EPERM); none
 * for any other (a disk mounted read-only, or full): no owner or chown would help, and root,
 * which owners do not stop, is never told to chown the root to itself for it.
 */
export function deniedRootRemedy(root: string, e: unknown): string | undefined {
  return e instanceof Deno.errors.PermissionDenied ? notOwnRootRemedy(root) : undefined;
}

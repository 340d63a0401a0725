/**
 * What a run changes of a stored copy where it stands: its owner, permission bits,
 * modification time and extended attributes set again (after only they changed in the
 * source: a chmod, a chown, a touch, a setfattr), and its removal by retention. A run does
 * these by root's hand in the backup root, so whoever can write the backup root (a user's own USB disk) must not be able to
 * lead them elsewhere by swapping a folder on the copy's way for a symlink: a chown and
 * chmod of a file named like the user's own copy (`/etc/shadow`, say) to the user's owner
 * and bits would hand them the system, and a removal would delete it. Moves and links
 * cannot leave the backup root's file system, so they can only be led to its other files.
 *
 * On Linux the copy (or, to remove it, its folder) is opened without following a symlink
 * or waiting on a FIFO, checked to stand at its own path below the backup root's real path
 * (the kernel's name for the open file, read from /proc/self/fd), and reached through
 * that descriptor's /proc path, which leads to the open file whatever becomes of its path
 * since. Elsewhere (no /proc: macOS, Windows), and where this user may not open the copy
 * (a run as the copy's owner, not root), by path, after `storedEntry` checked the folders on
 * the way: a narrower race, not none. An interruption leaves some of the four set, which
 * the next run sets again (the state records them once the batch commits), or the copy
 * removed, which that run takes as done.
 */
import { applyMeta } from "./fs/copy_meta.ts";
import { nativePath } from "./fs/fsops.ts";
import { parentOf } from "../core/layout.ts";
import { hasOpenPaths, openPath } from "./fs/identity.ts";
import { errorText } from "./errors.ts";
import { openSource, type SourceFile } from "./fs/source_file.ts";
import type { OwnedMeta } from "./fs/owner.ts";

/**
 * Gives the stored copy at `storage` below `root`, seen as `seen` by `storedEntry`, the
 * recorded owner, bits and time of `meta`. Throws where it is no longer that file at that
 * path.
 */
export function updateCopyMeta(
  root: string,
  storage: string,
  seen: Deno.FileInfo,
  meta: OwnedMeta & { mtimeMs: number; xattrs?: string | Uint8Array },
): void {
  const path = nativePath(root, storage);
  using copy = hasOpenPaths() ? openAt(path, "update", storage) : undefined;
  const through = copy?.fd === undefined ? undefined : openPath(copy.fd);
  if (through === undefined) {
    return applyMeta(path, meta, { at: { path }, mode: seen.mode ?? 0 });
  }
  const now = copy!.stat();
  const same = now.kind === "file" && (!seen.ino || (now.ino === seen.ino && now.dev === seen.dev));
  if (!same || !standsAt(root, storage, through)) throw replaced("update", storage);
  try {
    applyMeta(through, meta, { at: { fd: copy!.fd! }, mode: now.mode ?? 0 });
  } catch (e) {
    throw namedByPath(e, through, path);
  }
}

/**
 * Removes the stored copy (a file or a symlink) at `storage` below `root`, through its
 * folder. Throws where that folder is no longer the one at its path.
 */
export function removeCopy(root: string, storage: string): void {
  const path = nativePath(root, storage);
  const parent = parentOf(storage);
  using folder = parent !== "" && hasOpenPaths()
    ? openAt(nativePath(root, parent), "remove", storage)
    : undefined;
  const through = folder?.fd === undefined ? undefined : openPath(folder.fd);
  if (through === undefined) return Deno.removeSync(path);
  if (folder!.stat().kind !== "dir" || !standsAt(root, parent, through)) {
    throw replaced("remove", storage);
  }
  try {
    Deno.removeSync(`${through}/${storage.slice(parent.length + 1)}`);
  } catch (e) {
    throw namedByPath(e, through, nativePath(root, parent));
  }
}

/**
 * `e`, a step's through the descriptor's /proc path `through`, said of `path`, the copy's
 * (or its folder's) own: what the user can look at, and what the run's failures are told
 * apart by (a path below the backup root: pass.ts `fail`).
 */
function namedByPath(e: unknown, through: string, path: string): Error {
  const text = errorText(e).replace(
    new RegExp(`'${RegExp.escape(through)}(?=[/'])`, "g"),
    `'${path}`,
  );
  // Of the same class (Deno.errors.Busy, NotFound, ...), which callers tell refusals apart by.
  const named = e instanceof Error
    ? new (e.constructor as ErrorConstructor)(text)
    : new Error(text);
  return Object.assign(named, { code: (e as { code?: string }).code });
}

/**
 * `path` opened (not followed, not waited on); a symlink at its end: `replaced`. Undefined
 * where this user may not read it (a copy without read permission, run as its owner, not
 * root): it is changed by path then, as a user's run can lead nothing but to its own files.
 */
function openAt(path: string, what: Doing, storage: string): SourceFile | undefined {
  try {
    return openSource(path);
  } catch (e) {
    if (e instanceof Deno.errors.FilesystemLoop) throw replaced(what, storage);
    if (e instanceof Deno.errors.PermissionDenied) return undefined;
    throw new Error(`Cannot ${what} the stored copy '${storage}': ${errorText(e)}`);
  }
}

/** Whether what `through` (a /proc/self/fd path) has open is at `storage` below `root`. */
function standsAt(root: string, storage: string, through: string): boolean {
  return Deno.readLinkSync(through) === nativePath(realRoot(root), storage);
}

type Doing = "update" | "remove";

function replaced(what: Doing, storage: string): Error {
  return new Error(
    `Cannot ${what} the stored copy '${storage}': it, or a folder on its way, was replaced ` +
      "while the run went on (a symlink or another file): make sure only the backup's owner " +
      "can write the backup root, then run again",
  );
}

/** The backup root's real path, resolved once per root for the process's life. */
function realRoot(root: string): string {
  let real = realRoots.get(root);
  if (real === undefined) realRoots.set(root, real = Deno.realPathSync(root));
  return real;
}

const realRoots = new Map<string, string>();

/**
 * Which folder each source path names, looked at again every ROOT_CHECK_MS. A disk
 * unmounted from a source's mount point, or mounted on it, changes the folder behind the
 * path, and `Deno.watchFs` reports nothing of it (checked on Linux with tmpfs): the
 * watcher would go on following a folder no longer there, and changes on the disk would
 * go unseen until the next periodic rescan. When a source's folder changes (another device
 * or inode, or gone), `onChange` is called, and the session reopens its watcher and
 * rescans. One stat per source per check; memory only, an interruption leaves nothing.
 */
import { folderIdentity, folderIdentityOf, NO_FOLDER } from "../engine/fs/identity.ts";

/**
 * Half a minute: a disk mounted again is followed within about that, for one stat per
 * source, which costs nothing measurable when idle.
 */
export const ROOT_CHECK_MS = 30_000;

export interface RootCheck {
  /** Stops the timer and waits for a check in progress. */
  close(): Promise<void>;
}

/** Starts checking `roots`; `close()` stops the timer. */
export function checkRoots(
  roots: string[],
  onChange: (root: string) => void,
  everyMs = ROOT_CHECK_MS,
): RootCheck {
  const seen = new Map(roots.map((r) => [r, folderIdentity(r)]));
  let closed = false;
  // Stat'ed asynchronously, one check at a time: a source on a network share whose server
  // hangs must not stall the session's events and signals with it (only `close`, at the
  // end of the session, waits for a check in progress).
  let checking: Promise<void> | undefined;
  const check = async () => {
    for (const [root, before] of seen) {
      const now = await identity(root);
      if (closed) return;
      if (now === before) continue;
      seen.set(root, now);
      onChange(root);
    }
  };
  const timer = setInterval(() => {
    checking ??= check().finally(() => checking = undefined);
  }, everyMs);
  return {
    close: async () => {
      closed = true;
      clearInterval(timer);
      await checking;
    },
  };
}

/** `folderIdentity`, stat'ed asynchronously (see `checkRoots`). */
async function identity(path: string): Promise<string> {
  try {
    return folderIdentityOf(await Deno.stat(path));
  } catch {
    return NO_FOLDER.missing;
  }
}

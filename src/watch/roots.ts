/**
 * Which folder each source path names, looked at again every ROOT_CHECK_MS. A disk
 * unmounted from a source's mount point, or mounted on it, changes the folder behind the
 * path, and `Deno.watchFs` reports nothing of it (checked on Linux with tmpfs): the
 * watcher would go on following a folder no longer there, and changes on the disk would
 * go unseen until the next periodic rescan. When a source's folder changes (another device
 * or inode, or gone), `onChange` is called, and the session reopens its watcher and
 * rescans. One stat per source per check; memory only, an interruption leaves nothing.
 */

/**
 * Half a minute: a disk mounted again is followed within about that, for one stat per
 * source, which costs nothing measurable when idle.
 */
export const ROOT_CHECK_MS = 30_000;

export interface RootCheck {
  close(): void;
}

/** Starts checking `roots`; `close()` stops the timer. */
export function checkRoots(
  roots: string[],
  onChange: (root: string) => void,
  everyMs = ROOT_CHECK_MS,
): RootCheck {
  const seen = new Map(roots.map((r) => [r, identity(r)]));
  const timer = setInterval(() => {
    for (const [root, before] of seen) {
      const now = identity(root);
      if (now === before) continue;
      seen.set(root, now);
      onChange(root);
    }
  }, everyMs);
  return { close: () => clearInterval(timer) };
}

/** The folder a path names now: its device and inode, or why there is none. */
function identity(path: string): string {
  try {
    const info = Deno.statSync(path);
    return info.isDirectory ? `${info.dev}:${info.ino}` : "not a folder";
  } catch {
    return "missing";
  }
}

/**
 * The inotify watch limit (Linux): a recursive watch needs one inotify watch per folder,
 * and the per-user limit in /proc/sys/fs/inotify/max_user_watches is shared by every
 * process of the user. When the sources hold more folders than that, changes in the
 * folders beyond it are never reported (only the periodic rescan sees them), so the user
 * is told how to raise the limit. Read-only: an interruption leaves nothing behind.
 */
import { join } from "node:path";
import type { Config } from "../config/config.ts";

export const WATCH_LIMIT_FILE = "/proc/sys/fs/inotify/max_user_watches";
/** How many events the kernel queues for an inotify instance before it drops the rest. */
export const QUEUE_LIMIT_FILE = "/proc/sys/fs/inotify/max_queued_events";
/**
 * The value suggested when raising it: the usual recommendation (and the kernel's own
 * maximum default since Linux 5.11); each watch costs about 1 KiB of kernel memory.
 */
const SUGGESTED_LIMIT = 524288;

/** The limit in force (or `QUEUE_LIMIT_FILE`'s), or undefined off Linux or unreadable. */
export function readWatchLimit(file = WATCH_LIMIT_FILE): number | undefined {
  if (Deno.build.os !== "linux") return undefined;
  try {
    const n = Number.parseInt(Deno.readTextFileSync(file).trim(), 10);
    return Number.isFinite(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Folders under `roots` (the roots included), not following symlinks, counting at most
 * to `stopAbove + 1`: beyond the limit the exact number does not matter.
 */
export async function countFolders(roots: string[], stopAbove: number): Promise<number> {
  let count = 0;
  const stack = [...roots];
  while (stack.length > 0 && count <= stopAbove) {
    const dir = stack.pop()!;
    count++;
    try {
      for await (const e of Deno.readDir(dir)) if (e.isDirectory) stack.push(join(dir, e.name));
    } catch { /* unreadable or gone: the pass reports it */ }
  }
  return count;
}

/** The warning to show when `folders` exceed `limit`, else undefined. */
export function watchLimitWarning(folders: number, limit: number): string | undefined {
  if (folders <= limit) return undefined;
  return `Raise the inotify watch limit: the sources hold more than ${limit} folders, the ` +
    `limit in '${WATCH_LIMIT_FILE}', so changes in some folders will only be seen by the ` +
    `periodic rescan: run 'sudo sysctl fs.inotify.max_user_watches=${SUGGESTED_LIMIT}' ` +
    `(and add 'fs.inotify.max_user_watches=${SUGGESTED_LIMIT}' to /etc/sysctl.conf to ` +
    `keep it after a reboot)`;
}

/** The warning to give when the sources hold more folders than inotify may watch. */
export async function checkWatchLimit(config: Config): Promise<string | undefined> {
  const limit = readWatchLimit();
  if (limit === undefined) return undefined;
  const folders = await countFolders(config.sources.map((s) => s.path), limit);
  return watchLimitWarning(folders, limit);
}

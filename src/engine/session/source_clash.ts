/**
 * Sources that are, by another path, the backup root, a folder inside it, or another
 * source: a bind mount on a source's mount point (the backup disk mounted there by
 * mistake), or, during a watch, a source folder replaced by a symlink to one of those. The
 * config's checks compare real paths, which a bind mount passes; these compare device and
 * inode. A run refuses to start on any (exit 2, nothing changed: see
 * `checkSourcesReadable`); a watch's walk leaves such a source unwalked, its files kept as
 * they are, and says why at each pass (see `scanEntries`). Stats only (one per source and
 * per folder above it); an interruption leaves nothing.
 *
 * Equal device and inode numbers alone do not make one folder: a CIFS share with
 * `serverino` or a FUSE file system passing numbers through may show two folders of
 * different server-side file systems with the same ones. So each finding is confirmed: the
 * backup root by its state folder (the same `.backup-tool` entry below both), two sources
 * by their times and the names they list. A folder inside one source that is another
 * source by a bind mount is not found: that would take an identity check of every folder
 * walked.
 */
import { dirname, join } from "node:path";
import type { Source } from "../../config/config.ts";
import { STATE_DIR } from "../../core/layout.ts";

const HOW = "by another path (a bind mount, or a symlink put in its place)";

/**
 * Per source name, why it must not be walked; empty when every source is apart. Where
 * two sources are one folder, both are named: which of them was swapped cannot be told.
 */
export function sourceClashes(
  sources: readonly Source[],
  backupRoot: string,
): Map<string, string> {
  const clashes = new Map<string, string>();
  const root = identityOf(backupRoot);
  const seen = new Map<string, Source>();
  for (const source of sources) {
    const id = identityOf(source.path);
    if (id === undefined) continue; // missing or unreadable: the walk says so
    const other = seen.get(id);
    if (root !== undefined && id === root && sameState(source.path, backupRoot)) {
      clashes.set(source.name, clash(source, `it is the backup root '${backupRoot}' ${HOW}`));
    } else if (root !== undefined && isBelow(source.path, root, backupRoot)) {
      clashes.set(
        source.name,
        clash(source, `it is inside the backup root '${backupRoot}' ${HOW}`),
      );
    } else if (other !== undefined && sameListing(other.path, source.path)) {
      const why = `it is the same folder as source '${other.path}' ${HOW}`;
      clashes.set(source.name, clash(source, why));
      clashes.set(
        other.name,
        clash(other, `it is the same folder as source '${source.path}' ${HOW}`),
      );
    }
    seen.set(id, source);
  }
  return clashes;
}

function clash(source: Source, why: string): string {
  return `Cannot back up source '${source.path}': ${why}: unmount it or correct the config`;
}

/**
 * Whether a folder above the one `path` leads to is the backup root (identity `id`, the
 * same state folder).
 */
function isBelow(path: string, id: string, backupRoot: string): boolean {
  let real: string;
  try {
    real = Deno.realPathSync(path);
  } catch {
    return false;
  }
  for (let dir = dirname(real);; dir = dirname(dir)) {
    if (identityOf(dir) === id && sameState(dir, backupRoot)) return true;
    if (dirname(dir) === dir) return false;
  }
}

/**
 * `dev:ino` of the folder at `path` (symlinks followed); undefined where none is known
 * (no number, or 0, which some file systems give every entry).
 */
function identityOf(path: string): string | undefined {
  try {
    const { dev, ino, isDirectory } = Deno.statSync(path);
    return isDirectory && ino && dev !== null ? `${dev}:${ino}` : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `folder` holds the backup root's own state folder (one entry, by identity). */
function sameState(folder: string, backupRoot: string): boolean {
  const state = identityOf(join(backupRoot, STATE_DIR));
  return state !== undefined && identityOf(join(folder, STATE_DIR)) === state;
}

/**
 * Whether two folders of one identity are one folder: the same modification and change
 * times, and the same names listed (read whole: this is asked only where the numbers agree).
 */
function sameListing(a: string, b: string): boolean {
  try {
    const [x, y] = [Deno.statSync(a), Deno.statSync(b)];
    if (x.mtime?.getTime() !== y.mtime?.getTime() || x.ctime?.getTime() !== y.ctime?.getTime()) {
      return false;
    }
    const names = (p: string) => [...Deno.readDirSync(p)].map((e) => e.name).sort().join("\0");
    return names(a) === names(b);
  } catch {
    return false;
  }
}

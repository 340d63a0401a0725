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
 * A folder inside one source that is another source by a bind mount is not found: that
 * would take an identity check of every folder walked.
 */
import { dirname } from "node:path";
import type { Source } from "../config/config.ts";

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
    if (root !== undefined && id === root) {
      clashes.set(source.name, clash(source, `it is the backup root '${backupRoot}' ${HOW}`));
    } else if (root !== undefined && isBelow(source.path, root)) {
      clashes.set(
        source.name,
        clash(source, `it is inside the backup root '${backupRoot}' ${HOW}`),
      );
    } else if (other !== undefined) {
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

/** Whether a folder above the one `path` leads to has the identity `id`. */
function isBelow(path: string, id: string): boolean {
  let real: string;
  try {
    real = Deno.realPathSync(path);
  } catch {
    return false;
  }
  for (let dir = dirname(real);; dir = dirname(dir)) {
    if (identityOf(dir) === id) return true;
    if (dirname(dir) === dir) return false;
  }
}

/** `dev:ino` of the folder at `path` (symlinks followed); undefined where none is known. */
function identityOf(path: string): string | undefined {
  try {
    const { dev, ino, isDirectory } = Deno.statSync(path);
    return isDirectory && ino !== null && dev !== null ? `${dev}:${ino}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The folders of the backup root whose entries actions change: the parents of every
 * storage path a copy is linked to, moved from or removed at, and every folder above them
 * up to the backup root (more than a move needs, unless its folder was made or removed
 * with it, which is not told apart: a flush of a folder whose entries are already on disk
 * costs next to nothing). move_flush.ts flushes them before the commit that records the
 * moves. Pure: storage paths in, storage paths out ("" is the backup root).
 */
import type { Action } from "./types.ts";

/** The storage paths an action links or moves a copy to (the batch makes their folders). */
export function pathsLinked(a: Action): string[] {
  switch (a.type) {
    case "backup":
      return [a.target];
    case "modified":
    case "duplicate":
      return a.archive ? [a.archive.to, a.target] : [a.target];
    case "delete":
    case "promote":
      return [a.to];
    case "prune":
    case "skip":
    case "exclude":
      return [];
  }
}

/**
 * The storage paths an action links, moves or removes a copy at: `pathsLinked`, and where
 * copies were moved from or removed. `done`: the action was carried out by this process,
 * which knows whether a refresh made a copy again; otherwise (an interrupted run's,
 * finished by recovery) whatever it may have done counts.
 */
export function pathsChanged(a: Action, done = true): string[] {
  switch (a.type) {
    case "modified":
    case "duplicate":
      return a.archive ? [...pathsLinked(a), a.archive.from] : pathsLinked(a);
    case "delete":
    case "promote":
      return [a.from, a.to];
    case "prune":
      return [a.storedAt];
    case "skip": {
      const r = a.refresh;
      if (r?.relocatedTo !== undefined) return [r.relocatedTo];
      // A copy's mode or time brought up to date changes no folder entry; one made again does.
      if (!r || r.recordOnly || (done && !r.recopied)) return [];
      return [r.storedAt];
    }
    case "backup":
    case "exclude":
      return pathsLinked(a);
  }
}

/** Every folder holding a changed path, and each folder above it up to the backup root. */
export function changedFolders(actions: Iterable<Action>, done = true): Set<string> {
  const folders = new Set<string>();
  for (const a of actions) {
    for (const path of pathsChanged(a, done)) {
      for (let end = path.lastIndexOf("/"); end > 0; end = path.lastIndexOf("/", end - 1)) {
        const folder = path.slice(0, end);
        if (folders.has(folder)) break; // and so are the folders above it
        folders.add(folder);
      }
      folders.add("");
    }
  }
  return folders;
}

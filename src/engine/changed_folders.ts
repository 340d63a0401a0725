/**
 * The folders of the backup root whose entries a batch's actions change: the parents of
 * every storage path a copy is linked to, moved from or removed at, and the folders above
 * them (a folder the batch made is a new entry in its own parent). The batch flushes them
 * before its commit (batch.ts, recover.ts), so that no commit records a move a power cut
 * can still undo. Pure: storage paths in, storage paths out ("" is the backup root).
 */
import type { Action } from "./types.ts";

/** The storage paths an action links, moves or removes a copy at. */
export function pathsChanged(a: Action): string[] {
  switch (a.type) {
    case "backup":
      return [a.target];
    case "modified":
    case "duplicate":
      return a.archive ? [a.target, a.archive.from, a.archive.to] : [a.target];
    case "delete":
    case "promote":
      return [a.from, a.to];
    case "prune":
      return [a.storedAt];
    case "skip": {
      const r = a.refresh;
      if (r?.relocatedTo !== undefined) return [r.relocatedTo];
      return r && !r.recordOnly ? [r.storedAt] : []; // a copy made again if it was missing
    }
    case "exclude":
      return [];
  }
}

/** Every folder holding a changed path, and each folder above it up to the backup root. */
export function changedFolders(actions: Iterable<Action>, into = new Set<string>()): Set<string> {
  for (const a of actions) {
    for (const path of pathsChanged(a)) {
      for (let end = path.lastIndexOf("/"); end > 0; end = path.lastIndexOf("/", end - 1)) {
        const folder = path.slice(0, end);
        if (into.has(folder)) break; // and so are the folders above it
        into.add(folder);
      }
      into.add("");
    }
  }
  return into;
}

/**
 * After a crash on a disk that ignores letter case or Unicode normal form (exFAT, FAT,
 * APFS and NTFS by default), a stored copy's old name may now lead to a copy the same batch
 * placed under another spelling: a folder renamed `d1` → `D1` in the source deletes
 * `d1/f1` and places `D1/f1`, and once both were done, `d1/f1` opens the new copy. Recovery
 * must then take the move as done instead of finding its target taken (and, in the run
 * after, archiving the new copy as the old content). Memory only.
 *
 * Told by name, not by inode: exfat-fuse gives each spelling of a name its own inode
 * number. A batch moves copies away before it places any, and the planner gives each move
 * a free target: with that target taken and another spelling of the old name placed, the
 * move was done.
 */
import { exists } from "./fsops.ts";
import type { Action } from "./types.ts";

/**
 * Whether a name (storage path) folds to the same as a name one of `actions` placed a
 * copy at, spelled otherwise, that is there now.
 */
export function placedUnderOtherSpelling(
  actions: readonly Action[],
  at: (storage: string) => string,
): (name: string) => boolean {
  const placed = new Map<string, string[]>();
  for (const a of actions) {
    for (const name of namesPlaced(a)) {
      const key = fold(name);
      placed.set(key, [...placed.get(key) ?? [], name]);
    }
  }
  return (name) =>
    (placed.get(fold(name)) ?? []).some((other) => other !== name && exists(at(other)));
}

/** The names an action puts a copy at. */
function namesPlaced(a: Action): string[] {
  switch (a.type) {
    case "backup":
      return [a.target];
    case "duplicate":
    case "modified":
      return a.archive ? [a.target, a.archive.to] : [a.target];
    case "delete":
    case "promote":
      return [a.to];
    default:
      return [];
  }
}

/** How a disk that ignores case and normal form compares names. */
function fold(name: string): string {
  return name.normalize("NFC").toLowerCase();
}

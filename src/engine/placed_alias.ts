/**
 * After a crash on a disk that ignores letter case or Unicode normal form (exFAT, FAT,
 * APFS and NTFS by default), a stored copy's old name may now lead to a copy the same batch
 * placed under another spelling: a folder renamed `d1` → `D1` in the source deletes
 * `d1/f1` and places `D1/f1`, and once both were done, `d1/f1` opens the new copy. Recovery
 * must then take the move as done instead of finding its target taken (and, in the run
 * after, archiving the new copy as the old content). Only on a disk that ignores case (the
 * state folder answers to its name in capitals), and told as the planner tells it
 * (`DiskProbe.sameEntry`: exfat-fuse gives each spelling its own inode number). The caller
 * also asks that the move's target be taken by a stored copy: the planner gives each move a
 * free target, and a batch moves copies away before it places any. Reads only.
 */
import { DiskProbe } from "./foreign.ts";
import { foldName } from "../core/layout.ts";
import type { Action } from "../core/types.ts";

/**
 * Whether a name (storage path) is, on the backup root's disk, another spelling of a name
 * one of `actions` placed a copy at; undefined where the disk does not ignore case.
 */
export function placedUnderOtherSpelling(
  root: string,
  actions: readonly Action[],
): ((name: string) => boolean) | undefined {
  // Asked by path only (lstat, a folder's listing): the probe opens nothing to close.
  const disk = new DiskProbe(root);
  if (!disk.ignoresCase()) return undefined;
  const placed = new Map<string, string[]>();
  for (const a of actions) {
    for (const name of namesPlaced(a)) {
      const key = foldName(name);
      placed.set(key, [...placed.get(key) ?? [], name]);
    }
  }
  return (name) =>
    (placed.get(foldName(name)) ?? []).some((other) =>
      other !== name && disk.sameEntry(name, other)
    );
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

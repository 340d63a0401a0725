/**
 * Retention, a pure rule: of the versions stored for one path (copies in versions/), keep
 * the `max` with the highest content numbers and prune the rest, oldest first. Only
 * versions are ever pruned; latest copies, duplicates and deleted files are never touched.
 */
import type { Action } from "./types.ts";

export interface StoredVersion {
  path: string;
  copyId: number;
  seq: number;
  storedAt: string;
}

export function planRetention(versions: StoredVersion[], max: number): Action[] {
  const byPath = new Map<string, StoredVersion[]>();
  for (const v of versions) {
    const list = byPath.get(v.path) ?? [];
    list.push(v);
    byPath.set(v.path, list);
  }
  const actions: Action[] = [];
  for (const path of [...byPath.keys()].sort()) {
    const list = byPath.get(path)!.sort((a, b) => a.seq - b.seq);
    for (const v of list.slice(0, Math.max(0, list.length - max))) {
      actions.push({ type: "prune", path, copyId: v.copyId, seq: v.seq, storedAt: v.storedAt });
    }
  }
  return actions;
}

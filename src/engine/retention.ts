/**
 * Retention, a pure rule: of the versions stored for one path (copies in versions/), keep
 * the `max` with the highest content numbers and prune the rest, oldest first. Only
 * versions are ever pruned; latest copies, duplicates and deleted files are never touched.
 */
import type { Action, RecordedContent } from "./types.ts";

export interface StoredVersion {
  path: string;
  copyId: number;
  seq: number;
  storedAt: string;
  /** A file's content as recorded, to tell a copy holding other bytes (not for a symlink). */
  recorded?: RecordedContent;
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
      const { copyId, seq, storedAt, recorded } = v;
      actions.push({ type: "prune", path, copyId, seq, storedAt, ...(recorded && { recorded }) });
    }
  }
  return actions;
}

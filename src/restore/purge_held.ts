/**
 * The copies a purge keeps although asked: one holding the only stored bytes of a content a
 * file still tracked holds (a duplicate, still backed up) whose own copy is missing from the
 * backup root (removed by hand, a disk fault). Deleted, it would leave that file without
 * stored bytes: the next run copies it again only while the file is unchanged in its source,
 * and a change or deletion before then loses the content. `verify --repair` makes that file's
 * copy again (from this copy, or from the source), and the same purge then deletes this one.
 * Reads the state and looks at the backup root; changes nothing.
 */
import { isStoredCopy, storedEntry } from "../engine/fsops.ts";
import type { PurgeItem } from "../engine/purge_plan.ts";
import type { StateStore } from "../state/store.ts";

/** A copy kept, and the one line that says why. */
export interface HeldItem {
  item: PurgeItem;
  message: string;
}

/**
 * Splits `items` (what a purge deletes) into those it deletes and those it keeps: each
 * content's copies are kept, all of them there, where a file tracked and not purged holds
 * that content, its copy is missing, and no such file's copy is there to hold it. A copy
 * asked that is missing too holds nothing to keep: it goes as any missing copy does.
 */
export function holdLastBytes(
  root: string,
  store: StateStore,
  items: readonly PurgeItem[],
): { items: PurgeItem[]; held: HeldItem[] } {
  const purged = new Set(items.map((i) => i.action.path));
  const real = new Set<string>();
  const present = (storedAt: string) => isStoredCopy(storedEntry(root, storedAt, real));
  // Empty files and symlinks are never duplicates, nor originals (layout.md).
  const digestOf = ({ action: { recorded: r } }: PurgeItem) =>
    r && r.size > 0 ? `${r.algo}:${r.hash}` : undefined;
  const digests = new Set(items.flatMap((i) => digestOf(i) ?? []));
  // Per content: the file still backed up it would leave without stored bytes, if any.
  const needy = new Map<string, { path: string; storedAt: string }>();
  for (const [digest, copies] of store.currentHolders([...digests])) {
    const others = copies.filter((c) => !purged.has(c.path));
    if (others.length === 0 || others.some((c) => present(c.storedAt))) continue;
    needy.set(digest, others[0]);
  }
  const kept: PurgeItem[] = [];
  const held: HeldItem[] = [];
  for (const item of items) {
    const digest = digestOf(item);
    const other = digest === undefined ? undefined : needy.get(digest);
    // A copy missing itself holds no bytes: purged (recorded so) as any missing copy.
    if (other === undefined || !present(item.action.storedAt)) {
      kept.push(item);
      continue;
    }
    held.push({
      item,
      message:
        `Cannot purge its copy '${item.action.storedAt}': it holds the only stored bytes of ` +
        `'${other.path}', still backed up, whose own copy '${other.storedAt}' is missing ` +
        "from the backup root: run 'verify --repair' first (it stores them again), then purge " +
        "again; the copy was left in place",
    });
  }
  return { items: kept, held };
}

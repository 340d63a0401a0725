/**
 * The copies a purge keeps although asked: one holding the only stored bytes of a content a
 * file still tracked holds (a duplicate, still backed up) whose own copy is missing from the
 * backup root (removed by hand, a disk fault). Deleted, it would leave that file without
 * stored bytes: the next run copies it again only while the file is unchanged in its source,
 * and a change or deletion before then loses the content. `verify --repair` makes that file's
 * copy again (from this copy, or from the source), and the same purge then deletes this one.
 * Where any other stored copy of the same bytes stays (a version, a `_deleted/` copy, another
 * file's copy: recorded stored under the same digest, not asked in this purge, there as a
 * file of its recorded size), the copy asked holds not the only ones: it goes, and
 * `verify --repair` makes the missing copy from that one (repair_copies.ts reads any stored
 * copy of a content). That copy is looked for in one read of the state, a page at a time,
 * and only where some content would otherwise be kept; copies under another hash algorithm
 * are not hashed for it (such a content is kept, as before).
 * Where a copy's presence cannot be told (a folder on its way this user may not enter), it
 * is taken for what keeps the most: such a file's own copy for missing, so the copy that
 * may hold its only bytes is kept, said as 'could not be looked at' with the reason; a copy
 * asked for there, so it is kept where needed, or left to the deletion, whose failure is a
 * line of its own (never 'already missing'). Reads the state and looks at the backup root;
 * changes nothing.
 */
import { errorText } from "../engine/errors.ts";
import { isStoredCopy, storedEntry } from "../engine/fs/fsops.ts";
import { isStored } from "./asof.ts";
import type { PurgeItem } from "../core/purge_plan.ts";
import type { StateStore } from "../state/store.ts";
import { commandHint } from "../config/selection.ts";

/** A copy kept, and the one line that says why. */
export interface HeldItem {
  item: PurgeItem;
  message: string;
}

/**
 * Splits `items` (what a purge deletes) into those it deletes and those it keeps: each
 * content's copies are kept, all of them there, where a file tracked and not purged holds
 * that content, its copy is missing, no such file's copy is there to hold it, and no other
 * stored copy not asked is. A copy asked that is missing too holds nothing to keep: it goes
 * as any missing copy does.
 */
export function holdLastBytes(
  root: string,
  store: StateStore,
  items: readonly PurgeItem[],
): { items: PurgeItem[]; held: HeldItem[] } {
  const purged = new Set(items.map((i) => i.action.path));
  const real = new Set<string>();
  // Per copy looked at: true (there), false (missing), or why it could not be looked at.
  const seen = new Map<string, boolean | string>();
  const look = (storedAt: string): boolean | string => {
    let found = seen.get(storedAt);
    if (found === undefined) {
      try {
        found = isStoredCopy(storedEntry(root, storedAt, real));
      } catch (e) {
        found = errorText(e);
      }
      seen.set(storedAt, found);
    }
    return found;
  };
  // Empty files and symlinks are never duplicates, nor originals (layout.md).
  const digestOf = ({ action: { recorded: r } }: PurgeItem) =>
    r && r.size > 0 ? `${r.algo}:${r.hash}` : undefined;
  const digests = new Set(items.flatMap((i) => digestOf(i) ?? []));
  // Per content: the file still backed up it would leave without stored bytes, if any.
  const needy = new Map<string, { path: string; storedAt: string; said: string }>();
  for (const [digest, copies] of store.currentHolders([...digests])) {
    const others = copies.filter((c) => !purged.has(c.path));
    // One that cannot be looked at holds nothing for sure: taken for missing.
    if (others.length === 0 || others.some((c) => look(c.storedAt) === true)) continue;
    const other = others.find((c) => typeof look(c.storedAt) === "string") ?? others[0];
    const why = look(other.storedAt);
    const said = typeof why === "string"
      ? `it may hold the only stored bytes of '${other.path}', still backed up, whose own ` +
        `copy '${other.storedAt}' could not be looked at (${why}): purge as a user who may ` +
        `enter the backup root's folders (where that copy is missing, run ` +
        `'${commandHint("verify --repair")}' first)`
      : `it holds the only stored bytes of '${other.path}', still backed up, whose own copy ` +
        `'${other.storedAt}' is missing from the backup root: run ` +
        `'${commandHint("verify --repair")}' first (it ` +
        "stores them again), then purge again";
    needy.set(digest, { ...other, said });
  }
  if (needy.size > 0) {
    for (const digest of otherHolders(root, store, items, needy, real)) needy.delete(digest);
  }
  const kept: PurgeItem[] = [];
  const held: HeldItem[] = [];
  for (const item of items) {
    const digest = digestOf(item);
    const other = digest === undefined ? undefined : needy.get(digest);
    // A copy missing itself holds no bytes: purged (recorded so) as any missing copy. One
    // that cannot be looked at may hold them: kept.
    if (other === undefined || look(item.action.storedAt) === false) {
      kept.push(item);
      continue;
    }
    held.push({
      item,
      message:
        `Cannot purge its copy '${item.action.storedAt}': ${other.said}; the copy was left ` +
        "in place",
    });
  }
  return { items: kept, held };
}

/**
 * Of the `needy` contents, those another stored copy holds, one not among `items`: recorded
 * stored (a latest, duplicate, version or `_deleted/` copy), a file reached through real
 * folders, of its recorded size. One that cannot be looked at holds nothing for sure.
 */
function otherHolders(
  root: string,
  store: StateStore,
  items: readonly PurgeItem[],
  needy: ReadonlyMap<string, unknown>,
  real: Set<string>,
): Set<string> {
  const asked = new Set(items.map((i) => i.action.storedAt));
  const held = new Set<string>();
  for (const c of store.eachStoredCopy()) {
    const digest = `${c.algo}:${c.hash}`;
    if (c.kind !== "file" || !isStored(c) || !needy.has(digest) || held.has(digest)) continue;
    if (asked.has(c.storedAt!)) continue;
    try {
      const entry = storedEntry(root, c.storedAt!, real);
      if (isStoredCopy(entry) && entry.isFile && entry.size === c.size) held.add(digest);
    } catch { /* not looked at: holds nothing for sure */ }
    if (held.size === needy.size) break;
  }
  return held;
}

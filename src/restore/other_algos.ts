/**
 * Stored copies of a content's bytes recorded under another hash algorithm than its own
 * (the config's hash_algorithm changed between the two backups). Their digests cannot be
 * compared with the content's, so each stored copy of the same kind and size recorded under
 * another algorithm is hashed with the content's algorithm (a file read from the backup
 * root, a symlink's recorded target), and counts only when that gives the content's digest.
 * One read of the state (a page at a time, see `StateStore.eachStoredCopy`); only the
 * wanted contents and the copies found to hold them are remembered. A copy that cannot be
 * read holds nothing. Reads only; whoever then copies from a holder checks it again.
 */
import type { StoredCopy } from "../state/store.ts";
import { nativePath } from "../engine/fs/fsops.ts";
import { openSource } from "../engine/fs/source_file.ts";
import { createDigest } from "../engine/digest.ts";
import { hashText, READ_BUFFER_BYTES } from "../engine/stage.ts";
import { contentKey, isStored, othersHolding } from "./asof.ts";

/**
 * Per wanted content, the stored copies under another algorithm holding its bytes, in
 * storage path order; with `firstOnly`, at most one each, and copies of a kind and size
 * whose wanted contents all have one are no longer read.
 */
export function holdersUnderOtherAlgos(
  root: string,
  wanted: readonly StoredCopy[],
  everything: Iterable<StoredCopy>,
  firstOnly = false,
): (c: StoredCopy) => string[] {
  const found = new Map<string, string[]>(wanted.map((c) => [contentKey(c), []]));
  const groups = groupsOf(wanted);
  const buf = new Uint8Array(READ_BUFFER_BYTES);
  for (const s of everything) {
    if (firstOnly && groups.size === 0) break;
    const algos = isStored(s) ? groups.get(sizeKey(s)) : undefined;
    for (const algo of [...algos?.keys() ?? []]) {
      if (algo === s.algo) continue; // its recorded digest tells already (othersHolding)
      const digest = digestAs(root, s, algo, buf);
      const holders = digest === undefined
        ? undefined
        : found.get(contentKey({ ...s, algo, hash: digest }));
      if (holders === undefined || (firstOnly && holders.length > 0)) continue;
      holders.push(s.storedAt!);
      if (firstOnly) settle(groups, sizeKey(s), algo);
    }
  }
  return (c) => found.get(contentKey(c)) ?? [];
}

/**
 * Every other stored copy holding the bytes of `wanted` contents (their own copies found
 * missing or damaged): those under the content's own algorithm first (one read of the
 * state, see `othersHolding`), then those under another one, looked for (one more read,
 * see `holdersUnderOtherAlgos`) only once some content needs more than the first.
 */
export function othersHoldingAnyAlgo(
  root: string,
  wanted: readonly StoredCopy[],
  pass: () => Iterable<StoredCopy>,
): (c: StoredCopy) => Iterable<string> {
  const same = othersHolding(wanted, pass());
  let other: ((c: StoredCopy) => string[]) | undefined;
  return function* (c) {
    yield* same(c);
    other ??= holdersUnderOtherAlgos(root, wanted, pass());
    for (const at of other(c)) if (at !== c.storedAt) yield at;
  };
}

/** What a copy must share with a content to be read for it: kind and size. */
const sizeKey = (c: StoredCopy) => `${c.kind}:${c.size}`;

/**
 * Per kind and size of the wanted contents, the algorithms they were recorded under, each
 * with how many distinct contents of it still lack a holder.
 */
function groupsOf(wanted: readonly StoredCopy[]): Map<string, Map<string, number>> {
  const groups = new Map<string, Map<string, number>>();
  const distinct = new Map(wanted.map((c) => [contentKey(c), c]));
  for (const c of distinct.values()) {
    const algos = groups.get(sizeKey(c)) ?? new Map<string, number>();
    groups.set(sizeKey(c), algos.set(c.algo, (algos.get(c.algo) ?? 0) + 1));
  }
  return groups;
}

/** One more content of this kind, size and algorithm has a holder: forgets what none lacks. */
function settle(groups: Map<string, Map<string, number>>, key: string, algo: string): void {
  const algos = groups.get(key)!;
  const left = algos.get(algo)! - 1;
  if (left > 0) algos.set(algo, left);
  else algos.delete(algo);
  if (algos.size === 0) groups.delete(key);
}

/**
 * The digest under `algo` of a stored copy's bytes: a file's as read from the backup root
 * (undefined if it is missing, not a file, unreadable or not of its recorded size), a
 * symlink's recorded target's.
 */
function digestAs(root: string, s: StoredCopy, algo: string, buf: Uint8Array) {
  if (s.kind === "symlink") return s.linkTarget === null ? undefined : hashText(s.linkTarget, algo);
  const h = createDigest(algo); // outside the try: digests not loaded is no per-file matter
  const path = nativePath(root, s.storedAt!);
  try {
    using f = openSource(path); // never waits on a FIFO, never follows a symlink
    const info = f.stat();
    if (info.kind !== "file" || info.size !== s.size) return undefined;
    let total = 0;
    for (let n = f.read(buf); n > 0; n = f.read(buf)) {
      total += n;
      if (total > s.size) return undefined; // grew since: not the bytes recorded
      h.update(buf.subarray(0, n));
    }
    return total === s.size ? h.digest("hex") : undefined;
  } catch {
    return undefined; // unreadable: it holds nothing a restore could use
  }
}

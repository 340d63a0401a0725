/**
 * What a restore says of a file an exclude pattern took out after it was backed up: its
 * last copy stays marked current, so a restore gives it back as the file's content now,
 * and says that the file may have changed since (a conflict at its place says so before
 * its remedy, --overwrite). Whether a path is excluded is asked of the state for each
 * current content restored, by the files' primary key, for the first few; past those, the
 * excluded paths are read once (a pass over the files' table, which a restore of one file
 * on a large backup never pays). Reads only.
 */
import type { StateStore } from "../state/store.ts";
import type { RestoreResult } from "./restore_item.ts";

/**
 * Paths asked one by one before the excluded ones are read at once: 1024 lookups cost
 * about 9 ms on a 1,000,000-file state, one pass over its files 116 ms (measured, warm).
 */
const ASKED_ONE_BY_ONE = 1024;

/** Whether a path is excluded: asked path by path, then from the excluded paths read once. */
export function excludedOnce(
  store: Pick<StateStore, "isExcluded" | "excludedPaths">,
): (path: string) => boolean {
  let asked = 0;
  let paths: Set<string> | undefined;
  return (path) => {
    if (paths === undefined && asked++ < ASKED_ONE_BY_ONE) return store.isExcluded(path);
    return (paths ??= store.excludedPaths()).has(path);
  };
}
/**
 * A file restored from the content still marked current of a path excluded since (no run
 * follows it any more), with that said: the file may have changed after its last copy;
 * and one left alone for other content at its place, likely newer, said before the
 * conflict's remedy (--overwrite).
 */
export function excludedSaid(r: RestoreResult, excluded: (path: string) => boolean): RestoreResult {
  const { copy } = r;
  const said = r.outcome === "restored" || r.outcome === "conflict";
  if (!said || copy.validTo !== null || !excluded(copy.path)) return r;
  const at = new Date(copy.validFrom).toISOString();
  if (r.outcome === "conflict") {
    const why = "it is excluded (it matches an exclude pattern): the backup holds its last " +
      `content backed up, at ${at}, and the file there may be newer`;
    return { ...r, reason: beforeRemedy(r.reason ?? "", why) };
  }
  const note = "it is excluded (it matches an exclude pattern): this is its last content " +
    `backed up, at ${at}, and the file may have changed since`;
  return { ...r, note: r.note === undefined ? note : `${r.note}; ${note}` };
}

/** What a conflict's reason says before its remedy (write.ts `conflict`). */
const LEFT_ALONE = ": left alone; ";

/** A conflict's reason with `why` said before its remedy (at its end, failing that). */
function beforeRemedy(reason: string, why: string): string {
  const cut = reason.indexOf(LEFT_ALONE);
  if (cut < 0) return `${reason}; ${why}`;
  const end = cut + LEFT_ALONE.length;
  return `${reason.slice(0, end)}${why}; ${reason.slice(end)}`;
}

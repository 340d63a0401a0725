/**
 * What a restore (and `ls`) asks of the state beside its selection (select.ts): whether it
 * restores a file at or below a path, for a twin's name (twins.ts), and, with `--include`
 * or `--exclude` (path_filter.ts), whether each pattern matches a file of what was asked
 * before anything is written, for a pattern that matches none means nothing is restored.
 * That check reads the files asked for as the selection does, a page at a time, and stops
 * as soon as every pattern matched one and the patterns keep one (so a filter that works
 * costs a page or a few, one that matches nothing a read of what was asked). Reads only.
 */
import { isWithin, selectContents, type Selector } from "./asof.ts";
import { type PathFilter, PatternHits } from "./path_filter.ts";
import { pagesOf } from "./select.ts";
import type { StateStore, StoredCopy } from "../state/store.ts";

/**
 * Whether the restore of `targets` as `sel` selects (only the files `filter` keeps)
 * restores a file at or below a logical path (a content whose copy is gone counts too):
 * asked of the state, for a twin's name (twins.ts), so rarely.
 */
export function restoredHere(
  store: Pick<StateStore, "copiesOf" | "copyPages">,
  sel: Selector,
  targets: readonly string[],
  filter?: PathFilter,
): (logical: string) => boolean {
  const chosen = (rows: StoredCopy[]) => {
    const { stored, gone } = selectContents(rows, sel);
    return [...stored, ...gone].some((c) =>
      isWithin(c.path, targets) && (filter === undefined || filter.keeps(c.path))
    );
  };
  return (logical) => {
    if (chosen(store.copiesOf(logical))) return true;
    const near = (t: string) => t === "" || isWithin(t, [logical]) || isWithin(logical, [t]);
    if (targets.length > 0 && !targets.some(near)) return false;
    for (const page of store.copyPages(logical)) if (chosen(page)) return true;
    return false;
  };
}

/**
 * What to say of the patterns, a line each (path_filter.ts `PatternHits.reasons`): none
 * where each matches a file at or below `targets` as `sel` selects them and together they
 * keep one, or where nothing is there at all (the PATH's own not-found says so).
 */
export function filterReasons(
  store: StateStore,
  sel: Selector,
  targets: readonly string[],
  filter: PathFilter,
  where: string,
  then: string,
): string[] {
  const hits = new PatternHits(filter);
  const whole = targets.length === 0 || targets.includes("");
  for (const page of whole ? store.copyPages() : pagesOf(store, targets)) {
    const { stored, gone } = selectContents(page, sel);
    for (const c of [...stored, ...gone]) if (isWithin(c.path, targets)) hits.note(c.path);
    if (hits.done) return [];
  }
  return hits.reasons(where, then);
}

/** What was asked, as a pattern that matched nothing names it: `under 'docs' as of …`. */
export function whereAsked(given: readonly string[], at: number | undefined): string {
  const paths = [...new Set(given)];
  const under = paths.length === 0
    ? "in the backup"
    : `under ${paths.map((p) => `'${p}'`).join(" or ")}`;
  return at === undefined ? under : `${under} as of ${new Date(at).toISOString()}`;
}

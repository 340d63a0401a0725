/**
 * What a restore (and `ls`) asks of the state beside its selection (select.ts), with
 * `--include` or `--exclude` (path_filter.ts) as without: whether it restores a file at or
 * below a path, for a twin's name (twins.ts); and how what was asked is named where a
 * pattern matched nothing of it. Which patterns matched is learnt in the selection's own
 * pass, as it reads each file asked for (select.ts): no read of its own. Reads only.
 */
import { isWithin, selectContents, type Selector } from "./asof.ts";
import type { PathFilter } from "./path_filter.ts";
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

/** What was asked, as a pattern that matched nothing names it: `under 'docs' as of …`. */
export function whereAsked(given: readonly string[], at: number | undefined): string {
  const paths = [...new Set(given)];
  const under = paths.length === 0
    ? "in the backup"
    : `under ${paths.map((p) => `'${p}'`).join(" or ")}`;
  return at === undefined ? under : `${under} as of ${new Date(at).toISOString()}`;
}

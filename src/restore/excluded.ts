/**
 * What a restore says of files the config took out after they were backed up (an exclude
 * pattern, a folder's tag, one_file_system: engine/left_out.ts): their last copy stays marked current, so a restore gives
 * each back as the file's content now, which the file may have left since. Before any file
 * is written, the excluded paths at or below the PATHs restored are read (by the files'
 * primary key: a restore of one file reads its own row, one of everything a pass over the
 * files' table) and grouped by the topmost folder whose tracked files are all excluded
 * (`node_modules/`), or the file alone, for one line each with a count; each file's own
 * note goes in --json's `warning`, and a conflict at its place says it before its remedy
 * (--overwrite). With `--include` or `--exclude`, a folder's line counts only the files they
 * keep. Reads only.
 */
import type { StateStore } from "../state/store.ts";
import type { ExcludedFile } from "../state/queries.ts";
import { isWithin, type Selector } from "./asof.ts";
import type { RestoreResult } from "./restore_item.ts";
import { compareCodePoints } from "../engine/merge.ts";
import type { PathFilter } from "./path_filter.ts";

/** A folder whose tracked files are all excluded (or one excluded file), as restored. */
export interface ExcludedRoot {
  /** Its logical path. */
  path: string;
  /** Whether it is a folder (else the one file). */
  folder: boolean;
  /** Its excluded files the restore gives as their last content backed up. */
  files: number;
  /** When the last of those contents was backed up (ms). */
  latest: number;
}

/** The excluded files of a restore: whether a path is one, and their roots. */
export interface ExcludedInRestore {
  has(path: string): boolean;
  roots: ExcludedRoot[];
}

/**
 * The excluded paths at or below `targets` (logical paths; none or "" is everything), and
 * the roots of those whose current content `sel` restores (only those `filter` keeps:
 * `--include`, `--exclude`).
 */
export function excludedInRestore(
  store: Pick<StateStore, "excludedAt" | "allExcludedBelow">,
  targets: readonly string[],
  sel: Selector,
  filter?: PathFilter,
): ExcludedInRestore {
  const whole = targets.length === 0 || targets.includes("");
  // A PATH inside another one given is left to that one, so none is read twice.
  const outer = whole
    ? [""]
    : [...new Set(targets)].filter((t) => !targets.some((o) => o !== t && isWithin(t, [o])));
  // Excluded as of the moment restored: a file taken out after it (where the state says
  // when) was backed up then, and is restored as any file, unsaid.
  const rows = outer.flatMap((t) => store.excludedAt(t)).filter((r) =>
    sel.kind !== "at" || r.excludedAt === null || r.excludedAt <= sel.time
  );
  if (outer.length > 1) rows.sort((a, b) => compareCodePoints(a.path, b.path));
  const paths = new Set(rows.map((r) => r.path));
  const restored = rows.filter((r) =>
    (sel.kind === "version"
      ? r.seq === sel.seq
      : sel.kind === "latest" || r.validFrom <= sel.time) &&
    (filter === undefined || filter.keeps(r.path))
  );
  const roots = excludedRoots(restored, (folder) => store.allExcludedBelow(folder));
  return { has: (path) => paths.has(path), roots };
}

/**
 * Excluded files (in path order) grouped by their topmost folder whose tracked files are
 * all excluded (`allExcluded`, asked once per folder, from the source down), or each file
 * alone where none is, or where it is the one file of its folder restored (a restore of
 * that file: named itself, not a folder above the PATH given).
 */
export function excludedRoots(
  files: readonly Pick<ExcludedFile, "path" | "validFrom">[],
  allExcluded: (folder: string) => boolean,
): ExcludedRoot[] {
  const roots: ExcludedRoot[] = [];
  const mixed = new Set<string>();
  const topmost = (path: string): string => {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const folder = parts.slice(0, i).join("/");
      if (mixed.has(folder)) continue;
      if (allExcluded(folder)) return folder;
      mixed.add(folder);
    }
    return path;
  };
  let last: ExcludedRoot | undefined;
  let lastFile = "";
  const push = (root: ExcludedRoot | undefined) => {
    if (root === undefined) return;
    roots.push(root.files === 1 ? { ...root, path: lastFile, folder: false } : root);
  };
  for (const f of files) {
    if (last?.folder && f.path.startsWith(`${last.path}/`)) {
      last.files++;
      last.latest = Math.max(last.latest, f.validFrom);
      continue;
    }
    push(last);
    const path = topmost(f.path);
    last = { path, folder: path !== f.path, files: 1, latest: f.validFrom };
    lastFile = f.path;
  }
  push(last);
  return roots;
}

/** What leaves an excluded file out, as restore and history say it (the state says not which). */
export const LEFT_OUT_BY = "the config leaves it out: an exclude pattern, a folder's tag, " +
  "one_file_system or exclude_larger_than";

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
    const why = `it is excluded (${LEFT_OUT_BY}): the backup holds its last content backed ` +
      `up, at ${at}, and the file there may be newer`;
    return { ...r, reason: beforeRemedy(r.reason ?? "", why) };
  }
  const excludedNote = `it is excluded (${LEFT_OUT_BY}): this is its last content backed ` +
    `up, at ${at}, and the file may have changed since`;
  return { ...r, excludedNote };
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

/**
 * What a restore says of files the config took out after they were backed up (an exclude
 * pattern, a folder's tag, one_file_system: engine/scan/left_out.ts): their last copy stays marked current, so a restore gives
 * each back as the file's content now, which the file may have left since. Before any file
 * is written, the excluded paths at or below the PATHs restored are read (by the files'
 * primary key: a restore of one file reads its own row, one of everything a pass over the
 * files' table) and grouped by the topmost folder whose tracked files are all excluded
 * (`node_modules/`), or the file alone, for one line each with a count; each file's own
 * note goes in --json's `warning`, and a conflict at its place says it before its remedy
 * (--overwrite). With `--include` or `--exclude`, a folder's line counts only the files they
 * keep. A restore `--at` a moment inside an exclusion that ended since (state/
 * ended_exclusions.ts: the spans at or below the PATHs, read once) says the file as it was
 * said while the exclusion lasted, its folder's line told by the paths the folder held at
 * that moment (the files' table holds those of now) and counting those ended apart from
 * those excluded still. Reads only.
 */
import type { StateStore } from "../state/store.ts";
import type { ExcludedFile } from "../state/queries.ts";
import { isWithin, type Selector } from "./asof.ts";
import type { RestoreResult } from "./restore_item.ts";
import { compareCodePoints } from "../core/merge.ts";
import type { PathFilter } from "./path_filter.ts";
import type { ExclusionEnd } from "../state/ended_exclusions.ts";

/** An exclusion that ended since the moment restored: from when to when, and how it ended. */
export interface EndedSpan {
  from: number;
  to: number;
  by: ExclusionEnd;
}

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
  /**
   * Of its files (each excluded at the moment restored), those whose exclusion ended since
   * (followed again or deleted): how many, the first start and the last end of their spans,
   * and how they ended (undefined where not all alike). All of them: said in the past; some:
   * how many are excluded still and how many were then only.
   */
  ended?: EndedFiles;
}

/** Files of a root whose exclusion ended since: how many, their spans', and how they ended. */
export interface EndedFiles {
  files: number;
  from: number;
  to: number;
  by?: ExclusionEnd;
}

/** The excluded files of a restore: whether a content is one's kept content, and their roots. */
export interface ExcludedInRestore {
  /** Whether `copy` is the content the backup kept of a path excluded as of the restore. */
  keeps(copy: { path: string; seq: number }): boolean;
  /** Where `copy` is such a content and the exclusion has ended since: its span. */
  endedSpan(copy: { path: string; seq: number }): EndedSpan | undefined;
  roots: ExcludedRoot[];
}

/**
 * The paths excluded as of the restore at or below `targets` (logical paths; none or "" is
 * everything), and the roots of those whose kept content `sel` restores (only those
 * `filter` keeps: `--include`, `--exclude`). A restore `--at` a moment inside an exclusion
 * that ended since (the file followed again, or deleted while excluded:
 * state/ended_exclusions.ts) takes the file as one excluded at that moment is taken while
 * its exclusion lasts: its kept content, said so.
 */
export function excludedInRestore(
  store: Pick<
    StateStore,
    "excludedAt" | "allExcludedBelow" | "endedExclusions" | "recordedBelowAt"
  >,
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
  const rows: (Pick<ExcludedFile, "path" | "seq" | "validFrom"> & { span?: EndedSpan })[] = outer
    .flatMap((t) => store.excludedAt(t)).filter((r) =>
      sel.kind !== "at" || r.excludedAt === null || r.excludedAt <= sel.time
    );
  // Excluded then, followed again (or deleted) since: only a moment inside it asks.
  const ended = sel.kind !== "at" ? [] : outer.flatMap((t) => store.endedExclusions(t)).filter(
    (e) => e.from <= sel.time && sel.time < e.to && e.seq !== null,
  ).map((e) => ({
    path: e.path,
    seq: e.seq!,
    validFrom: e.validFrom!,
    span: { from: e.from, to: e.to, by: e.by },
  }));
  rows.push(...ended);
  if (outer.length > 1 || ended.length > 0) {
    rows.sort((a, b) => compareCodePoints(a.path, b.path));
  }
  const kept = new Map(rows.map((r) => [r.path, r.seq]));
  const spans = new Map(ended.map((r) => [r.path, r.span]));
  const restored = rows.filter((r) =>
    (sel.kind === "version"
      ? r.seq === sel.seq
      : sel.kind === "latest" || r.validFrom <= sel.time) &&
    (filter === undefined || filter.keeps(r.path))
  );
  // A folder whose files were all excluded then, some of them followed again (or deleted)
  // since: told by the paths it held then, not by those it holds now.
  const allExcluded = ended.length === 0 || sel.kind !== "at"
    ? (folder: string) => store.allExcludedBelow(folder)
    : (folder: string) =>
      store.recordedBelowAt(folder, sel.time, kept.size + 1).every((path) => kept.has(path));
  const roots = excludedRoots(restored, allExcluded);
  const keeps = (copy: { path: string; seq: number }) => kept.get(copy.path) === copy.seq;
  return {
    keeps,
    endedSpan: (copy) => keeps(copy) ? spans.get(copy.path) : undefined,
    roots,
  };
}

/**
 * Excluded files (in path order) grouped by their topmost folder whose tracked files are
 * all excluded (`allExcluded`, asked once per folder, from the source down), or each file
 * alone where none is, or where it is the one file of its folder restored (a restore of
 * that file: named itself, not a folder above the PATH given).
 */
export function excludedRoots(
  files: readonly (Pick<ExcludedFile, "path" | "validFrom"> & { span?: EndedSpan })[],
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
      if (f.span !== undefined) last.ended = spanned(last.ended, f.span);
      continue;
    }
    push(last);
    const path = topmost(f.path);
    last = { path, folder: path !== f.path, files: 1, latest: f.validFrom };
    if (f.span !== undefined) last.ended = spanned(undefined, f.span);
    lastFile = f.path;
  }
  push(last);
  return roots;
}

/** A root's ended exclusions with one more file's. */
function spanned(ended: EndedFiles | undefined, span: EndedSpan): EndedFiles {
  if (ended === undefined) return { files: 1, ...span };
  return {
    files: ended.files + 1,
    from: Math.min(ended.from, span.from),
    to: Math.max(ended.to, span.to),
    by: ended.by === span.by ? span.by : undefined,
  };
}

/**
 * Of a file (or files: `each`) excluded at the moment restored, whose exclusion ended since:
 * `excluded from A to B (the config left it out, then followed it again` (the parenthesis
 * left open, for the caller's words; the verb before it the caller's), what to say after
 * the doubt that it changed (when), and the moment to give instead where a later content
 * was backed up.
 */
export function endedSaid(
  { from, to, by }: { from: number; to: number; by?: ExclusionEnd },
  each = false,
): { excluded: string; changed: string; instead?: string } {
  const [a, b] = [new Date(from).toISOString(), new Date(to).toISOString()];
  const excluded = `excluded from ${a} to ${b} (the config left ${each ? "each" : "it"} out, `;
  if (by === "followed") {
    return {
      excluded: `${excluded}then followed ${each ? "them" : "it"} again`,
      changed: "meanwhile",
      instead: `give --at ${b} or a later time for the ${
        each ? "contents" : "content"
      } backed up once ${each ? "they were" : "it was"} followed again`,
    };
  }
  if (by === "deleted") {
    return {
      excluded: `${excluded}then deleted from ${each ? "their sources" : "its source"} at ${b}`,
      changed: `before ${each ? "they were" : "it was"} deleted`,
    };
  }
  return { excluded: `${excluded}then followed again or deleted`, changed: "meanwhile" };
}

/** The ways the config leaves a file out (the state says not which). */
export const LEFT_OUT_HOW = "an exclude pattern, a folder's tag, one_file_system or " +
  "exclude_larger_than";

/** What leaves an excluded file out, as restore and history say it (the state says not which). */
export const LEFT_OUT_BY = `the config leaves it out: ${LEFT_OUT_HOW}`;

/**
 * A file restored from the content still marked current of a path excluded since (no run
 * follows it any more), with that said: the file may have changed after its last copy;
 * and one left alone for other content at its place, likely newer, said before the
 * conflict's remedy (--overwrite).
 */
export function excludedSaid(
  r: RestoreResult,
  kept: Pick<ExcludedInRestore, "keeps" | "endedSpan">,
): RestoreResult {
  const { copy } = r;
  const said = r.outcome === "restored" || r.outcome === "conflict";
  if (!said || !kept.keeps(copy)) return r;
  const at = new Date(copy.validFrom).toISOString();
  // Excluded then, not now: said in the past, with its span.
  const span = kept.endedSpan(copy);
  if (span !== undefined) {
    const { excluded, changed, instead } = endedSaid(span);
    const why = `it was ${excluded}): the backup holds its last content backed up before ` +
      `that, at ${at}`;
    if (r.outcome === "conflict") {
      return {
        ...r,
        reason: beforeRemedy(r.reason ?? "", `${why}, and the file there may be newer`),
      };
    }
    const then = instead === undefined ? "" : `: ${instead}`;
    return { ...r, excludedNote: `${why}, and the file may have changed ${changed}${then}` };
  }
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

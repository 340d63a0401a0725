/**
 * Which folders recorded as standing a pass's walks found gone (core/folder_spans.ts says
 * where walks cover), once they are done: the pass (pass.ts) builds the rule, the state
 * applies it with the folders seen, in the same transaction (state/folder_spans.ts). None is
 * built where a source was unmounted or replaced during the pass, or where the deletion
 * guard held deletions back (an unmounted disk's empty mount point must not end its
 * folders' spans, unless `--force` says the disk is gone for good, as for its files). Reads only, and only once a folder recorded as standing was not seen:
 * an lstat of each excluded or left-out one, fstab and the mount table once.
 */
import type { Config, Source } from "../config/config.ts";
import { sourceFileOf } from "../core/layout.ts";
import { lstatOrNone } from "./fs/fsops.ts";
import { coveredFolders, type GoneFolders, keeping } from "../core/folder_spans.ts";
import { unmountedTablePointsIn } from "./fs/mounts.ts";

/** What the first walk could not list and left out (logical paths). */
export interface Walked {
  unreadable: string[];
  leftOut: ReadonlySet<string>;
}

/**
 * The rule of the folders gone, for a pass over `scoped` (logical paths). `force` (`run
 * --force`): a disk's mount point where nothing is mounted keeps nothing, as the pass then
 * archives the disk's tracked files as deleted (pass.ts `#unmountedDisks`).
 */
export function goneFolders(
  config: Pick<Config, "sources" | "exclude">,
  scoped: readonly string[],
  walked: Walked,
  force = false,
): GoneFolders {
  const covered = coveredFolders({
    scope: scoped,
    unreadable: walked.unreadable,
    leftOut: walked.leftOut,
    exclude: config.exclude,
    folderThere: (path) => folderThere(config.sources, path),
  });
  // A mount point where nothing is mounted keeps the disk's folders as standing, even where
  // no tracked file below it vanished (which the pass keeps too: pass.ts `#unmountedDisks`).
  if (force) return covered;
  let unmounted: GoneFolders | undefined;
  const isGone = (path: string) => {
    if (!covered.isGone(path)) return false;
    unmounted ??= keeping(covered, new Set(unmountedPoints(config)));
    return unmounted.isGone(path);
  };
  return { scope: covered.scope, isGone };
}

/** Whether a folder (logical path) is a folder in its source now (not followed if a link). */
function folderThere(sources: Source[], path: string): boolean {
  const abs = sourceFileOf(sources, path);
  return abs !== undefined && lstatOrNone(abs)?.isDirectory === true;
}

/** The folders of the sources (logical paths) on which fstab mounts a disk not mounted now. */
function unmountedPoints(config: Pick<Config, "sources">): string[] {
  return config.sources.flatMap((source) =>
    unmountedTablePointsIn(source.path).map(({ rel }) =>
      rel === "" ? source.name : `${source.name}/${rel}`
    )
  );
}

/**
 * The folder records `purge` forgets (state/folder_spans.ts): at or below its PATHs, each
 * folder no run follows now, whose files it deleted (gone from its source, or excluded or
 * left out now, or in a source the config no longer names), so that no restore of a
 * moment when it stood makes its empty skeleton, the files gone. A folder still followed
 * keeps every span: it holds, or held, what the backup still has. Forgotten once every copy
 * is dealt with, in one transaction, its log line written and flushed first; an
 * interruption before leaves them, for the same purge again.
 */
import type { StateStore } from "../state/store.ts";
import { outermost } from "./asof.ts";

/**
 * The folders recorded at or below `paths` (logical) that stand no more, or that
 * `unfollowed` says no run follows now (a source's own folder is asked as any other).
 */
export function unfollowedFolders(
  store: StateStore,
  paths: readonly string[],
  unfollowed: (path: string) => boolean,
): string[] {
  return outermost(paths).flatMap((p) =>
    store.folderRecordsAt(p).filter((f) => !f.standing || unfollowed(f.path)).map((f) => f.path)
  );
}

/** The log line of the folder records `purge` forgets below its PATHs. */
export function forgottenFoldersLine(paths: readonly string[], count: number): string {
  return `PURGE folders: ${paths.join(", ")} (${count} folder record(s) no run follows ` +
    "forgotten: a restore of an earlier moment makes them no more)";
}

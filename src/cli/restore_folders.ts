/**
 * What `restore` says of the folders it makes for themselves (empty ones, and those holding
 * only folders: restore/standing_folders.ts), besides those made on the way to its files,
 * which are never said: a line each as it is made (`MADE FOLDER`; a dry run's `WOULD MAKE
 * FOLDER`), their count in the summary where there are any, and `folders` in `--json`; and
 * of those it could not make: a line each (`printFolderProblems`), their count in the
 * summary and in `--json`'s `failed`, and exit code 1, as a file not restored.
 * Output only: what an interruption leaves is the restore's (restore/made_folders.ts).
 */
import { oneLine } from "../log/one_line.ts";
import type { FolderProblem } from "../restore/made_folders.ts";
import { warn } from "./stdout.ts";
import type { JsonList } from "./json_document.ts";

/** A folder made (a dry run's: it would make), as the logs show it, and where. */
export function madeFolderLine(logical: string, dest: string, dryRun: boolean): string {
  return oneLine(`${dryRun ? "WOULD MAKE FOLDER" : "MADE FOLDER"}: ${logical}/ → ${dest}`);
}

/** The summary's words for the folders made: nothing where none, so that its line stays. */
export function foldersMadeText(count: number, dryRun: boolean): string {
  if (count === 0) return "";
  const folders = `${count} folder${count === 1 ? "" : "s"}`;
  return `, ${folders} ${dryRun ? "would be made" : "made"}`;
}

/** The `--json` document's `folders`, where any was made (or would be). */
export function foldersField(list: JsonList): { folders?: JsonList } {
  return list.length === 0 ? {} : { folders: list };
}

/** The summary's words for the folders not made (a dry run's: it would not make): nothing where none. */
export function foldersNotMadeText(count: number, dryRun: boolean): string {
  if (count === 0) return "";
  const folders = `${count} folder${count === 1 ? "" : "s"}`;
  return `, ${folders} ${dryRun ? "would not be made" : "not made"}`;
}

/**
 * The folders not made as `--json`'s `failed` elements: `path` the folder's logical path with
 * a trailing `/` (never a file's), `kind` "error", `to` where it was to go.
 */
export function foldersNotMadeFailed(
  notMade: readonly { folder: string; logical?: string; reason: string }[],
): { path: string; kind: "error"; reason: string; to: string }[] {
  return notMade.map((f) => ({
    path: `${f.logical ?? f.folder}/`,
    kind: "error",
    reason: f.reason,
    to: f.folder,
  }));
}

/** The folders not made (a dry run's: it would not make), or not given their mode or time. */
export function printFolderProblems(folderProblems: FolderProblem[], dryRun = false): void {
  for (const f of folderProblems) {
    const said = dryRun ? `WOULD NOT MAKE FOLDER: ${f.logical}/ → ${f.folder}` : "";
    if (said && f.notMade) warn(oneLine(`${said}: ${f.reason}`));
    else if (f.notMade) warn(oneLine(`WARNING: Cannot make folder '${f.folder}': ${f.reason}`));
    else warn(oneLine(`WARNING: ${f.folder}: its recorded mode or time not set: ${f.reason}`));
  }
}

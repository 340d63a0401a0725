/**
 * What `restore` says of the folders it makes for themselves (empty ones, and those holding
 * only folders: restore/standing_folders.ts), besides those made on the way to its files,
 * which are never said: a line each as it is made (`MADE FOLDER`; a dry run's `WOULD MAKE
 * FOLDER`), their count in the summary where there are any, and `folders` in `--json`.
 * Output only: what an interruption leaves is the restore's (restore/made_folders.ts).
 */
import { oneLine } from "../log/one_line.ts";
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

/**
 * Whether a stored copy still holds the content the state records for it, told before the
 * copy is archived (a changed file's, entries.ts) or moved to `_deleted/` (execute.ts). A
 * copy holding other bytes means a disk fault, a change by hand, or a state older than the
 * backup root's files (`.backup-tool/` put back from an older copy, a copy of the root
 * taken during a run); it is moved all the same, and said. Its size and time as recorded
 * vouch for it (a run keeps a copy's time at its file's); otherwise it is read, so a copy
 * of the root that lost its times (`cp -r`) costs a read, not a false alarm. Reads only.
 */
import type { RecordedContent } from "./types.ts";
import { hashCopyAs } from "./stage.ts";

/**
 * True when the file `info` (an lstat of the copy at `path`) holds other bytes than
 * `recorded`. A copy that cannot be read now counts as holding them: the move meets it as
 * it is. `loadDigests()` (digest.ts) must have been awaited.
 */
export function holdsOtherContent(
  path: string,
  info: Deno.FileInfo,
  recorded: RecordedContent,
  buf: Uint8Array,
): boolean {
  if (!info.isFile) return false;
  if (info.size !== recorded.size) return true;
  if (info.mtime?.getTime() === recorded.mtimeMs) return false;
  try {
    return hashCopyAs(path, "file", [recorded.algo], buf)[0] !== recorded.hash;
  } catch {
    return false;
  }
}

/**
 * Whether a stored copy still holds the content the state records for it, told before the
 * copy is archived (a changed file's, entries.ts), moved to `_deleted/` or promoted out of
 * `_duplicates/`, kept for an unchanged file whose time or mode is brought up to date, or
 * deleted by retention (execute.ts). A copy holding other bytes means a disk fault, a
 * change by hand (versions renamed over one another), or a state older than the backup
 * root's files (`.backup-tool/` put back from an older copy, a copy of the root taken
 * during a run); it is moved all the same (a kept one is left as it is, and one retention
 * would delete is left in place: it may be another content's only copy), and said. Its
 * size and time as recorded vouch for it (a run keeps a copy's time at its file's);
 * otherwise it is read, so a copy of the root that lost its times (`cp -r`) costs a read,
 * not a false alarm. Reads only.
 */
import type { RecordedContent } from "./types.ts";
import { loadDigests } from "./digest.ts";
import { hashCopyAs, READ_BUFFER_BYTES } from "./stage.ts";

/**
 * What the copy's lstat (`info`) tells: true, other bytes (another size); false, the
 * recorded content (its size and time as recorded), or not a file; undefined, only a read
 * can tell (`readsAsOtherContent`).
 */
export function copyOfOtherContent(
  info: Deno.FileInfo,
  recorded: RecordedContent,
): boolean | undefined {
  if (!info.isFile) return false;
  if (info.size !== recorded.size) return true;
  return info.mtime?.getTime() === recorded.mtimeMs ? false : undefined;
}

/**
 * Whether the copy at `path`, read, holds other bytes than `recorded`. One that cannot be
 * read now counts as the recorded content: the move meets it as it is. `loadDigests()`
 * (digest.ts) must have been awaited.
 */
export function readsAsOtherContent(
  path: string,
  recorded: RecordedContent,
  buf: Uint8Array,
): boolean {
  try {
    return hashCopyAs(path, "file", [recorded.algo], buf)[0] !== recorded.hash;
  } catch {
    return false;
  }
}

/** Read buffer of the executor's checks (see `holdsOtherContent`), made on first use. */
let checkBuf: Uint8Array | undefined;

/**
 * Whether the copy at `path` (`info`: its lstat, taken where it was found, before a move)
 * holds other bytes than `recorded`: told by `info` as nearly always, else read.
 */
export async function holdsOtherContent(
  path: string,
  info: Deno.FileInfo,
  recorded: RecordedContent,
): Promise<boolean> {
  const told = copyOfOtherContent(info, recorded);
  if (told !== undefined) return told;
  await loadDigests();
  checkBuf ??= new Uint8Array(READ_BUFFER_BYTES);
  return readsAsOtherContent(path, recorded, checkBuf);
}

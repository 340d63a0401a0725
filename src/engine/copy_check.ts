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
 * not a false alarm. A prune's copy is told from an entry of the other kind put in its
 * place (`standingAt`). Reads only.
 */
import type { RecordedContent } from "../core/types.ts";
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

/**
 * What stands where a prune's copy is recorded (`info`: its lstat, a file or a symlink):
 * the copy, another content in it ("other"), or an entry of the other kind ("foreign").
 * A prune that records neither kind (a journal of an earlier version) takes any
 * file or symlink for the copy, as before.
 */
export async function standingAt(
  path: string,
  info: Deno.FileInfo,
  a: { recorded?: RecordedContent; link?: { hash: string; algo: string } },
): Promise<"copy" | "other" | "foreign"> {
  if (a.recorded) {
    if (!info.isFile) return "foreign";
    return await holdsOtherContent(path, info, a.recorded) ? "other" : "copy";
  }
  if (!a.link) return "copy";
  if (!info.isSymlink) return "foreign";
  await loadDigests();
  try {
    return hashCopyAs(path, "symlink", [a.link.algo], NO_BUFFER)[0] === a.link.hash
      ? "copy"
      : "other";
  } catch {
    return "copy"; // one that cannot be read now counts as recorded, as a file's does
  }
}

/** A symlink's digest reads its target only: no buffer. */
const NO_BUFFER = new Uint8Array(0);

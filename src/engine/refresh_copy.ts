/**
 * What an unchanged file's action writes to its stored copy (the executor's `skip` with a
 * refresh): the copy's mode, time and owner brought up to the file's; a copy gone missing
 * (removed by hand, a disk fault) made again from the source; a copy whose place holds
 * something not the tool's own made again at a free name. A new copy is staged in the
 * state's tmp/ folder, checked against the digest just taken, flushed and then linked into
 * place, so an interruption leaves the old state of the copy or the new one, and at most a
 * staged file in tmp/ for the next run's cleanup.
 */
import { join } from "node:path";
import { syncFiles } from "./fs/flush.ts";
import { isStoredCopy, nativePath, removeQuietly, storedEntry } from "./fs/fsops.ts";
import { placeStaged } from "./fs/move.ts";
import { READ_BUFFER_BYTES, stageEntry } from "./stage.ts";
import { updateCopyMeta } from "./copy_in_place.ts";
import { STATE_DIR, TMP_DIR } from "../core/layout.ts";
import { loadDigests } from "./digest.ts";
import { RETRIED } from "./errors.ts";
import type { Refresh } from "../core/types.ts";
import { holdsOtherContent } from "./copy_check.ts";
import { commandHint } from "../config/selection.ts";

/**
 * Does an unchanged file's refresh to its stored copy (`real`: folders seen to be real so
 * far in the batch, see `storedEntry`). Throws when something not the tool's own stands in
 * the copy's place, which is never touched.
 */
export async function refreshStoredCopy(
  root: string,
  r: Refresh,
  real: Set<string>,
): Promise<void> {
  if (r.relocatedTo !== undefined) return await relocateCopy(root, r, real);
  const stored = storedEntry(root, r.storedAt, real);
  // A symlink's missing stored link is made again too; nothing else of one is kept.
  if (r.entry.kind === "symlink" && stored === undefined) await copyAgain(root, r);
  if (r.entry.kind !== "file") return;
  // A copy made again is staged with the source's owner, bits and time already.
  if (stored === undefined) await copyAgain(root, r);
  else if (stored === "unsafe" || !stored.isFile) {
    throw new Error(
      `Cannot update the stored copy '${r.storedAt}': something else is there ` +
        `(a folder, a symlink, or a symlink or file in place of a folder on the way): ` +
        `move it out of the backup root, then run again`,
    );
  } else await refreshCopy(root, r, stored);
}

/**
 * Brings an unchanged file's copy (`stored`: its lstat) to the file's mode, time and owner;
 * a copy holding other bytes than recorded (copy_check.ts) is left as it is, and said:
 * given the file's time, it would pass for the recorded content at its next move.
 */
async function refreshCopy(root: string, r: Refresh, stored: Deno.FileInfo): Promise<void> {
  if (r.recorded && await holdsOtherContent(nativePath(root, r.storedAt), stored, r.recorded)) {
    r.otherBytes = true;
  } else updateCopyMeta(root, r.storedAt, stored, r.entry);
}

/**
 * Copies an unchanged file again whose stored copy went missing (removed by hand, a disk
 * fault): read from the source, checked against the digest just taken, flushed, then
 * linked into place, as any copy. Without it, the refresh would fail on every run.
 */
async function copyAgain(root: string, r: Refresh, to = r.storedAt): Promise<void> {
  if (!r.digest) {
    // A journal written before 2026-12-01 has no digest to check a new copy against.
    throw new Error(
      `Cannot update '${r.storedAt}': the stored copy is missing: run ` +
        `'${commandHint("verify --repair")}'`,
    );
  }
  const tmp = join(root, STATE_DIR, TMP_DIR, `recopy-${crypto.randomUUID()}.tmp`);
  try {
    await loadDigests();
    const staged = stageEntry(r.entry, r.digest.algo, new Uint8Array(READ_BUFFER_BYTES), tmp);
    if (staged.hash !== r.digest.hash) {
      throw new Error(
        `Cannot copy '${r.entry.abs}' again: it changed since it was read: ${RETRIED}`,
      );
    }
    if (r.entry.kind === "file") await syncFiles([tmp]); // a symlink has no data to flush
    if (!(await placeStaged(tmp, nativePath(root, to)))) {
      throw new Error(`Cannot copy '${r.entry.abs}' again: the staged copy '${tmp}' is missing`);
    }
    r.recopied = true;
  } finally {
    removeQuietly(tmp);
  }
}

/**
 * Copies an unchanged file again at the free name planned for it, because something not
 * the tool's own stands at its copy's place (which is left alone). Run again after a
 * crash, a copy of its kind already at the new name was placed there by this action.
 */
async function relocateCopy(root: string, r: Refresh, real: Set<string>): Promise<void> {
  const to = r.relocatedTo!;
  const there = storedEntry(root, to, real);
  if (there === undefined) await copyAgain(root, r, to);
  else if (!isStoredCopy(there) || there.isFile !== (r.entry.kind === "file")) {
    throw new Error(
      `Cannot copy '${r.entry.abs}' again to '${to}': something else is there (a folder, ` +
        "a symlink, or a symlink or file in place of a folder on the way): move it out of " +
        "the backup root, then run again",
    );
  } else if (r.entry.kind === "file") updateCopyMeta(root, to, there, r.entry);
}

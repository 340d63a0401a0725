/**
 * Keeps a damaged stored copy aside while the new one takes its place: the damaged copy is
 * linked at the first free `.backup-tool/damaged/<its path>[.~K]` (never deleted: it is
 * what the backup held), then the new copy renamed over its path. An interruption leaves
 * the copy's path holding the damaged copy or the new one at every moment, and at most the
 * damaged copy's second name in `damaged/`, which the next try takes again.
 */
import { dirname } from "node:path";
import { sameFile } from "../engine/fs/identity.ts";
import { makeFolders, nativePath } from "../engine/fs/fsops.ts";
import { renameWithRetry } from "../engine/fs/portability.ts";
import { moveOnce, placeStaged } from "../engine/fs/move.ts";
import { allocatePath, DAMAGED_DIR, STATE_DIR } from "../core/layout.ts";
import { faultPoint } from "../engine/fault.ts";
import { DiskProbe } from "../engine/foreign.ts";

/** Where damaged copies are moved, inside the backup root's state folder. */
const DAMAGED = `${STATE_DIR}/${DAMAGED_DIR}`;

/**
 * Puts the new copy (at `tmp`) in place of a damaged one, keeping the damaged one at the
 * first free `.backup-tool/damaged/<its path>[.~K]`: linked there first, then replaced by a
 * rename, so its path holds one copy or the other at every moment and a kill in between
 * loses neither. Where hard links are not available, it is moved aside first.
 */
export async function replaceDamaged(root: string, storedAt: string, tmp: string): Promise<string> {
  const at = nativePath(root, storedAt);
  // A name there that is this very file already (a repair killed after linking it there)
  // is taken again: one damaged copy is kept once, not at a second name each try.
  const isThis = (p: string) => sameFile(at, nativePath(root, p));
  const disk = new DiskProbe(root);
  let to: string;
  try {
    to = allocatePath(`${DAMAGED}/${storedAt}`, {
      isFile: (p) => disk.kind(p) === "file" && !isThis(p),
      isDir: (p) => disk.kind(p) === "dir",
    });
  } finally {
    disk.close();
  }
  const aside = nativePath(root, to);
  makeFolders(dirname(aside));
  try {
    if (!isThis(to)) Deno.linkSync(at, aside);
  } catch {
    if (!(await moveOnce(at, aside))) throw new Error("the damaged copy vanished");
    if (!(await placeStaged(tmp, at))) {
      throw new Error("the new copy vanished before it was placed");
    }
    return to;
  }
  faultPoint("aside");
  await renameWithRetry(tmp, at);
  return to;
}

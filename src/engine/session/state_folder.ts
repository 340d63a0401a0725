/**
 * The backup root's state folder (`.backup-tool/`), checked before a writer (`run`,
 * `watch`, `verify --repair`) makes or touches anything in it: the folder and what this
 * tool keeps there must be what it makes there, never a symlink or another kind of entry.
 * Whoever can write the backup root (a disk mounted as a user's, which root backs up to)
 * could otherwise point them elsewhere, and root's next run would empty the folder `tmp`
 * names (the clean-up after an interrupted run), truncate the file `lock` names, or fill
 * the file `reserve` names with zeros. A finding is a configuration error (exit 2) that
 * names the entry; nothing is removed: what the user put there is theirs to look at.
 * Read-only: an interruption leaves nothing.
 */
import { join } from "node:path";
import { PreflightError } from "../errors.ts";
import { lstatOrNone } from "../fs/fsops.ts";
import { STATE_DIR, STATE_ENTRIES } from "../../core/layout.ts";

/**
 * Refuses a state folder (`dir`, inside `backupRoot`) that is a symlink or holds one (or
 * a FIFO, a folder where a file goes…) where the tool keeps its own entries, or a file of
 * its own with another name elsewhere (a hard link: the state and the lock are written in
 * place, so a hard-link snapshot made with `cp -al`, or a link to a file outside, would
 * change with them). Absent entries pass: they are made later. `plan` checks as the run it
 * previews would; `restore`, `history` and `verify` (`reading`) take hard links.
 */
export function checkStateFolder(
  backupRoot: string,
  dir: string,
  { reading = false }: { reading?: boolean } = {},
): void {
  const linked: string[] = []; // all named in one refusal: a `cp -al` links every one
  refuseOther(backupRoot, dir, STATE_DIR, "folder", reading, linked);
  if (!lstatOrNoneOrUnknown(dir)) return;
  for (const [name, kind] of Object.entries(STATE_ENTRIES)) {
    refuseOther(backupRoot, join(dir, name), `${STATE_DIR}/${name}`, kind, reading, linked);
  }
  if (linked.length === 0) return;
  const names = linked.map((n) => `'${n}'`).join(", ");
  const [has, them, each] = linked.length === 1 ? ["has", "it", "it"] : ["have", "them", "each"];
  throw new PreflightError(
    `Cannot use the backup root '${backupRoot}': ${names} ${has} other names (hard links), ` +
      `and the tool writes ${them} in place, which would change the others too (a snapshot ` +
      `made with 'cp -al'?): give ${each} a name of its own (copy it, then move the copy ` +
      "over it), then run again",
  );
}

/**
 * Throws where `path` is of another kind than `kind`; a file of its own with other names
 * (`reading` aside: for a reader, which writes nothing, hard links do no harm) is added
 * to `linked`.
 */
function refuseOther(
  root: string,
  path: string,
  named: string,
  kind: "folder" | "file",
  reading: boolean,
  linked: string[],
): void {
  const info = lstatOrNoneOrUnknown(path);
  if (!info) return;
  const found = kindOf(info);
  if (found === kind) {
    if (!reading && info.isFile && (info.nlink ?? 1) > 1) linked.push(named);
    return;
  }
  const remedy = info.isSymlink
    ? "remove the symlink (what it points to is left alone)"
    : "move it out of the backup root";
  const target = info.isSymlink ? ` to '${readLinkOrNone(path)}'` : "";
  throw new PreflightError(
    `Cannot use the backup root '${root}': '${named}' is a ${found}${target}, where this ` +
      `tool keeps a ${kind} of its own: ${remedy}, then run again`,
  );
}

/** Its lstat; none where nothing is there, or where it cannot be looked at (what comes next,
 * making or opening it, then says why). */
function lstatOrNoneOrUnknown(path: string): Deno.FileInfo | undefined {
  try {
    return lstatOrNone(path);
  } catch {
    return undefined;
  }
}

function kindOf(info: Deno.FileInfo): string {
  if (info.isSymlink) return "symlink";
  if (info.isDirectory) return "folder";
  if (info.isFile) return "file";
  return "special file (a FIFO, socket or device)";
}

function readLinkOrNone(path: string): string {
  try {
    return Deno.readLinkSync(path);
  } catch {
    return "?";
  }
}

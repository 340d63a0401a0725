/**
 * Where a backup may be now that the config's backup root is missing: the same path below
 * a folder beside one on its way (`/media/u/DISK1/backup` for `/media/u/DISK/backup`: a
 * desktop mounts a disk under another name where the first is taken, by a stale folder or
 * a second disk of the same label), named at the end of the refusal: a backup root there
 * whose state records every one of the config's sources at its folder (not another
 * job's backup on another disk, of one folder both back up; a source added since the last
 * run into the missing root leaves it unnamed, which only says less). Bounded: three
 * folders up, a thousand entries in each; never a symlink followed, nor a look into a
 * network file system, an automount or a FUSE one other than a disk's (the mount table
 * tells them without a look: a dead NFS server would hold the refusal forever, an
 * automount mount a share at a look). Reads only: folder listings, and a candidate's
 * state's header, then the state opened immutable (SQLite makes no -wal, -shm or journal
 * beside it, nor takes a lock: the folder looked at is not this run's to change); an
 * interruption leaves nothing.
 */
import { basename, dirname, join, relative, sep } from "node:path";
import { STATE_DB, STATE_DIR } from "../../core/layout.ts";
import { readerUrl } from "../../state/open_reader.ts";
import { checkHeader } from "../../state/schema.ts";
import { DatabaseSync } from "node:sqlite";
import { NETWORK_FILE_SYSTEMS } from "../../state/journal_mode.ts";
import { isBelowPoint, mountTable } from "../fs/mounts.ts";

/** A configured source, as a candidate's state would record it. */
type Source = { name: string; path: string };

/** Folders above the backup root whose siblings are looked in (DISK, then u, then media). */
const LEVELS = 3;
/** Entries looked at, at most, in one folder (a home folder may hold many). */
const ENTRIES = 1_000;

/**
 * A refusal's last words naming a backup found beside the missing `root`
 * (`; a backup is at '…': if its disk is mounted there now, point backup_root at it`), or
 * "" where none is.
 */
export function backupElsewhereHint(root: string, sources: readonly Source[]): string {
  const found = backupBeside(root, sources);
  return found === undefined
    ? ""
    : `; a backup is at '${found}': if its disk is mounted there now, point backup_root at it`;
}

/**
 * The first backup root of all of `sources` found at `root`'s path below a sibling of a
 * folder on its way. `mounts`: the mount table (tests give their own); none looked for
 * where it cannot be read.
 */
export function backupBeside(
  root: string,
  sources: readonly Source[],
  mounts = mountTable(),
): string | undefined {
  if (sources.length === 0 || mounts === undefined) return undefined;
  const away = mounts.filter((m) => mayWait(m.type)).map((m) => m.point);
  let child = root;
  for (let level = 0; level < LEVELS; level++) {
    const parent = dirname(child);
    if (parent === child) return undefined;
    const rest = relative(child, root);
    for (const name of foldersIn(parent)) {
      if (name === basename(child)) continue;
      const candidate = join(parent, name, rest);
      if (away.some((point) => isBelowPoint(point, candidate))) continue;
      if (isBackupOf(join(parent, name), rest, sources)) return candidate;
    }
    child = parent;
  }
  return undefined;
}

/** The names of the folders in `dir`, sorted (none where it cannot be listed). */
function foldersIn(dir: string): string[] {
  const names: string[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isDirectory) names.push(e.name);
      if (names.length >= ENTRIES) break;
    }
  } catch { /* missing, or not ours to list */ }
  return names.sort();
}

/**
 * Whether a file system of this type may hold a look at it: one reached through a network
 * (a server gone holds it until it answers), an automount (a look mounts it) or FUSE (a
 * program answers it: sshfs, rclone), a disk's through FUSE (fuseblk: NTFS, exFAT) aside.
 */
function mayWait(type: string): boolean {
  return NETWORK_FILE_SYSTEMS.has(type) || type === "autofs" ||
    (type.includes("fuse") && type !== "fuseblk");
}

/**
 * Whether `folder`/`rest` is a backup root whose state records all of `sources`, each
 * folder on the way a folder, not a symlink (which may lead anywhere, a mount the table
 * says to keep away from included); false where that cannot be told (a folder this user
 * may not enter): the refusal it ends is said all the same.
 */
function isBackupOf(folder: string, rest: string, sources: readonly Source[]): boolean {
  let at = folder;
  try {
    for (const name of [...rest.split(sep).filter((n) => n !== ""), STATE_DIR]) {
      at = join(at, name);
      if (!Deno.lstatSync(at).isDirectory) return false;
    }
    if (!Deno.lstatSync(join(at, STATE_DB)).isFile) return false;
  } catch {
    return false;
  }
  return recordsAllOf(join(at, STATE_DB), sources);
}

/**
 * Whether the state `db` records each of `sources` (its name at its folder). Opened
 * `immutable`: a reader of a state left in WAL mode (a copy taken while a watch ran)
 * otherwise makes its -wal and -shm files, where none was there to map; its commits not
 * yet in the file, if any, are not read, which at worst leaves the backup unnamed.
 */
function recordsAllOf(db: string, sources: readonly Source[]): boolean {
  try {
    checkHeader(db); // another program's file, or a newer tool's state: not opened
    const url = readerUrl(db, Deno.build.os === "windows");
    if (url === undefined) return false; // a Windows share: not without a URI
    url.search = "immutable=1";
    // Under fewer permissions than -A, Deno takes the URL as a path, which is not there:
    // opened read-only, nothing is made, and the open fails.
    const reader = new DatabaseSync(url, { readOnly: true });
    try {
      const rows = reader.prepare("SELECT name, path FROM sources").all();
      return sources.every((s) => rows.some((r) => s.name === r.name && s.path === r.path));
    } finally {
      reader.close();
    }
  } catch {
    return false; // not a state this version reads, or not readable by this user
  }
}

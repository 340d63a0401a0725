/**
 * Which journal a writer's connection to the state uses: WAL where the file system allows
 * it (checkpointed every WAL_CHECKPOINT_PAGES pages), and elsewhere a rollback journal kept
 * for the session (PERSIST): on FUSE and network file systems, whose shared memory through
 * the mapped -shm file may fail, on blocks smaller than a memory page, and wherever SQLite
 * refuses the switch to WAL. Chosen at each open, after the migration (connection.ts): an
 * interruption leaves the -wal and -shm files or the kept -journal, which SQLite replays or
 * rolls back at the next open.
 */
import type { DatabaseSync } from "node:sqlite";
import { dirname } from "node:path";
import { fileSystemTypeOf } from "../engine/fs/mounts.ts";

/** Sets the journal of the writer's connection `db` to the state `file` (see above). */
export function useJournalFor(db: DatabaseSync, file: string): void {
  const dir = dirname(file);
  if (walWorksOn(fileSystemTypeOf(dir)) && blocksHoldPages(dir)) useWalIfPossible(db);
  else useRollbackJournal(db);
}

/**
 * WAL pages after which a commit copies the WAL back into the database (SQLite's default is
 * 1,000). A checkpoint writes each page the WAL holds once, however many batches wrote it,
 * and the hash index's pages are written by nearly every batch of a large run (digests
 * arrive in random order). 8,192 pages (32 MiB at SQLite's 4 KiB pages) took a
 * 100,000-file first backup from 18.0-19.0 s to 16.4-16.6 s; the rest is checkpointed at
 * close, when the state leaves WAL mode.
 */
const WAL_CHECKPOINT_PAGES = 8192;

/**
 * Whether SQLite's WAL mode can work on a file system of this type (undefined: not known,
 * a local disk on Windows). WAL needs memory shared through the mapped -shm file: FUSE file
 * systems (FAT and exFAT sticks through fusefat or exfat-fuse, sshfs; macFUSE on macOS)
 * and network ones (a NAS through SMB, NFS, AFP or WebDAV, on Linux, macOS or Windows) may
 * accept the switch to WAL and then fail every statement with "disk I/O error" (seen with
 * fusefat), leaving a database that no connection can open again; and SQLite says WAL does
 * not work over a network file system at all. There a rollback journal is used.
 */
export function walWorksOn(type: string | undefined): boolean {
  if (type === undefined) return true;
  return !type.includes("fuse") && !NETWORK_FILE_SYSTEMS.has(type);
}

/**
 * Whether the file system's blocks are at least SHM_STRIDE_BYTES large. SQLite extends its
 * mapped -shm file by writing one byte at the end of each 4 KiB stretch, which allocates
 * the whole stretch only where a block is that large: on ext4 with 1 KiB blocks (what mkfs makes of a disk
 * under 512 MiB) the rest of each page is allocated at its first write through the
 * mapping, which a full disk answers with SIGBUS. A run on such a disk, full, died with
 * exit 135 and no word (hunt, 2026-12-03); there a rollback journal is used.
 */
function blocksHoldPages(dir: string): boolean {
  try {
    const { blksize } = Deno.statSync(dir);
    return blksize === null || blksize === 0 || blksize >= SHM_STRIDE_BYTES;
  } catch {
    return true; // opening the state says what is wrong
  }
}

/**
 * The stride of SQLite's writes that extend the -shm file: a constant 4096 in its unix VFS
 * (`unixShmMap`: `static const int pgsz = 4096`), whatever the memory page. A larger memory
 * page (16 KiB on Apple Silicon) then covers four stretches, each allocated by its own
 * write, so blocks of 4 KiB (APFS's) leave nothing unallocated behind the mapping.
 */
const SHM_STRIDE_BYTES = 4096;

/** File systems reached through a network (also where a look may wait on a server). */
export const NETWORK_FILE_SYSTEMS: ReadonlySet<string> = new Set([
  "nfs",
  "nfs4",
  "cifs",
  "smb3",
  "smbfs",
  "afpfs",
  "webdav",
  "9p",
  "afs",
  "ceph",
  "glusterfs",
  "lustre",
  "gpfs",
  "virtiofs",
]);

function useWalIfPossible(db: DatabaseSync): void {
  try {
    const r = db.prepare("PRAGMA journal_mode = WAL").get() as { journal_mode: string };
    if (r.journal_mode !== "wal") useRollbackJournal(db);
    else db.exec(`PRAGMA wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
  } catch {
    useRollbackJournal(db);
  }
}

/**
 * A rollback journal kept for the session (PERSIST: its header zeroed after each commit, the
 * file left), as WAL's files are: a journal made anew for each commit needs a free inode
 * each time, and a disk out of inodes (the batch's staged copies took the last ones) failed
 * every commit with "unable to open database file", run after run. `close` removes it.
 */
function useRollbackJournal(db: DatabaseSync): void {
  db.exec("PRAGMA journal_mode = PERSIST");
}

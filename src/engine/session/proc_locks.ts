/**
 * Who holds a flock on the lock file, as Linux's /proc/locks tells: read to find out whether
 * the record in the backup root's lock file (lock.ts) names the process that holds it, or
 * one that died (a killed holder's record, read while a run taking the lock over has not
 * written over it yet, or while a program that writes none, `flock`, holds the lock). Off
 * Linux, and wherever /proc cannot tell, the record is taken at its word.
 *
 * Reads /proc only, and writes nothing: an interruption leaves nothing behind.
 */
import { hostname } from "node:os";
import { join } from "node:path";

/**
 * Whether the lock file open as `f` is held by a process other than the one `record` names
 * (Linux: /proc/locks names who holds each lock): a record a killed holder left, its pid
 * gone or given to another process since, read while something else holds the lock. False
 * wherever that cannot be told: another host's record, no /proc/locks, a holder in another
 * pid namespace than the one /proc shows pids in (left out there, or shown as pid 0), or in
 * one below it (a container, `unshare --pid`, a Flatpak sandbox, with the host's name): its
 * record names it by the pid it has in its own, which is not the one /proc/locks shows.
 */
export function namesAnotherHolder(record: string, f: Deno.FsFile): boolean {
  if (Deno.build.os !== "linux") return false;
  try {
    const { pid, host } = JSON.parse(record);
    const { ino, dev } = f.statSync();
    if (host !== hostname() || !Number.isSafeInteger(pid) || !ino) return false;
    const holders = lockHolders(ino, dev);
    return holders.length > 0 &&
      holders.every((p) => p > 0 && p !== pid && pidsAsProcShows(readProcStatus(p), p));
  } catch {
    return false;
  }
}

/**
 * Reads of /proc/locks made while it shows no holder of the lock file, which the caller
 * found locked: a lock that another process takes or drops between two of Linux's
 * renderings of the table (a page of it each) shifts the lines after it, and a read misses
 * the one sought (a test suite's SQLite connections lock and unlock many times a second).
 * Three processes churning 120 locks here made about one read in 30 miss it; five misses
 * in a row, about 1 in 40 million. Past them the lock is taken as hidden (a file system
 * whose /proc/locks numbers are not stat's) or freed meanwhile: the record is believed.
 */
const PROC_LOCKS_TRIES = 5;

/** The pids holding a flock on inode `ino` of device `dev`, as /proc/locks shows them. */
function lockHolders(ino: number, dev: number): number[] {
  for (let tried = 1;; tried++) {
    const holders = flockHolders(readProcLocks(), ino, dev);
    if (holders.length > 0 || tried >= PROC_LOCKS_TRIES) return holders;
  }
}

/**
 * A read size that takes /proc/locks a whole page (Linux's rendering buffer) at a time:
 * read in small pieces, as Deno.readTextFileSync reads it (32 bytes first), each line is
 * rendered from the table as it is by then, so a table shorter than a page could still
 * miss a line.
 */
const PROC_LOCKS_CHUNK = 1 << 16;

/** /proc/locks's text, read in PROC_LOCKS_CHUNK pieces. */
function readProcLocks(): string {
  using f = Deno.openSync("/proc/locks", { read: true });
  const buf = new Uint8Array(PROC_LOCKS_CHUNK);
  const decoder = new TextDecoder();
  let text = "";
  for (let n = f.readSync(buf); n !== null && n > 0; n = f.readSync(buf)) {
    text += decoder.decode(buf.subarray(0, n), { stream: true });
  }
  return text + decoder.decode();
}

/** What /proc says of process `pid` (its status), "" where that cannot be read. */
function readProcStatus(pid: number): string {
  try {
    return Deno.readTextFileSync(join("/proc", String(pid), "status"));
  } catch {
    return "";
  }
}

/**
 * Whether the process whose /proc status is `status`, shown there as `pid`, knows itself by
 * that pid: it is in the pid namespace /proc shows pids in, not one below it ("NSpid:" names
 * its pid in each, from /proc's down to its own; Linux 4.1 and later).
 */
export function pidsAsProcShows(status: string, pid: number): boolean {
  const m = /^NSpid:[ \t]*(.*)$/m.exec(status);
  return m !== null && m[1].trim() === String(pid);
}

/**
 * The pids /proc/locks `table` shows holding a flock on inode `ino` (waiters left out) of
 * the device `dev` (stat's number): the lines of other file systems' files of that inode
 * number are another lock's (a test suite's, init's: a record naming that pid was then
 * taken for the holder). Where no line of that inode is on that device (a file system whose
 * stat and /proc/locks name devices apart, as overlayfs may), the inode's lines alone.
 */
export function flockHolders(table: string, ino: number, dev?: number): number[] {
  const lines: { pid: number; device: string }[] = [];
  for (const line of table.split("\n")) {
    const m = /^\d+: FLOCK +\S+ +\S+ +(-?\d+) +([0-9a-f]+:[0-9a-f]+):(\d+) /.exec(line);
    if (m && Number(m[3]) === ino) lines.push({ pid: Number(m[1]), device: m[2] });
  }
  const device = dev === undefined ? undefined : deviceName(dev);
  const onDevice = lines.filter((l) => l.device === device);
  return (onDevice.length > 0 ? onDevice : lines).map((l) => l.pid);
}

/**
 * A device number as /proc/locks writes it, `major:minor` in hex (Linux's encoding: the
 * minor's low 8 bits, then the major's 12, then the minor's upper bits; the major's upper
 * bits above bit 32).
 */
export function deviceName(dev: number): string {
  const d = BigInt(dev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & 0xfffff000n);
  const minor = (d & 0xffn) | ((d >> 12n) & 0xffffff00n);
  return `${major.toString(16).padStart(2, "0")}:${minor.toString(16).padStart(2, "0")}`;
}

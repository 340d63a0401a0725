/**
 * Which files in log_dir are this tool's run logs: named `<UTC time>-<command>[-N].log`,
 * and empty or starting as each of them does; with an owner, only those of sessions for
 * that backup root (several jobs may share a log_dir). Also their order by name, and the
 * logs naming a backup root. Reads only (each file's first line; an older version's log up
 * to a line naming a file): an interruption leaves nothing behind. Logs of versions from
 * before 2026-12-03 name no backup root: they count for a job whose sources they name
 * (`logsNamingNoRoot`).
 */
import { basename, join } from "node:path";
import { oneLine } from "./one_line.ts";

/** `<UTC time>-<command>[-N].log`, as `RunLog.open` names them: nothing else is a run log. */
const RUN_LOG_NAME = /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z-[a-z]+(-\d+)?\.log$/;

/** Whether a file name is one of this tool's run logs. */
export function isRunLogName(name: string): boolean {
  return RUN_LOG_NAME.test(name);
}

/** The first line of every file of a log: a session's start, or where it went on from. */
const FIRST_LINE = /^\S+ (Run started: |LOG continued from )/;
/** How a first line names the backup root its session was for (since 2026-12-03). */
const OWNER = / for backup root '(.*)'$/;
/** Longest first line read: a backup root's path is at most PATH_MAX (4096) bytes. */
const FIRST_LINE_BYTES = 8192;

/**
 * Whether a file in log_dir is one of this tool's run logs: named as they are, and empty
 * (a run killed before its first line reached the disk) or starting as each of them does.
 * With `owner`, only a log of a session for that backup root, or of a version that did
 * not name it: several jobs may share a log_dir, and one job's rotation must not remove
 * another's logs (nor a file of someone's that merely has such a name).
 */
export function isRunLogFile(path: string, owner?: string): boolean {
  if (!isRunLogName(basename(path))) return false;
  const first = firstLine(path);
  if (first === undefined) return false; // not readable as a file: not one to remove
  if (first === "") return true;
  if (!FIRST_LINE.test(first)) return false;
  const named = ownerNamed(first);
  return owner === undefined || named === undefined || namesOwner(named, owner);
}

/**
 * Whether a log's first line names the backup root `owner`: as this version writes it, or
 * as versions before 2026-12-03 did, which wrote a backslash in a path as it is (a root
 * `bk\root` was named so; it is now `bk\\root`).
 */
function namesOwner(named: string, owner: string): boolean {
  return named === oneLine(owner) || named === oneLine(owner, "windows");
}

/** The backup root a log's first line names (undefined: a version that did not name it). */
function ownerNamed(first: string): string | undefined {
  return OWNER.exec(first)?.[1];
}

/**
 * The run logs in `dir` whose first line names the backup root `owner` (a session that
 * started there, with a state), by name, oldest first; none where `dir` cannot be listed.
 */
export function logsNaming(dir: string, owner: string): string[] {
  const names: string[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (!e.isFile || !isRunLogName(e.name)) continue;
      const first = firstLine(join(dir, e.name));
      const named = first && FIRST_LINE.test(first) ? ownerNamed(first) : undefined;
      if (named !== undefined && namesOwner(named, owner)) {
        names.push(e.name);
      }
    }
  } catch { /* no log_dir yet, or one this user cannot list */ }
  return names.sort(compareRunLogNames);
}

/**
 * The run logs in `dir` whose first line names no backup root (a session of a version from
 * before 2026-12-03) and whose action lines name one of `sources` (by name: `SKIP:
 * photos/a.jpg`), by name, oldest first: such a log names no root, but its sources tell
 * whether it may be this job's; another job's sharing `dir` does not count. Empty ones, and
 * ones that name no file, are not counted: they tell nothing. A log is read up to the first
 * line that names one of them.
 */
export function logsNamingNoRoot(dir: string, sources: readonly string[]): string[] {
  const names: string[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (!e.isFile || !isRunLogName(e.name)) continue;
      const path = join(dir, e.name);
      const first = firstLine(path);
      if (!first || !FIRST_LINE.test(first) || ownerNamed(first) !== undefined) continue;
      if (namesASource(path, sources)) names.push(e.name);
    }
  } catch { /* no log_dir yet, or one this user cannot list */ }
  return names.sort(compareRunLogNames);
}

/** An action line and the source path it names first (`… BACKUP: photos/a.jpg → …`). */
const SOURCE_LINE = /^\S+ (?:BACKUP|UPDATED|DUPLICATE|RECOPIED|SKIP|STATE REMOVE|EXCLUDED): (.*)$/;

/** Whether a line of the log at `path` names a file of one of `sources` (source names). */
function namesASource(path: string, sources: readonly string[]): boolean {
  const prefixes = sources.map((name) => `${name}/`);
  const names = (line: string) => {
    const named = SOURCE_LINE.exec(line)?.[1];
    return named !== undefined && prefixes.some((p) => named.startsWith(p));
  };
  try {
    if (!Deno.lstatSync(path).isFile) return false; // a FIFO would hold the open forever
    using f = Deno.openSync(path, { read: true });
    const decoder = new TextDecoder();
    const buf = new Uint8Array(1 << 16);
    let rest = "";
    for (let n = f.readSync(buf); n !== null; n = f.readSync(buf)) {
      const lines = (rest + decoder.decode(buf.subarray(0, n), { stream: true })).split("\n");
      rest = lines.pop() ?? "";
      if (lines.some(names)) return true;
    }
    return names(rest);
  } catch {
    return false;
  }
}

/** A file's first line (up to FIRST_LINE_BYTES); undefined where it cannot be read. */
function firstLine(path: string): string | undefined {
  try {
    // Only a regular file is opened: a FIFO of such a name would hold the open forever.
    if (!Deno.lstatSync(path).isFile) return undefined;
    using f = Deno.openSync(path, { read: true });
    const buf = new Uint8Array(FIRST_LINE_BYTES);
    const n = f.readSync(buf) ?? 0;
    return new TextDecoder().decode(buf.subarray(0, n)).split("\n", 1)[0];
  } catch {
    return undefined;
  }
}

/**
 * Run logs oldest first by name: by time, then by the `-N` a log made in the same
 * millisecond gets (which plain string order puts before the first one: '-' < '.').
 */
export function compareRunLogNames(a: string, b: string): number {
  const key = (name: string) => {
    const m = name.match(RUN_LOG_NAME);
    const n = Number(m?.[1]?.slice(1) ?? 1);
    return `${name.slice(0, name.indexOf("Z") + 1)} ${String(n).padStart(10, "0")}`;
  };
  const [ka, kb] = [key(a), key(b)];
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

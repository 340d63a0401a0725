/**
 * Which kind of file system holds a folder, on Linux: from /proc/self/mountinfo, the type
 * of the longest mount point containing the folder's real path. Used where a file system's
 * kind decides what can be trusted of it (syncfs, SQLite's WAL). Reads only.
 */
import { isAbsolute, sep } from "node:path";

/** The file system type holding `dir` ("ext4", "fuseblk", "nfs4", ...); undefined off Linux. */
export function fileSystemTypeOf(dir: string): string | undefined {
  if (Deno.build.os !== "linux") return undefined;
  try {
    return fileSystemType(Deno.readTextFileSync("/proc/self/mountinfo"), Deno.realPathSync(dir));
  } catch {
    return undefined;
  }
}

/**
 * The type of the file system mounted at the longest mount point containing `path`, from
 * the text of /proc/self/mountinfo (`id parent major:minor root mountpoint options ... -
 * type source superoptions`; spaces and backslashes in paths are escaped as octal).
 */
export function fileSystemType(mountinfo: string, path: string): string | undefined {
  if (!isAbsolute(path)) return undefined;
  let best: { point: string; type: string } | undefined;
  for (const line of mountinfo.split("\n")) {
    const [before, after] = line.split(" - ");
    if (after === undefined) continue;
    const point = unescapeOctal(before.split(" ")[4] ?? "");
    const type = after.split(" ")[0];
    // A later mount on the same point hides the earlier one, so ties go to the later line.
    if (!contains(point, path) || (best && best.point.length > point.length)) continue;
    best = { point, type };
  }
  return best?.type;
}

function contains(point: string, path: string): boolean {
  if (point === sep) return true;
  return path === point || path.startsWith(`${point}${sep}`);
}

function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * Which kind of file system holds a folder, on Linux: from /proc/self/mountinfo, the type
 * of the longest mount point containing the folder's real path. Used where a file system's
 * kind decides what can be trusted of it (syncfs, SQLite's WAL). Also where else a folder
 * can be seen (bind mounts), so that a restore never writes into the backup root by
 * another way. Reads only.
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

/**
 * Every other path at which `dir` (a real path), or a folder inside it, is mounted too
 * (bind mounts of it, of a folder inside it, or of a folder holding it); none off Linux.
 */
export function otherMountsOf(dir: string): string[] {
  if (Deno.build.os !== "linux") return [];
  try {
    return otherMounts(Deno.readTextFileSync("/proc/self/mountinfo"), dir);
  } catch {
    return [];
  }
}

/** `otherMountsOf` from the text of /proc/self/mountinfo. */
export function otherMounts(mountinfo: string, dir: string): string[] {
  const mounts = mountinfo.split("\n").filter((l) => l.includes(" - ")).map((line) => {
    const f = line.split(" - ")[0].split(" ");
    return { dev: f[2], root: unescapeOctal(f[3] ?? ""), point: unescapeOctal(f[4] ?? "") };
  });
  // The mount `dir` is seen through, and where it lies in that file system.
  let home: (typeof mounts)[number] | undefined;
  for (const m of mounts) {
    if (contains(m.point, dir) && !(home && home.point.length > m.point.length)) home = m;
  }
  if (!home) return [];
  const inside = joinPath(home.root, dir.slice(home.point === sep ? 0 : home.point.length));
  const out: string[] = [];
  for (const m of mounts) {
    if (m.dev !== home.dev || m.point === home.point) continue;
    if (contains(m.root, inside)) out.push(joinPath(m.point, inside.slice(lengthOf(m.root))));
    else if (contains(inside, m.root)) out.push(m.point);
  }
  return out.filter((p) => p !== dir);
}

const lengthOf = (root: string) => (root === sep ? 0 : root.length);

function joinPath(a: string, rest: string): string {
  if (rest === "") return a;
  return a === sep ? rest : `${a}${rest}`;
}

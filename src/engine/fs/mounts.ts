/**
 * Which kind of file system holds a folder: on Linux from /proc/self/mountinfo, the type
 * of the longest mount point containing the folder's real path; on macOS from the mount
 * table `mount` prints, alike; on Windows a network share only, told by its UNC path (a
 * mapped drive's real path is one). Used where a file system's kind decides what can be
 * trusted of it (syncfs, SQLite's WAL). Also where else a folder can be seen (bind
 * mounts), so that a restore never writes into the backup root by another way; whether
 * the disk /etc/fstab mounts over a folder is mounted, and whether a folder would be made
 * where removable disks are mounted (a backup disk forgotten). Reads only.
 */
import { basename, dirname, isAbsolute, join, relative, sep } from "node:path";

/**
 * The file system type holding `dir` ("ext4", "fuseblk", "nfs4", "smbfs", ...); undefined
 * where it cannot be told (on Windows, any local disk).
 */
export function fileSystemTypeOf(dir: string): string | undefined {
  if (Deno.build.os === "windows") return windowsFileSystemType(realPathOr(dir));
  if (Deno.build.os === "darwin") {
    try {
      const mount = new Deno.Command("/sbin/mount", { stdout: "piped", stderr: "null" });
      const out = mount.outputSync();
      if (!out.success) return undefined;
      return darwinFileSystemType(new TextDecoder().decode(out.stdout), Deno.realPathSync(dir));
    } catch {
      return undefined;
    }
  }
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
  return longestMountOf(linuxMounts(mountinfo), path)?.type;
}

/**
 * On Windows, "smbfs" for a folder on a network share (`\\server\share\…`, as the real
 * path of a mapped drive reads too, or `\\?\UNC\server\…`); undefined for anything else,
 * whose kind cannot be told without the Windows API.
 */
export function windowsFileSystemType(path: string): string | undefined {
  return /^(\\\\\?\\UNC\\|[\\/]{2}(?![?.][\\/]))[^\\/]/i.test(path) ? "smbfs" : undefined;
}

/**
 * The type of the file system mounted at the longest mount point containing `path`, from
 * what macOS's `mount` prints, a line a mount: `//me@nas/share on /Volumes/share (smbfs,
 * nodev, nosuid, mounted by me)`.
 */
export function darwinFileSystemType(mounts: string, path: string): string | undefined {
  return longestMountOf(darwinMounts(mounts), path)?.type;
}

/**
 * The mount of `mounts` at the longest point containing `path` (absolute): a later mount
 * on the same point hides the earlier one, so ties go to the later.
 */
function longestMountOf(mounts: readonly Mount[], path: string): Mount | undefined {
  if (!isAbsolute(path)) return undefined;
  let best: Mount | undefined;
  for (const m of mounts) {
    if (!contains(m.point, path) || (best && best.point.length > m.point.length)) continue;
    best = m;
  }
  return best;
}

/** A mount: its point (as the mount table writes it) and its file system's type. */
export interface Mount {
  point: string;
  type: string;
}

/**
 * Every mount, from /proc/self/mountinfo on Linux and what `mount` prints on macOS; none
 * elsewhere. Undefined where the table cannot be read. Reads only the table, never a
 * mount point (which would wait on an NFS server that no longer answers).
 */
export function mountTable(): Mount[] | undefined {
  try {
    if (Deno.build.os === "linux") {
      return linuxMounts(Deno.readTextFileSync("/proc/self/mountinfo"));
    }
    if (Deno.build.os !== "darwin") return [];
    const mount = new Deno.Command("/sbin/mount", { stdout: "piped", stderr: "null" });
    const out = mount.outputSync();
    return out.success ? darwinMounts(new TextDecoder().decode(out.stdout)) : undefined;
  } catch {
    return undefined;
  }
}

/** The mounts of /proc/self/mountinfo's text (see `fileSystemType`). */
export function linuxMounts(mountinfo: string): Mount[] {
  return mountinfo.split("\n").filter((line) => line.includes(" - ")).map((line) => {
    const [before, after] = line.split(" - ");
    return { point: unescapeOctal(before.split(" ")[4] ?? ""), type: after.split(" ")[0] };
  });
}

/** The mounts of what macOS's `mount` prints (see `darwinFileSystemType`). */
export function darwinMounts(mounts: string): Mount[] {
  return mounts.split("\n").flatMap((line) => {
    const m = / on (\/.*) \(([^,()]+)[,)]/.exec(line);
    return m ? [{ point: m[1], type: m[2] }] : [];
  });
}

/** Whether `path` lies at or below the mount point `point`. */
export function isBelowPoint(point: string, path: string): boolean {
  return contains(point, path);
}

/** A path's real path, or the path itself where it cannot be resolved. */
function realPathOr(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
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

/**
 * The mount point `fstab` (the file system table, /etc/fstab) names for `path` when nothing
 * is mounted there now: the longest one containing `path`, "/" aside. `path` then lies on
 * the disk below that mount point, not on the one the table puts there (a backup disk not
 * mounted). Undefined where the table names none, where it (or a folder between it and
 * `path`) is mounted, or off Linux.
 */
export function unmountedTablePointOf(path: string, fstab = "/etc/fstab"): string | undefined {
  if (Deno.build.os !== "linux") return undefined;
  try {
    const table = Deno.readTextFileSync(fstab);
    const mountinfo = Deno.readTextFileSync("/proc/self/mountinfo");
    return unmountedTablePoint(table, mountinfo, path, resolveTablePoint);
  } catch {
    return undefined; // no table, or no mount table to compare it with: nothing to tell
  }
}

/**
 * The folders at or inside `folder` on which `fstab` mounts a disk where nothing is mounted
 * now (a data disk inside a source that did not come up at boot, `nofail`): what lies
 * there is the empty folder below, not the disk's files. Each as the mount table writes it
 * (its real path), and relative to `folder` ("" for itself, `/` between names). None off
 * Linux, or where either table cannot be read.
 */
export function unmountedTablePointsIn(
  folder: string,
  fstab = "/etc/fstab",
): { point: string; rel: string }[] {
  if (Deno.build.os !== "linux") return [];
  try {
    const table = Deno.readTextFileSync(fstab);
    const mountinfo = Deno.readTextFileSync("/proc/self/mountinfo");
    return unmountedTablePoints(table, mountinfo, realPathOr(folder), resolveTablePoint);
  } catch {
    return [];
  }
}

/**
 * A table's mount point as the mount table writes it: its folder resolved, not the point
 * itself, since looking at that would wait on whatever is mounted there (an NFS server that
 * no longer answers).
 */
function resolveTablePoint(point: string): string {
  return join(realPathOr(dirname(point)), basename(point));
}

/**
 * `unmountedTablePointsIn` from the texts of fstab and /proc/self/mountinfo, for `real` (a
 * real path). `resolve` (see `unmountedTablePoint`) is asked once for each of the table's
 * points, however many there are.
 */
export function unmountedTablePoints(
  fstab: string,
  mountinfo: string,
  real: string,
  resolve: (point: string) => string = (p) => p,
): { point: string; rel: string }[] {
  const points = tablePoints(fstab).map(resolve);
  const mounted = mountPoints(mountinfo);
  return points.filter((point) =>
    point !== sep && contains(real, point) && unmountedPointAmong(points, mounted, point) === point
  ).map((point) => ({ point, rel: relative(real, point).split(sep).join("/") }));
}

/** The mount points a table's lines name, as written (`/` as "", swap's "none" left out). */
function tablePoints(fstab: string): string[] {
  return fstab.split("\n").flatMap((line) => {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 2 || fields[0].startsWith("#")) return [];
    const written = unescapeOctal(fields[1]).replace(/\/+$/, "");
    return isAbsolute(written) ? [written] : [];
  });
}

/** The mount points of /proc/self/mountinfo's text, each line's. */
function mountPoints(mountinfo: string): string[] {
  return mountinfo.split("\n").filter((line) => line.includes(" - "))
    .map((line) => unescapeOctal(line.split(" ")[4] ?? ""));
}

/**
 * `unmountedTablePointOf` from the texts of fstab (`device mountpoint type options …`, a
 * line a mount, `#` comments, spaces in paths written `\040`) and /proc/self/mountinfo.
 * `resolve` gives a table's mount point as the mount table writes it (its real path).
 */
export function unmountedTablePoint(
  fstab: string,
  mountinfo: string,
  path: string,
  resolve: (point: string) => string = (p) => p,
): string | undefined {
  return unmountedPointAmong(tablePoints(fstab).map(resolve), mountPoints(mountinfo), path);
}

/**
 * Of the table's mount points `points` (resolved), the longest containing `path` ("/"
 * aside), where none of `mounted` (the mount table's points) is it or a folder between it
 * and `path`.
 */
function unmountedPointAmong(
  points: readonly string[],
  mounted: readonly string[],
  path: string,
): string | undefined {
  let best: string | undefined;
  for (const point of points) {
    if (point !== sep && contains(point, path) && !(best && best.length >= point.length)) {
      best = point;
    }
  }
  if (best === undefined) return undefined;
  // Mounted there, or on a folder between it and `path` (a disk mounted by hand, or by
  // another tool, below it): `path` then lies on that disk, not on the one below the point.
  const table = best;
  return mounted.some((point) => contains(table, point) && contains(point, path))
    ? undefined
    : table;
}

/**
 * Folders in which removable disks get a folder of their own while they are mounted, one
 * removed again when they are unmounted: udisks (GNOME, KDE, most desktops) mounts at
 * /media/<user>/<label> (Debian, Ubuntu) or /run/media/<user>/<label> (Fedora, Arch), macOS
 * at /Volumes/<name>; and /mnt is where a disk is mounted by hand.
 */
export const REMOVABLE_MEDIA_FOLDERS = ["/media", "/run/media", "/mnt", "/Volumes"];

/**
 * The first folder missing on the way to `path` (it included) where making it would put
 * it on the file system of a folder in `bases` (REMOVABLE_MEDIA_FOLDERS), not on a disk
 * mounted below that folder: for a backup root `/media/alice/Disk/backup`, the folder
 * `/media/alice/Disk` while that disk is not mounted (its parent, `/media/alice`, then lies
 * on the same file system as `/media`), but not `/media/alice/Disk/backup` while it is.
 * Making it would put a new backup on the system disk, whatever the logs and /etc/fstab
 * say. Undefined where nothing on the way is missing, or it would be made elsewhere; off
 * Windows only.
 */
export function missingMediaFolderOf(
  path: string,
  bases: readonly string[] = REMOVABLE_MEDIA_FOLDERS,
): string | undefined {
  if (Deno.build.os === "windows" || !isAbsolute(path)) return undefined;
  let missing: string | undefined;
  for (let p = path; deviceOf(p) === undefined; p = dirname(p)) {
    missing = p;
    if (dirname(p) === p) return undefined;
  }
  if (missing === undefined) return undefined;
  const first = missing;
  const base = bases.find((b) => first.startsWith(b + sep));
  const there = deviceOf(dirname(first));
  const onBase = typeof there === "number" && base !== undefined && there === deviceOf(base);
  return onBase ? first : undefined;
}

/**
 * The device of the file system holding `path` (a symlink followed); undefined where
 * nothing is there, or its device cannot be told (then counted as there: nothing to say).
 */
function deviceOf(path: string): number | undefined | null {
  try {
    return Deno.statSync(path).dev;
  } catch (e) {
    return e instanceof Deno.errors.NotFound ? undefined : null;
  }
}

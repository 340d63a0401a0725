/**
 * The sources of a backup read without its config (`--backup-root`, bare_root.ts), as the
 * state recorded them: each at the folder the last run that had it in its config found it
 * at, and which of them a restore in place may write back to. Not one recorded at a path
 * that names no place on this system (a Windows backup read on Linux), nor one whose
 * folder is another recorded source's, or holds or lies in it: the config never has two
 * such sources at once, so one of them was left out of it since (a source renamed, kept at
 * its folder), its files as they were then, and written back in place they would stand in
 * for the other's newer ones. Those are restored under `--to` only. Pure.
 */
import { posix, win32 } from "node:path";
import type { Source } from "../config/sources.ts";

/** The config file's place in a config made from a backup root: there is none. */
export const NO_CONFIG_FILE = "";

/** The recorded sources a restore in place writes back to, and why it may not to the others. */
interface InPlaceSources {
  sources: Source[];
  /** By source name: why its files are restored under `--to` only (ends a sentence). */
  refused: Map<string, string>;
}

/** Sorts the recorded sources (`paths`: name → folder, in record order) as `InPlaceSources`. */
export function inPlaceSources(
  paths: ReadonlyMap<string, string>,
  os: typeof Deno.build.os = Deno.build.os,
): InPlaceSources {
  const out: InPlaceSources = { sources: [], refused: new Map() };
  const full = [...paths].filter(([name, path]) => {
    if (isFullPath(path, os)) return true;
    out.refused.set(name, `was backed up from '${path}', not a full path on this system`);
    return false;
  });
  for (const [name, path] of full) {
    const other = full.find(([n, p]) => n !== name && overlaps(path, p, os));
    if (other === undefined) out.sources.push({ name, path });
    else out.refused.set(name, overlapReason(path, other));
  }
  return out;
}

function overlapReason(path: string, [name, other]: [string, string]): string {
  return `was backed up from '${path}' and source '${name}' from '${other}', one folder or ` +
    "one inside the other: one of them was left out of the config since, and the backup " +
    "alone cannot tell which holds the newer files";
}

/**
 * Whether `path` names one place on `os`: on Windows a drive's (`C:\`) or a share's
 * (`\\server\share`), not a rooted `/home/u` (which node:path calls absolute, on the
 * current drive).
 */
function isFullPath(path: string, os: typeof Deno.build.os): boolean {
  return os === "windows" ? /^([A-Za-z]:[\\/]|\\\\)/.test(path) : posix.isAbsolute(path);
}

/**
 * Whether two folders are one, or one lies inside the other: on Windows letter case aside,
 * on macOS letter case and Unicode form aside (APFS and HFS+ ignore both by default: a
 * source folder renamed `Notes` to `notes` between runs is recorded under both spellings).
 */
function overlaps(a: string, b: string, os: typeof Deno.build.os): boolean {
  const path = os === "windows" ? win32 : posix;
  const fold = os === "windows"
    ? (p: string) => p.toLowerCase()
    : os === "darwin"
    ? (p: string) => p.normalize("NFC").toLowerCase()
    : (p: string) => p;
  const [x, y] = [fold(a), fold(b)];
  const inside = (p: string, folder: string) => {
    const rel = path.relative(folder, p);
    return rel === "" ||
      (rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
  };
  return inside(x, y) || inside(y, x);
}

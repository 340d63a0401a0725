/**
 * The scanner: walks each source (or parts of it), never following symlinks, and returns
 * the regular files and symlinks it found, sorted by logical path. Excluded paths (the
 * config's gitignore-style patterns), the backup root and the log folder are skipped; so
 * are FIFOs, sockets and devices, which are reported, never opened. A folder that cannot
 * be read is reported and remembered, so the paths below it are not mistaken for deleted.
 * Read-only: an interruption leaves nothing behind.
 */
import { join, relative, sep } from "node:path";
import { isInside } from "../config/paths.ts";
import ignore, { type Ignore } from "ignore";
import type { Source } from "../config/config.ts";
import type { ScanEntry } from "./types.ts";
import { compareCodePoints } from "./merge.ts";
import { errorText } from "./errors.ts";

export interface ScanProblem {
  path: string;
  message: string;
}

export interface ScanResult {
  entries: ScanEntry[];
  /** Special files skipped (FIFOs, sockets, devices), with their kind. */
  specials: ScanProblem[];
  /** Entries that could not be read: reported, and the run exits 1. */
  problems: ScanProblem[];
  /** Logical folder paths that could not be listed: nothing below them counts as deleted. */
  unreadable: string[];
}

export interface ScanOptions {
  exclude: string[];
  /** Absolute folders never entered (the backup root, the log folder). */
  skipDirs: string[];
  /** Per source name, the folders or files to scan (absolute); all of it when absent. */
  scope?: Map<string, string[]>;
}

/** A gitignore-style matcher; with no patterns, one that skips the matching work. */
export function createMatcher(patterns: string[]): Pick<Ignore, "ignores"> {
  return patterns.length === 0 ? { ignores: () => false } : ignore().add(patterns);
}

/** The `/`-separated path of `abs` inside `root`. */
export function relPath(root: string, abs: string): string {
  return relative(root, abs).split(sep).join("/");
}

export function scanSources(sources: Source[], opts: ScanOptions): ScanResult {
  const result: ScanResult = { entries: [], specials: [], problems: [], unreadable: [] };
  const matcher = createMatcher(opts.exclude);
  const skip = new Set(opts.skipDirs);
  const skipped = (abs: string) => opts.skipDirs.some((d) => abs === d || isInside(abs, d));
  for (const source of sources) {
    const starts = opts.scope ? opts.scope.get(source.name) ?? [] : [source.path];
    for (const start of starts) if (!skipped(start)) walk(source, start, matcher, skip, result);
  }
  result.entries.sort((a, b) => compareCodePoints(a.path, b.path));
  return result;
}

/** Depth-first walk; each stack item carries its absolute and logical path. */
function walk(
  source: Source,
  start: string,
  matcher: Pick<Ignore, "ignores">,
  skip: Set<string>,
  out: ScanResult,
) {
  const rel0 = relPath(source.path, start);
  const stack: [string, string][] = [[start, rel0]];
  while (stack.length > 0) {
    const [abs, rel] = stack.pop()!;
    const logical = rel === "" ? source.name : `${source.name}/${rel}`;
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(abs);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue; // gone since it was listed
      out.problems.push({ path: logical, message: `Cannot read '${abs}': ${errorText(e)}` });
      continue;
    }
    if (info.isDirectory) {
      if (skip.has(abs) || (rel !== "" && matcher.ignores(`${rel}/`))) continue;
      listInto(abs, rel, logical, stack, out);
      continue;
    }
    if (rel === "" || matcher.ignores(rel)) continue;
    const entry = toEntry(logical, abs, info, out);
    if (entry) out.entries.push(entry);
  }
}

function listInto(
  abs: string,
  rel: string,
  logical: string,
  stack: [string, string][],
  out: ScanResult,
): void {
  try {
    const names: string[] = [];
    for (const d of Deno.readDirSync(abs)) names.push(d.name);
    names.sort().reverse(); // popped from the stack in sorted order
    for (const name of names) stack.push([join(abs, name), rel === "" ? name : `${rel}/${name}`]);
  } catch (e) {
    out.unreadable.push(logical);
    out.problems.push({ path: logical, message: `Cannot list folder '${abs}': ${errorText(e)}` });
  }
}

function toEntry(
  logical: string,
  abs: string,
  info: Deno.FileInfo,
  out: ScanResult,
): ScanEntry | undefined {
  const base = {
    path: logical,
    abs,
    size: info.size,
    mtimeMs: info.mtime?.getTime() ?? 0,
    ctimeMs: info.ctime?.getTime() ?? 0,
    ino: info.ino ?? 0,
    dev: info.dev ?? 0,
    mode: info.mode ?? 0,
  };
  if (info.isFile) return { ...base, kind: "file" };
  if (info.isSymlink) {
    try {
      return { ...base, kind: "symlink", linkTarget: Deno.readLinkSync(abs) };
    } catch (e) {
      out.problems.push({ path: logical, message: `Cannot read link '${abs}': ${errorText(e)}` });
      return undefined;
    }
  }
  const kind = info.isFifo
    ? "FIFO"
    : info.isSocket
    ? "socket"
    : info.isBlockDevice || info.isCharDevice
    ? "device"
    : "special file";
  out.specials.push({ path: logical, message: `${kind}, not a regular file` });
  return undefined;
}

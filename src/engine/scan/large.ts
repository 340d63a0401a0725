/**
 * `exclude_larger_than`: a regular file over the limit is left out, as an `exclude` pattern
 * leaves one out (its copy, if it has one, kept and marked excluded), and said each pass
 * that leaves it out (`SKIP LARGE:`, in the log and on stderr), since no pattern names it.
 * The size is the file's length as its lstat gives it (`ls -l`: a sparse file's whole
 * length); symlinks and folders are never left out for their size. The walk asks
 * `overLimit` of each file it lstats anyway; purge and the watch scope look at one path
 * (`largeNow`). A file the walk held to read later (changed) and found grown over the
 * limit when read is left out and said then (stage.ts). Read-only: an interruption leaves
 * nothing.
 */
import { formatBytes } from "../../core/format_bytes.ts";

/** Whether an entry of `kind` and `size` is a file over `limit` (null or undefined: none). */
export function overLimit(
  limit: number | null | undefined,
  kind: string,
  size: number,
): boolean {
  return limit !== null && limit !== undefined && kind === "file" && size > limit;
}

/**
 * The line said of a file left out for its size, e.g. `SKIP LARGE: home/vm/disk.img (40.0
 * GiB, over exclude_larger_than 1.0 GiB)`; sizes exact in bytes where their rounding would
 * read alike.
 */
export function largeLine(path: string, size: number, limit: number): string {
  let [own, max] = [formatBytes(size), formatBytes(limit)];
  if (own === max) [own, max] = [`${size} B`, `${limit} B`];
  return `SKIP LARGE: ${path} (${own}, over exclude_larger_than ${max})`;
}

/** Whether the entry at `abs` is now a regular file over `limit` (its lstat; gone: no). */
export function largeNow(limit: number | null | undefined, abs: string): boolean {
  if (limit === null || limit === undefined) return false;
  try {
    const info = Deno.lstatSync(abs);
    return info.isFile && info.size > limit;
  } catch {
    return false;
  }
}

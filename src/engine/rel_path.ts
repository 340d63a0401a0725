/**
 * The `/`-separated path of a file inside a source's root, as the state names it (cut
 * directly where the tool built the path itself). Pure: nothing is read or written.
 */
import { relative, sep } from "node:path";

/**
 * The `/`-separated path of `abs` inside `root`. Paths this tool built (a folder's path,
 * `sep`, a name) are cut directly; anything else, or anything not plainly below `root`,
 * goes through `relative`, whose normalization costs about 3 µs a call.
 */
export function relPath(root: string, abs: string): string {
  const head = root.endsWith(sep) ? root : root + sep;
  if (abs.startsWith(head)) {
    const parts = abs.slice(head.length).split(sep);
    if (parts.every((p) => p !== "" && p !== "." && p !== "..")) return parts.join("/");
  }
  return relative(root, abs).split(sep).join("/");
}

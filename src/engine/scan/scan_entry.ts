/**
 * From a listed name to what the walk yields: a folder's keys in code point order (a name
 * that is not valid UTF-8 told apart from the valid one it decodes to), and a child's lstat
 * result as a `ScanEntry`, or a problem reported (unreadable, a FIFO, socket or device,
 * gone since it was listed); a folder's lstat with its extended attributes as `onFolder`
 * is told them. Only looks at the disk, so an interruption leaves nothing.
 */
import type { Source } from "../../config/config.ts";
import { errorText, isGone } from "../errors.ts";
import { compareCodePoints } from "../../core/merge.ts";
import type { StatResult } from "../fs/folders.ts";
import type { ScanOptions } from "./scan.ts";
import type { FolderMeta, ScanEntry } from "../../core/types.ts";
import { readFolderXattrs } from "../fs/xattrs.ts";

/** What entries are read for: the source walked and whom to tell of problems. */
export interface EntryContext {
  source: Source;
  opts: Pick<ScanOptions, "onProblem" | "onSpecial">;
}

/**
 * A folder's keys (names, folders' as `name/`) sorted in code point order. The default sort
 * compares UTF-16 units, which agrees with code point order unless a name holds a surrogate
 * or a character from U+E000 up; only then is the slower comparison needed, and only then
 * can two keys be one name (see `withoutTwins`).
 */
export function sortKeys(w: EntryContext, abs: string, rel: string, keys: string[]): string[] {
  if (!keys.some((k) => EXOTIC.test(k))) return keys.sort();
  return withoutTwins(w, abs, rel, keys.sort(compareCodePoints));
}

const EXOTIC = /[\uD800-\uFFFF]/;

/**
 * Sorted keys with a name listed twice taken once: Deno decodes a name that is not valid
 * UTF-8 with U+FFFD in place of its bad bytes, which may give the very name of an entry
 * beside it that holds U+FFFD itself. Only that one can be reached; the other is named as a
 * failure (before, it was passed over without a word, and the one reached was walked
 * twice, stored again at a new name every run).
 */
function withoutTwins(
  w: EntryContext,
  abs: string,
  rel: string,
  keys: string[],
): string[] {
  const once: string[] = [];
  for (const k of keys) {
    if (k !== once.at(-1)) {
      once.push(k);
      continue;
    }
    const name = k.endsWith("/") ? k.slice(0, -1) : k;
    const childRel = rel === "" ? name : `${rel}/${name}`;
    w.opts.onProblem?.({
      path: logical(w.source, childRel),
      message: `Cannot read an entry of '${abs}' whose name is not valid UTF-8: it reads as ` +
        `'${name}', the name of the entry beside it (which is backed up): rename it`,
    });
  }
  return once;
}

export function logical(source: Source, rel: string): string {
  return rel === "" ? source.name : `${source.name}/${rel}`;
}

/**
 * Whether an entry listed but not found is one whose name is not valid UTF-8: Deno decodes
 * it with U+FFFD in place of the bad bytes, and that name leads nowhere. It is named as a
 * failure (exit 1), never passed over as gone, a folder no more than a file.
 */
export function undecodable(e: unknown, rel: string): boolean {
  return e instanceof Deno.errors.NotFound && rel.includes("\uFFFD");
}

export const NOT_UTF8 = "its name is not valid UTF-8, which this tool cannot address: rename it";

const LINK_NOT_UTF8 = "its target is not valid UTF-8, which this tool cannot store: " +
  "point the link at a path of valid UTF-8, or exclude it";

/** A listed entry's lstat result as a ScanEntry (or reported, and nothing). */
export function toScanEntry(
  w: EntryContext,
  abs: string,
  rel: string,
  info: StatResult | Error,
): ScanEntry | undefined {
  const path = logical(w.source, rel);
  if (info instanceof Error) {
    const e = info;
    if (e instanceof Deno.errors.NotFound && !undecodable(e, rel)) return undefined; // gone
    const detail = undecodable(e, rel) ? NOT_UTF8 : errorText(e);
    w.opts.onProblem?.({ path, message: `Cannot read '${abs}': ${detail}` });
    return undefined;
  }
  const kind = info.kind;
  // Became a folder since it was listed: its place in the order is gone; next pass.
  if (kind === "dir") return undefined;
  if (kind === "file") return scanEntry(path, abs, kind, info);
  if (kind === "symlink") {
    try {
      return { ...scanEntry(path, abs, kind, info), linkTarget: Deno.readLinkSync(abs) };
    } catch (e) {
      // Deno cannot hold a target that is not valid UTF-8 ("File name or path … is not
      // valid UTF-8"): said with what to do, as a name that is not.
      const detail = /is not valid UTF-8/.test(errorText(e)) ? LINK_NOT_UTF8 : errorText(e);
      // Removed, or its folder moved, since its lstat: gone, as a file gone before its read
      // is (`SKIP VANISHED`, not a failure; until 2026-12-04 an ERROR, and `run` exit 1).
      const vanished = isGone(e);
      w.opts.onProblem?.({ path, message: `Cannot read link '${abs}': ${detail}`, vanished });
      return undefined;
    }
  }
  w.opts.onSpecial?.({ path, message: `${SPECIAL_KINDS[kind]}, not a regular file` });
  return undefined;
}

/** Fields written out, not spread: a rest/spread copy per file cost 5% of a no-change run. */
function scanEntry(
  path: string,
  abs: string,
  kind: "file" | "symlink",
  s: StatResult,
): ScanEntry {
  return {
    path,
    abs,
    kind,
    size: s.size,
    mtimeMs: s.mtimeMs,
    ctimeMs: s.ctimeMs,
    ino: s.ino,
    dev: s.dev,
    mode: s.mode,
    uid: s.uid,
    gid: s.gid,
    nlink: s.nlink,
  };
}

const SPECIAL_KINDS: Record<string, string> = { fifo: "FIFO", socket: "socket", device: "device" };

/**
 * What `onFolder` is told of a folder: its lstat, and its extended attributes and ACLs,
 * read from that folder only (another at its path now leaves them unread).
 */
export function folderMeta(seen: StatResult, abs: string): FolderMeta {
  const xattrs = readFolderXattrs(abs, seen);
  if (xattrs === null) return { ...seen, xattrsUnread: true };
  return xattrs === undefined ? seen : { ...seen, xattrs };
}

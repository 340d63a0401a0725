/**
 * How an existing destination compares with a stored content: the same bytes (hashed as
 * read, only if it is still the regular file an lstat saw), and the same recorded mode,
 * owner, time and extended attributes. Reads only.
 */
import type { StoredCopy } from "../state/store.ts";
import { closeFile, openExisting, readInto } from "./dest_file.ts";
import { GIVES_OWNERS, hasRecordedOwner, permittedMode } from "../engine/fs/owner.ts";
import { missingXattrs, XATTRS_KEPT } from "../engine/fs/xattrs.ts";
import { isAclName, isRootOnlyName } from "../core/xattr_codec.ts";
import { createDigest } from "../engine/digest.ts";
import { turnTaker } from "../engine/event_turn.ts";
import type { WriteOptions } from "./write.ts";
import { ALL_KEPT, type DiskKeeps } from "./kept_meta.ts";
import { restoredLinkTarget } from "../engine/fs/portability.ts";

/**
 * Whether the destination already holds exactly this content (read only if it is still the
 * regular file `info` saw: never through a symlink, nor waiting on a FIFO).
 */
export async function sameContent(
  dest: string,
  info: Deno.FileInfo,
  c: StoredCopy,
  opts: Pick<WriteOptions, "buf" | "signal">,
): Promise<boolean> {
  if (c.kind === "symlink") {
    return info.isSymlink && c.linkTarget !== null &&
      Deno.readLinkSync(dest) === restoredLinkTarget(c.linkTarget);
  }
  if (!info.isFile || info.size !== c.size) return false;
  const fd = openExisting(dest, info);
  if (fd === undefined) return false;
  try {
    const h = createDigest(c.algo);
    const turn = turnTaker(opts.signal);
    for (let n = readInto(fd, opts.buf); n > 0; n = readInto(fd, opts.buf)) {
      await turn();
      h.update(opts.buf.subarray(0, n));
    }
    return h.digest("hex") === c.hash;
  } finally {
    closeFile(fd);
  }
}

/**
 * The recorded extended attributes a destination of the recorded bytes (the regular file
 * `info` saw) lacks or holds with another value, said for a warning; undefined where it
 * has them all, or where this process gives none (engine/fs/xattrs.ts). Only those it could
 * give there are asked: of the kinds the disk keeps (`keeps`: user.*, ACLs), and those
 * only root may give of a root that gives them there; what it has beyond them is its own.
 */
export function xattrDifference(
  dest: string,
  info: Deno.FileInfo,
  c: StoredCopy,
  keeps = ALL_KEPT,
): string | undefined {
  if (!XATTRS_KEPT || c.kind !== "file" || !c.xattrs) return undefined;
  const fd = openExisting(dest, info);
  if (fd === undefined) return undefined;
  try {
    const missing = missingXattrs(
      fd,
      c.xattrs,
      (name) =>
        isRootOnlyName(name)
          ? GIVES_OWNERS && keeps.rootXattrs
          : isAclName(name)
          ? keeps.acls
          : keeps.xattrs,
    );
    if (missing.length === 0) return undefined;
    return `its extended attribute${missing.length === 1 ? "" : "s"} ` +
      `${missing.map((n) => `'${n}'`).join(", ")} ${missing.length === 1 ? "is" : "are"} ` +
      "not as recorded";
  } finally {
    closeFile(fd);
  }
}

/**
 * Whether a file has the recorded mode (where modes are kept), modification time and, run
 * as root, owner. A set-ID bit the owner does not permit is not asked for (owner.ts), nor
 * what its disk does not keep (`keeps`: kept_meta.ts). `attrs`: how its extended
 * attributes differ (`xattrDifference`).
 */
export function sameMeta(
  info: Deno.FileInfo,
  c: StoredCopy,
  keeps = ALL_KEPT,
  attrs?: string,
): boolean {
  return metaDifference(info, c, true, keeps, attrs) === undefined;
}

/** How a file of the recorded bytes differs from the recorded metadata, said for a warning. */
export function metaDifference(
  info: Deno.FileInfo,
  c: StoredCopy,
  time: boolean,
  keeps: DiskKeeps = ALL_KEPT,
  attrs?: string,
): string | undefined {
  const differs: string[] = [];
  const want = permittedMode(c.mode, c, { uid: info.uid ?? -1, gid: info.gid ?? -1 });
  const mode = (info.mode ?? 0) & 0o7777;
  if (Deno.build.os !== "windows" && keeps.modes && mode !== want) {
    differs.push(`its mode is ${octal(mode)}, the recorded ${octal(want)}`);
  }
  if (keeps.owners && !hasRecordedOwner(info, c)) {
    differs.push(`its owner is ${info.uid}:${info.gid}, the recorded ${c.uid}:${c.gid}`);
  }
  if (time && !(Math.abs((info.mtime?.getTime() ?? NaN) - c.mtimeMs) < keeps.timeStepMs)) {
    differs.push(`its modification time is not the recorded ${new Date(c.mtimeMs).toISOString()}`);
  }
  if (attrs !== undefined) differs.push(attrs);
  if (differs.length === 0) return undefined;
  return `the same bytes, but ${differs.join("; ")}: restore it with --overwrite to set them`;
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, "0")}`;
}

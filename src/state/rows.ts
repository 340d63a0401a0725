/**
 * Row shapes of the state database and their mapping to the engine's types. Pure.
 */
import type { CopyLocation, TrackedFile } from "../core/types.ts";

/** A row as node:sqlite returns it. */
export type Row = Record<string, unknown>;

/** A stored content of a path, as recorded. */
export interface StoredCopy {
  id: number;
  path: string;
  seq: number;
  kind: "file" | "symlink";
  hash: string;
  algo: string;
  size: number;
  mtimeMs: number;
  mode: number;
  /** Owner and group when copied (absent: recorded before they were, or none). */
  uid?: number;
  gid?: number;
  /**
   * The device and inode of its file as last seen where it had other names (hard links):
   * copies sharing them and their content are restored as one file (absent: one name, or
   * recorded before schema 5).
   */
  hardLink?: { dev: number; ino: number };
  /**
   * Its extended attributes as last seen with its content (xattr_codec.ts's encoding):
   * absent where it had none, or they were not recorded (before schema 6, or not read).
   */
  xattrs?: Uint8Array;
  linkTarget: string | null;
  location: CopyLocation;
  storedAt: string | null;
  validFrom: number;
  validTo: number | null;
  /** When retention removed the copy, or when it was found missing (location "lost"). */
  prunedAt: number | null;
}

export function toStoredCopy(r: Row): StoredCopy {
  return {
    id: r.id as number,
    path: r.path as string,
    seq: r.seq as number,
    kind: r.kind as "file" | "symlink",
    hash: r.hash as string,
    algo: r.algo as string,
    size: r.size as number,
    mtimeMs: r.mtime_ms as number,
    mode: r.mode as number,
    uid: (r.uid as number | null | undefined) ?? undefined,
    gid: (r.gid as number | null | undefined) ?? undefined,
    ...hardLinkOf(r),
    ...r.xattrs == null ? {} : { xattrs: r.xattrs as Uint8Array },
    linkTarget: r.link_target as string | null,
    location: r.location as CopyLocation,
    storedAt: r.stored_at as string | null,
    validFrom: r.valid_from as number,
    validTo: r.valid_to as number | null,
    prunedAt: r.pruned_at as number | null,
  };
}

/** A copy row's link identity, where it has one (the columns are absent before schema 5). */
function hardLinkOf(r: Row): Pick<StoredCopy, "hardLink"> {
  const dev = r.hardlink_dev as number | null | undefined;
  const ino = r.hardlink_ino as number | null | undefined;
  return dev == null || ino == null ? {} : { hardLink: { dev, ino } };
}

/** A row of the fingerprint query, in column order. */
export type FingerprintRow = [
  string,
  "file" | "symlink",
  string,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  "current" | "excluded",
];

export function toTracked(r: Row): TrackedFile {
  return {
    path: r.path as string,
    kind: r.kind as "file" | "symlink",
    hash: r.hash as string,
    algo: r.algo as string,
    size: r.size as number,
    mtimeMs: r.mtime_ms as number,
    ctimeMs: r.ctime_ms as number,
    ino: r.ino as number,
    dev: r.dev as number,
    mode: r.mode as number,
    trusted: r.trusted === 1,
    copyId: r.copy_id as number,
    seq: r.seq as number,
    storedAt: r.stored_at as string,
    location: r.location as CopyLocation,
    status: r.status as "current" | "excluded",
    copyUid: r.copy_uid as number | null,
    copyGid: r.copy_gid as number | null,
    copyXattrs: r.copy_xattrs == null ? null : (r.copy_xattrs as Uint8Array).toBase64(),
  };
}

/**
 * Data shapes shared by the engine's stages: what the scanner sees, what the state
 * remembers, and the actions the planner decides. Plain data only, so every stage can be
 * tested with literals and an interrupted batch can be journaled as JSON and replayed.
 */

/** The fingerprint an lstat gives: what tells a changed file from an unchanged one. */
export interface StatFields {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
  mode: number;
  /**
   * Owner and group (absent where the platform has none, on Windows): recorded with each
   * copy, and given back by a restore run as root (see owner.ts). Not part of the
   * fingerprint: a chown moves the change time, which is.
   */
  uid?: number;
  gid?: number;
  /**
   * Its number of names (hard links), as the same lstat gives it (absent where the
   * platform gives none: taken as 1). A new copy of a file with more than one records its
   * inode, so that a restore can make the names one file again (restore/hard_links.ts).
   * Not part of the fingerprint: a link made or removed moves the change time, which is.
   */
  nlink?: number;
}

/** A source folder's own metadata, as the latest walk through it saw it. */
export interface FolderMeta {
  mode: number;
  uid?: number;
  gid?: number;
  mtimeMs: number;
  /**
   * Its extended attributes (user.*, trusted.* as root, POSIX ACLs: the access ACL and the
   * default ACL its new files inherit), in xattr_codec.ts's encoding; absent where it has
   * none or they are not read here (engine/fs/xattrs.ts).
   */
  xattrs?: Uint8Array;
  /** Set where the folder could not be opened to read them: those recorded stay. */
  xattrsUnread?: true;
}

/** What the scanner saw of one source entry (never followed if it is a symlink). */
export interface ScanEntry extends StatFields {
  /** Logical path: `<source name>/<path inside the source>`, always with `/`. */
  path: string;
  /** Absolute path on disk. */
  abs: string;
  kind: "file" | "symlink";
  /** Symlink target, for kind "symlink". */
  linkTarget?: string;
  /**
   * Its kept extended attributes (xattr_codec.ts's encoding, as base64), read from the
   * file as its bytes were (stage.ts); absent where it has none, where it was not read, and
   * where this process reads none (xattrs.ts). Not part of the fingerprint: setting one
   * moves the change time, which is.
   */
  xattrs?: string;
}

/**
 * Where a stored copy lives now. "lost": the copy was found missing from the backup root
 * when it was to be archived (removed by hand, or lost to a disk fault); the content it
 * held is recorded but can no longer be restored. "pruned": retention deleted it;
 * "purged": `purge` deleted it, asked by name (a file no run backs up any more).
 */
export type CopyLocation =
  | "latest"
  | "duplicate"
  | "version"
  | "deleted"
  | "pruned"
  | "lost"
  | "purged";

/** What the state remembers of a tracked path's last scan: enough to skip reading it. */
export type Fingerprint = Pick<
  TrackedFile,
  | "path"
  | "kind"
  | "algo"
  | "size"
  | "mtimeMs"
  | "ctimeMs"
  | "ino"
  | "dev"
  | "mode"
  | "trusted"
  | "status"
>;

/** The state's record of a path that is currently tracked. */
export interface TrackedFile {
  path: string;
  kind: "file" | "symlink";
  hash: string;
  algo: string;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
  mode: number;
  /** False when the fingerprint was taken too close to a modification to be trusted. */
  trusted: boolean;
  /** Id of the copies row holding the current content. */
  copyId: number;
  /** Content number of the current content (it becomes vN.bak when replaced). */
  seq: number;
  /** Storage path of the current copy, relative to the backup root, with `/`. */
  storedAt: string;
  /** Where the current copy lives: "latest" (at its own path) or "duplicate"; "latest" if absent. */
  location?: CopyLocation;
  /** "excluded": a pattern now excludes it; its copy is kept but no longer followed. */
  status: "current" | "excluded";
  /** The owner and group recorded with the current copy (null: none recorded). */
  copyUid?: number | null;
  copyGid?: number | null;
  /** The extended attributes recorded with it, as `ScanEntry.xattrs` (null: none recorded). */
  copyXattrs?: string | null;
}

/** A scanned entry whose content was read: its digest and, when staged, the temp copy. */
export interface HashedEntry {
  entry: ScanEntry;
  hash: string;
  /** Temporary copy inside the backup root, flushed, waiting to be renamed into place. */
  tmp?: string;
}

/** The content metadata recorded with a new copy. */
export interface NewContent {
  hash: string;
  algo: string;
  entry: ScanEntry;
  /** The staged copy, relative to the backup root with `/` (`.backup-tool/tmp/…`). */
  tmp?: string;
}

export type Action =
  /** New path: place its copy at the latest location. */
  | {
    type: "backup";
    path: string;
    content: NewContent;
    seq: number;
    target: string;
    /** As a duplicate's: a stored copy of its content found to hold other bytes. */
    storedDiffers?: string;
  }
  /** New content equal to another current path's: place it in _duplicates/. */
  | {
    type: "duplicate";
    path: string;
    content: NewContent;
    seq: number;
    target: string;
    original: string;
    /** Set when this replaces an earlier content of the same path. */
    archive?: Archive;
    /**
     * The stored copy of its content its staged copy was to share blocks with, found by the
     * kernel to hold other bytes (share_extents.ts): damaged; the new copy is kept whole.
     */
    storedDiffers?: string;
    /**
     * The tracked file was marked excluded until now: its exclusion ends with this action
     * (its span recorded: state/ended_exclusions.ts).
     */
    endsExclusion?: true;
  }
  /** Changed content: archive the current copy as a version, then place the new one. */
  | {
    type: "modified";
    path: string;
    content: NewContent;
    seq: number;
    target: string;
    archive: Archive;
    /** As a duplicate's: a stored copy of its content found to hold other bytes. */
    storedDiffers?: string;
    /**
     * The tracked file was marked excluded until now: its exclusion ends with this action
     * (its span recorded: state/ended_exclusions.ts).
     */
    endsExclusion?: true;
  }
  /** Unchanged content. `refresh` carries what to record anew (a touch, a chmod, a new digest). */
  | { type: "skip"; path: string; refresh?: Refresh }
  /** The path is gone from the source: move its copy to _deleted/ and forget the path. */
  | {
    type: "delete";
    path: string;
    copyId: number;
    /**
     * The tracked file was marked excluded until now: its exclusion ends with its deletion
     * (its span recorded: state/ended_exclusions.ts).
     */
    endsExclusion?: true;
    from: string;
    to: string;
    /** Set by the executor when the copy was missing from the backup root: it is lost. */
    lost?: true;
    /** Something not the tool's own stands at `from`: left alone, the copy recorded as lost. */
    blocked?: true;
    /**
     * A file's content as the state records it, to tell a copy at `from` that holds other
     * bytes (a state older than the backup root's files). Absent for a symlink, and in
     * journals written before 2026-12-04.
     */
    recorded?: RecordedContent;
    /** Set by the executor: the copy held other bytes than `recorded`; moved all the same. */
    damaged?: true;
  }
  /**
   * The path became excluded: its copy stays where it is, the state marks it excluded.
   * `missing`: no copy was found there (set by the executor, and by a plan, which looks too).
   */
  | { type: "exclude"; path: string; storedAt: string; missing?: boolean }
  /**
   * Retention drops an old version beyond the configured count (or a deleted file's copy
   * past `keep_deleted_days`); with `purge`, `purge` drops any copy of a path no run backs
   * up any more, its current one too (the path is then no longer tracked at all).
   */
  | {
    type: "prune";
    path: string;
    copyId: number;
    seq: number;
    storedAt: string;
    /** Set by the executor when no copy of ours was there to remove (missing, or replaced). */
    absent?: true;
    /** Set with `absent` when nothing at all stood at the copy's place: it was missing. */
    missing?: true;
    /**
     * A file's content as the state records it, to tell a copy that holds other bytes
     * (copies renamed by hand over one another). Absent for a symlink, and in journals
     * written before 2026-12-05 (their recovery takes it from the state: recover.ts).
     */
    recorded?: RecordedContent;
    /**
     * A symlink's target as the state records it (its digest), to tell what stands at
     * `storedAt` from the symlink stored there: a file put in its place is left alone, as
     * a symlink to another target is (`damaged`). Absent for a file, and in journals of
     * versions before it (any symlink or file there is then taken for the copy, as before).
     */
    link?: { hash: string; algo: string };
    /** Set by the executor: the copy held other bytes than `recorded`; left in place. */
    damaged?: true;
    /** Asked by name (`purge`): recorded "purged", logged `PURGE delete:`. */
    purge?: true;
  }
  /**
   * A duplicate whose content no longer has an original (the original was deleted or
   * changed): its copy moves from _duplicates/ to its own path and becomes the original.
   */
  | {
    type: "promote";
    path: string;
    hash: string;
    from: string;
    to: string;
    /**
     * The content as the state records it for the copy at `from`, to tell one that holds
     * other bytes (a state older than the backup root's files). Absent in journals written
     * before 2026-12-04.
     */
    recorded?: RecordedContent;
    /** Set by the executor: the copy held other bytes than `recorded`; moved all the same. */
    damaged?: true;
  };

/** A stored copy's content as recorded: its size and time, then its digest. */
export interface RecordedContent {
  size: number;
  mtimeMs: number;
  hash: string;
  algo: string;
}

export interface Refresh {
  entry: ScanEntry;
  /** The current copy, whose mode and mtime are brought up to date. */
  storedAt: string;
  /** The content's digest under a newly configured algorithm. */
  rehashed?: { hash: string; algo: string };
  /**
   * The digest just read from the source (configured algorithm), so that the executor can
   * copy the file again, checked, should its stored copy be missing. Absent in journals
   * written before 2026-12-01.
   */
  digest?: { hash: string; algo: string };
  /** Set by the executor when it found the stored copy missing and copied the file again. */
  recopied?: true;
  /**
   * Where the file is copied again, planned when something not the tool's own stands at
   * its copy's place (a folder, a symlink, or a non-folder on the way there): the copy
   * moves to this next free name, and whatever stands at `storedAt` is left alone.
   */
  relocatedTo?: string;
  /**
   * The stored copy no longer holds the recorded content (found when an algorithm change
   * read it): left as it is, and said, for `verify --repair` to copy again.
   */
  damaged?: true;
  /**
   * The content as the state records it for the copy at `storedAt`, where the executor
   * brings that copy's time or mode up to date (a file's, not re-hashed): a copy holding
   * other bytes is then told (a state older than the backup root's files). Absent in
   * journals written before 2026-12-04.
   */
  recorded?: RecordedContent;
  /** Set by the executor: the copy held other bytes than `recorded`; left as it is. */
  otherBytes?: true;
  /**
   * The file was marked excluded until now: followed again, its exclusion ends (its span
   * recorded: state/ended_exclusions.ts).
   */
  endsExclusion?: true;
  /**
   * Only the fingerprint changed (its change time, inode or trust), not what the copy
   * keeps (content, mode, mtime, owner, extended attributes), and the copy is in its
   * place: the state's row is brought up to date and the copy is left as it is, with no
   * journal entry and no step on disk, as for any unchanged file. (A file copied in just
   * before a run is read again by the next, which finds it so: a run that read 78,000 such
   * files again took 5.8 s instead of 11.)
   */
  recordOnly?: true;
  /**
   * With `recordOnly`: the file has other names, or is another file (device, inode) than
   * the record's, so its copy's link identity (state/record.ts) is written again where it
   * differs. Absent, the same file with one name: an identity its copy carries still names
   * it (no other file can hold that inode while it does), and no copy row is touched, which
   * would cost a statement for each of the files a `touch` or a checkout moved.
   */
  checkLinks?: true;
  /**
   * Read only because it is another file (device, inode) than the one the record was taken
   * from, its content, mode and time as recorded: copied or restored to its place, or its
   * disk mounted anew. Counted (`PassResult.reread`), so that a pass that reads a whole
   * source again says why; not set for `--rehash`, a new algorithm or an untrusted record.
   */
  reread?: true;
}

export interface Archive {
  copyId: number;
  from: string;
  to: string;
  seq: number;
  /**
   * Set by the executor when the copy to archive was missing from the backup root: the new
   * content is placed all the same and the old one is recorded as lost.
   */
  lost?: true;
  /**
   * Planned when something not the tool's own stands at `from` (see `PlanView.copyAt`):
   * it is left alone, and the old content is recorded as lost without a move.
   */
  blocked?: true;
  /**
   * The copy to archive no longer holds the recorded content (found when an algorithm
   * change read it): archived all the same, and said (`verify` flags it).
   */
  damaged?: true;
}

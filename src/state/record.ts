/**
 * Recording a batch's results: each planned action, its file steps done, becomes changes
 * to the rows of `copies` and `files` (a new copy and its tracked file, an old copy moved
 * to the versions or the deleted, a duplicate promoted to its own path, a copy found lost or
 * pruned, a refreshed fingerprint, with the copy's link identity where its file has other
 * names: hard_links.ts in restore/ reads it; and the copy's extended attributes, which a
 * change of them alone brings up to date as a chmod does the mode), and the span of an
 * exclusion that ends (a file followed again, deleted or purged while excluded:
 * ended_exclusions.ts).
 * Every digest written is also given to the digest holders (digest_filter.ts). It runs
 * only inside `commitBatch`'s transaction: an interruption rolls the whole batch back and
 * leaves its intent for the next run's recovery.
 */
import type { Action, CopyLocation, NewContent, Refresh, ScanEntry } from "../core/types.ts";
import type { StateDb } from "./connection.ts";
import type { DigestHolders } from "./digest_filter.ts";
import { XATTRS_KEPT } from "../engine/fs/xattrs.ts";
import { endExclusion } from "./ended_exclusions.ts";

/** Times used when committing a batch. */
export interface BatchContext {
  runId: number;
  /** The moment the batch's contents became current (the run's start). */
  time: number;
  /** Fingerprints with mtime or ctime at or after this moment are recorded as untrusted. */
  trustBefore: number;
  /**
   * An mtime after this moment (a day past the clock) is trusted all the same, its ctime
   * being before `trustBefore`: a change now would give the file a time of now, which its
   * record's is not (a camera's clock set wrong, an archive's bogus date). Absent: never.
   */
  trustAfter?: number;
}

export class BatchRecorder {
  readonly #db: StateDb;
  readonly #holders: DigestHolders;

  constructor(db: StateDb, holders: DigestHolders) {
    this.#db = db;
    this.#holders = holders;
  }

  /** Records one action's result; the caller holds the transaction. */
  record(a: Action, ctx: BatchContext): void {
    switch (a.type) {
      case "backup":
      case "duplicate":
      case "modified": {
        if (a.type !== "backup" && a.archive) {
          if (a.archive.lost) this.#markLost(a.archive.copyId, ctx.time);
          else {
            this.#db.q(
              "UPDATE copies SET location = 'version', stored_at = ?, valid_to = ? WHERE id = ?",
            ).run(a.archive.to, ctx.time, a.archive.copyId);
          }
        }
        if (a.type !== "backup" && a.endsExclusion) {
          endExclusion(this.#db, a.path, ctx.time, "followed");
        }
        const location: CopyLocation = a.type === "duplicate" ? "duplicate" : "latest";
        const copyId = this.#insertCopy(a.path, a.seq, a.content, location, a.target, ctx);
        this.#upsertFile(a.path, copyId, a.content, ctx);
        return;
      }
      case "skip":
        if (a.refresh?.endsExclusion) endExclusion(this.#db, a.path, ctx.time, "followed");
        if (a.refresh) this.#refresh(a.path, a.refresh, ctx);
        return;
      case "delete":
        if (a.lost) this.#markLost(a.copyId, ctx.time);
        else {
          this.#db.q(
            "UPDATE copies SET location = 'deleted', stored_at = ?, valid_to = ? WHERE id = ?",
          ).run(a.to, ctx.time, a.copyId);
        }
        if (a.endsExclusion) endExclusion(this.#db, a.path, ctx.time, "deleted");
        this.#db.q("DELETE FROM files WHERE path = ?").run(a.path);
        return;
      case "exclude":
        this.#db.q("UPDATE files SET status = 'excluded', excluded_at = ? WHERE path = ?")
          .run(ctx.time, a.path);
        return;
      case "promote":
        // The tracked file's current copy, found at its old place: recorded once.
        this.#db.q(
          `UPDATE copies SET location = 'latest', stored_at = ?
           WHERE id = (SELECT copy_id FROM files WHERE path = ?) AND stored_at = ?`,
        ).run(a.to, a.path, a.from);
        return;
      case "prune":
        if (a.purge) return this.#purge(a.path, a.copyId, ctx.time);
        this.#db.q(
          "UPDATE copies SET location = 'pruned', stored_at = NULL, pruned_at = ? WHERE id = ?",
        ).run(ctx.time, a.copyId);
        return;
    }
  }

  /**
   * A copy `purge` deleted: recorded "purged" at `time`; a current one (an excluded file's)
   * stops being current when the run that took it out recorded it (`excluded_at`; the
   * purge's time where not recorded), so that `diff` and `ls --at` keep it gone from then,
   * and its path is tracked no more. What the record held of the content itself goes too
   * (a symlink's target, extended attributes), so that no restore makes it again from the
   * record: a purge is asked for to be rid of it. Its exclusion ends then (ended_exclusions.ts),
   * so that `diff` still counts it excluded from its moment on.
   */
  #purge(path: string, copyId: number, time: number): void {
    this.#db.q(
      `UPDATE copies SET location = 'purged', stored_at = NULL, pruned_at = ?1,
         valid_to = coalesce(valid_to, (SELECT f.excluded_at FROM files f
           WHERE f.path = ?3 AND f.copy_id = ?2 AND f.status = 'excluded'), ?1),
         link_target = NULL, xattrs = NULL WHERE id = ?2`,
    ).run(time, copyId, path);
    const tracked = this.#db.q("SELECT 1 FROM files WHERE path = ? AND copy_id = ?").get(
      path,
      copyId,
    );
    if (tracked !== undefined) endExclusion(this.#db, path, time, "purged");
    this.#db.q("DELETE FROM files WHERE path = ? AND copy_id = ?").run(path, copyId);
  }

  /** A copy found missing from the backup root: `pruned_at` records when it was found so. */
  #markLost(copyId: number, time: number): void {
    this.#db.q(
      `UPDATE copies SET location = 'lost', stored_at = NULL, valid_to = ?, pruned_at = ?
       WHERE id = ?`,
    ).run(time, time, copyId);
  }

  #insertCopy(
    path: string,
    seq: number,
    c: NewContent,
    location: CopyLocation,
    storedAt: string,
    ctx: BatchContext,
  ): number {
    const e = c.entry;
    const r = this.#db.q(
      `INSERT INTO copies (path, seq, kind, hash, algo, size, mtime_ms, mode, uid, gid,
         link_target, location, stored_at, valid_from, run_id, hardlink_dev, hardlink_ino,
         xattrs)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      path,
      seq,
      e.kind,
      c.hash,
      c.algo,
      e.size,
      e.mtimeMs,
      e.mode,
      e.uid ?? null,
      e.gid ?? null,
      e.linkTarget ?? null,
      location,
      storedAt,
      ctx.time,
      ctx.runId,
      ...hardLinkValues(e),
      xattrsValue(e),
    );
    return Number(r.lastInsertRowid);
  }

  #upsertFile(path: string, copyId: number, c: NewContent, ctx: BatchContext): void {
    const e = c.entry;
    this.#holders.added(c.hash);
    this.#db.q(
      `INSERT OR REPLACE INTO files (path, copy_id, kind, hash, algo, size, mtime_ms, ctime_ms,
         ino, dev, mode, trusted, status, excluded_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'current', NULL)`,
    ).run(
      path,
      copyId,
      e.kind,
      c.hash,
      c.algo,
      ...fingerprintValues(e, ctx),
    );
  }

  #refresh(
    path: string,
    { entry: e, rehashed, relocatedTo, recordOnly, checkLinks }: Refresh,
    ctx: BatchContext,
  ): void {
    if (rehashed) this.#holders.added(rehashed.hash);
    this.#db.q(
      `UPDATE files SET size = ?, mtime_ms = ?, ctime_ms = ?, ino = ?, dev = ?, mode = ?,
         trusted = ?, status = 'current', excluded_at = NULL, hash = coalesce(?, hash),
         algo = coalesce(?, algo)
       WHERE path = ?`,
    ).run(
      ...fingerprintValues(e, ctx),
      rehashed?.hash ?? null,
      rehashed?.algo ?? null,
      path,
    );
    if (recordOnly) {
      // The copy's metadata is as recorded; its file's names may not be (a link made or
      // removed moves the change time only): written only where they changed.
      if (!checkLinks) return;
      this.#db.q(
        `UPDATE copies SET hardlink_dev = ?1, hardlink_ino = ?2
         WHERE id = (SELECT copy_id FROM files WHERE path = ?3)
           AND (hardlink_dev IS NOT ?1 OR hardlink_ino IS NOT ?2)`,
      ).run(...hardLinkValues(e), path);
      return;
    }
    // Where this process reads no extended attributes, the recorded ones stay (it cannot
    // tell whether they changed).
    this.#db.q(
      `UPDATE copies SET mtime_ms = ?, mode = ?, uid = ?, gid = ?, hash = coalesce(?, hash),
         algo = coalesce(?, algo), hardlink_dev = ?, hardlink_ino = ?,
         xattrs = CASE WHEN ? THEN ? ELSE xattrs END
       WHERE id = (SELECT copy_id FROM files WHERE path = ?)`,
    ).run(
      e.mtimeMs,
      e.mode,
      e.uid ?? null,
      e.gid ?? null,
      rehashed?.hash ?? null,
      rehashed?.algo ?? null,
      ...hardLinkValues(e),
      XATTRS_KEPT ? 1 : 0,
      xattrsValue(e),
      path,
    );
    if (relocatedTo === undefined) return;
    this.#db.q(
      "UPDATE copies SET stored_at = ? WHERE id = (SELECT copy_id FROM files WHERE path = ?)",
    ).run(relocatedTo, path);
  }
}

/**
 * The link identity columns, hardlink_dev and hardlink_ino: a file's device and inode
 * where it has other names (more than one link), else NULL (one name, a symlink, or a
 * platform or journal that gives no count).
 */
function hardLinkValues(e: ScanEntry): [number, number] | [null, null] {
  return e.kind === "file" && (e.nlink ?? 1) > 1 ? [e.dev, e.ino] : [null, null];
}

/** The xattrs column: the entry's extended attributes as read (NULL: none, or not read). */
function xattrsValue(e: ScanEntry): Uint8Array | null {
  return e.xattrs === undefined ? null : Uint8Array.fromBase64(e.xattrs);
}

/** The fingerprint columns in their order: size, mtime_ms, ctime_ms, ino, dev, mode, trusted. */
function fingerprintValues(e: ScanEntry, ctx: BatchContext): number[] {
  return [e.size, e.mtimeMs, e.ctimeMs, e.ino, e.dev, e.mode, isTrusted(e, ctx) ? 1 : 0];
}

function isTrusted(e: { mtimeMs: number; ctimeMs: number }, ctx: BatchContext): boolean {
  const mtime = e.mtimeMs < ctx.trustBefore ||
    (ctx.trustAfter !== undefined && e.mtimeMs > ctx.trustAfter);
  return mtime && e.ctimeMs < ctx.trustBefore;
}

/**
 * What a restore does with one destination, decided before anything is written there
 * (`decide`): refused inside the backup root or on a refused way (dest_folder.ts), put
 * under another name where a twin holds it (twins.ts), up to date where it holds the
 * content (dest_compare.ts), left alone as a conflict where it holds other content without
 * `--overwrite`, else to be written. The writer (write.ts) and a dry run (dry_run.ts) both
 * follow it, so a dry run says what the restore does. Reads only, but for the folders a
 * reach makes on the way (none through a dry run's `DestFolders`); an interruption leaves
 * at most those, empty.
 */
import { basename, dirname, sep } from "node:path";
import { isInside } from "../config/paths.ts";
import { lstatOrNone } from "../engine/fs/fsops.ts";
import { openPath } from "../engine/fs/identity.ts";
import { errorText } from "../engine/errors.ts";
import { StoppedError } from "../engine/event_turn.ts";
import { isReadFault, UnusableCopy } from "./copy_out.ts";
import { twinElsewhereRemedy, twinText } from "./twins.ts";
import { metaDifference, sameContent, sameMeta, xattrDifference } from "./dest_compare.ts";
import { reachFolder } from "./dest_folder.ts";
import type { DestFolders, Reached } from "./pinned.ts";
import type { RestoreItem, RestoreResult } from "./restore_item.ts";
import type { HardLinks } from "./hard_links.ts";
import type { WriteOptions } from "./write.ts";
import { noRoom } from "./full_disks.ts";

/**
 * What a restore does with an item's destination, decided before anything is written
 * there: `done` (up to date, left alone as a conflict, refused: its result), or `write`
 * (the item, maybe under a twin's other name, to be written in `folder`, reached and held
 * for the caller to release, over `existing` where that is set). The writer (`writeOne`)
 * and a dry run (dry_run.ts) both follow it. Reads only, but for the folders a reach makes
 * on the way (none in a dry run: dry_run.ts); throws only `StoppedError`.
 */
export type Decision =
  | { kind: "done"; result: RestoreResult }
  | { kind: "write"; item: RestoreItem; folder: Reached; existing?: Deno.FileInfo };

/** The options a decision asks: a writer's, whose hard links only say what is found. */
export type DecideOptions = Omit<WriteOptions, "links"> & {
  links?: Pick<HardLinks, "found">;
};

export async function decide(
  root: string,
  item: RestoreItem,
  opts: DecideOptions,
  folders: DestFolders,
  tmpName: string,
): Promise<Decision> {
  const { copy, dest } = item;
  const dir = dirname(dest);
  let folder: Reached | undefined;
  try {
    const seenAt = [root, ...opts.rootAliases ?? []].find((r) => dest === r || isInside(dest, r));
    if (seenAt !== undefined) {
      const how = seenAt === root ? "" : ` (mounted at '${seenAt}' too)`;
      throw new Error(
        `Cannot restore to '${dest}': it is inside the backup root '${root}'${how}, whose ` +
          `copies a restore never replaces: restore with --to a folder outside it`,
      );
    }
    // A folder this restore made holds nothing else; one that is missing, nothing at all.
    const ours = !opts.lookFirst && (opts.madeFolders?.has(dir) ?? false);
    if (opts.notTried && (ours || !lstatOrNone(dir)?.isDirectory)) return done(opts.notTried);
    try {
      folder = reachFolder(folders, item, false, opts.twins);
    } catch (e) {
      // Folders made on the way to one that could not be (no room): given theirs at the end.
      const partial = folders.takePartial();
      if (partial) opts.madeFolders?.add(item, partial.first, partial.deepest);
      throw e;
    }
    if (folder.made !== undefined) opts.madeFolders?.add(item, folder.made);
    const destAt = folder.at(basename(dest));
    const existing = ours || folder.made !== undefined ? undefined : lstatOrNone(destAt);
    // Its name taken by a twin's file on a disk that ignores case: under another name.
    const twins = existing && item.twin === undefined ? opts.twins : undefined;
    const twin = twins && (opts.lookFirst || twins.mayFold(folder, item, tmpName))
      ? twins.twinOf(item)
      : undefined;
    if (twin) {
      folder.release();
      folder = undefined;
      const renamed = twins!.renamed(item, twin);
      if (renamed === undefined) {
        const reason = twinText(twin, {
          refused: `and no other name is free there: ${twinElsewhereRemedy(item)}`,
        });
        return done({ ...item, outcome: "failed", reason });
      }
      return await decide(root, renamed, opts, folders, tmpName);
    }
    if (existing?.isDirectory) {
      // The remedy a file in a folder's place gets (dest_folder.ts): --overwrite replaces no folder.
      const reason = `a folder is in the way at '${dest}': move it away, or restore with --to DIR`;
      return done({ ...item, outcome: "failed", reason });
    }
    // What the disk does not keep (a FAT stick's modes) is neither said nor set again.
    const keeps = opts.keptMeta?.of(folder, tmpName);
    const same = existing !== undefined && await sameContent(destAt, existing, copy, opts);
    const attrs = same ? xattrDifference(destAt, existing, copy, keeps) : undefined;
    const asRecorded = same && copy.kind === "file" && sameMeta(existing, copy, keeps, attrs);
    if (same && (!opts.overwrite || copy.kind !== "file" || asRecorded)) {
      // Exactly as recorded, it is what the other names of its file are linked to.
      if (asRecorded) opts.links?.found(item, folder, existing);
      // A mode, owner or extended attribute that differs is said (a file made readable by
      // all since); a time alone is not worth a line for each file touched since.
      const differs = copy.kind === "file"
        ? metaDifference(existing, copy, false, keeps, attrs)
        : undefined;
      return done({ ...item, outcome: "up-to-date", ...differs ? { note: differs } : {} });
    }
    // With --overwrite, a file of the same bytes whose mode, owner, time or extended
    // attributes differ is replaced by a new one, never changed in place: that name may be
    // a hard link to someone else's file, which root would give to the owner recorded here.
    if (existing && !same && !opts.overwrite) return done(conflict(item));
    if (opts.notTried) return done(opts.notTried);
    const write: Decision = { kind: "write", item, folder, existing };
    folder = undefined; // handed over: the caller releases it
    return write;
  } catch (e) {
    if (e instanceof StoppedError) throw e;
    return done(failed(item, e, folder, opts));
  } finally {
    folder?.release();
  }
}

const done = (result: RestoreResult): Decision => ({ kind: "done", result });

/** An item not restored for `e`, said with the paths through the open folder named. */
export function failed(
  item: RestoreItem,
  e: unknown,
  folder: Reached | undefined,
  opts: Pick<WriteOptions, "fallbacksOf">,
): RestoreResult {
  // A copy the disk cannot read (EIO) too: another may hold the bytes in other blocks.
  const unusable = (e instanceof UnusableCopy || isReadFault(e)) && opts.fallbacksOf === undefined;
  const reason = namedPaths(errorText(e), folder);
  const full = noRoom(e) ? { noRoom: true } : {};
  return { ...item, outcome: "failed", reason, ...unusable ? { unusable } : {}, ...full };
}

/** An error's text with the paths through the open folder (pinned.ts) named as the folder's. */
export function namedPaths(text: string, folder: Reached | undefined): string {
  const open = folder?.fd === undefined ? undefined : openPath(folder.fd);
  return open === undefined ? text : text.replaceAll(`${open}/`, `${folder!.path}${sep}`);
}

/**
 * A destination holding other content, left alone. `appeared`: made by someone else while
 * this file was restored (with --overwrite too: what was not there when it was looked at
 * is not replaced), to be restored again. Its remedy follows ": left alone; ", where
 * request.ts says before it that the file is excluded.
 */
export function conflict(item: RestoreItem, appeared = false): RestoreResult {
  const elsewhere = item.toDir ? "another --to folder" : "--to DIR";
  // A twin's other name (twins.ts): said which it is.
  const dest = item.twin === undefined
    ? `'${item.dest}'`
    : `'${item.dest}' (its name here, as this disk takes its own for that of ` +
      `'${item.twin.otherPath}')`;
  return {
    ...item,
    outcome: "conflict",
    reason: appeared
      ? `${dest} appeared or changed while it was restored: left alone; ` +
        `restore it again with --overwrite to replace it, or use ${elsewhere} to restore elsewhere`
      : `${dest} exists with other content: left alone; ` +
        `use --overwrite to replace it, or ${elsewhere} to restore elsewhere`,
  };
}

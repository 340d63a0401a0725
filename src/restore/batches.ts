/**
 * Restoring many files at the speed of the disk, never a partial file at a real name:
 * each file is written to a temporary name beside its destination and checked (write.ts),
 * a batch of them is flushed together (one syncfs of their file system where that is
 * trusted and they all lie on it, else fsyncs issued together), and only then is each put
 * in place. The next batch is written while one is flushed. Results are reported in the
 * items' order, but for contents whose own copy turned out missing or damaged: those are
 * tried again at the end from the other copies of the same bytes, asked for all at once;
 * and for twins whose name the other took while they were written (twins.ts): those are
 * written again at the end, under another name.
 *
 * Files the backup recorded as one file under several names are restored as hard links of
 * the first one (hard_links.ts). A write its disk refuses for want of room (ENOSPC, a
 * quota) marks that disk full, and no later file bound for it is tried (full_disks.ts),
 * while the files already written go in place; the folders made with files left there keep
 * their owner's write permission, for the restore run again. Once done (or stopped), the folders files
 * were placed in are flushed, and those above them to the destination. An interruption
 * leaves at most two batches' hidden temporary files; a stop signal ends the restore after
 * the batch being flushed is in place, removing the one being written.
 */
import { StoppedError } from "../engine/event_turn.ts";
import type { StoredCopy } from "../state/store.ts";
import { dirname } from "node:path";
import { removeQuietly } from "../engine/fs/fsops.ts";
import { knownFolderIdentity } from "../engine/fs/identity.ts";
import { READ_BUFFER_BYTES } from "../engine/stage.ts";
import { errorText } from "../engine/errors.ts";
import { loadDigests } from "../engine/digest.ts";
import { openSyncFs, type SyncFs } from "../engine/fs/syncfs.ts";
import { faultPoint, pausePoint } from "../engine/fault.ts";
import { otherMountsOf } from "../engine/fs/mounts.ts";
import { DestFolders } from "./pinned.ts";
import { syncTemps } from "./dest_file.ts";
import { syncFolders } from "../engine/fs/folder_flush.ts";
import { type FolderProblem, MadeFolders, makeFolders } from "./made_folders.ts";
import { type RestoredHere, Twins } from "./twins.ts";
import { KeptMeta } from "./kept_meta.ts";
import { HardLinks } from "./hard_links.ts";
import { XattrNotes } from "./xattr_notes.ts";
import { FullDisks, noRoom } from "./full_disks.ts";
import type { FolderMeta } from "../core/types.ts";
import { isWritten, placeOne, writeOne, type WriteOptions, type Written } from "./write.ts";
import type { RestoreItem, RestoreResult } from "./restore_item.ts";
import type { FolderItem } from "./standing_folders.ts";

/**
 * Files written to temporary names before they are flushed together, and their bytes: a
 * flush per file cost 1.6 ms each (a 100,000-file restore took 160 s, measured), fsyncs
 * issued 64 at a time far less, one syncfs less still. The byte bound keeps what one flush
 * writes back, and the hidden temporary files an interruption leaves, small.
 */
const RESTORE_BATCH_FILES = 512;
const RESTORE_BATCH_BYTES = 64 * 1024 * 1024;
/** Items (up to date ones too) whose results wait for a batch: bounds what is held. */
const RESTORE_BATCH_ITEMS = 2048;
/** Below this many files, fsyncs issued together cost less than a syncfs (as in batch.ts). */
const SYNCFS_MIN_FILES = 64;
/** Folders whose file system is remembered (about 100 bytes each). */
const FOLDER_DEVICES_LIMIT = 16384;

export interface RestoreAllOptions
  extends Pick<WriteOptions, "overwrite" | "movedOf" | "prunedOf" | "recordedNow"> {
  onResult(r: RestoreResult): void;
  /**
   * Where else the backup holds the contents of `copies` (their own copies found missing
   * or damaged): asked once, at the end, for all of them.
   */
  fallbacksFor?(copies: StoredCopy[]): (c: StoredCopy) => Iterable<string>;
  /** Aborted: stop once the batch being flushed is in place. */
  signal?: AbortSignal;
  /** A source folder's recorded metadata, for the folders the restore makes. */
  folderMetaOf?(logical: string): FolderMeta | undefined;
  /**
   * Folders to make besides those on the way to the files, empty ones too
   * (standing_folders.ts): made once the files are in place, given their metadata with the others at the end.
   */
  folders?: Iterable<FolderItem>;
  /** Told of each of `folders` made (not there before), as it is made. */
  onFolderMade?(item: FolderItem): void;
  /**
   * Whether this restore restores a file at or below a logical path: where given, a twin
   * the disk takes for another's name is restored under the next free one (twins.ts).
   */
  restoredHere?: RestoredHere;
}

/**
 * Restores every item (read as they come), then gives the folders it made their recorded
 * metadata; returns whether a stop signal cut it short, and the folders that could not
 * be given theirs.
 */
export async function restoreAll(
  root: string,
  items: Iterable<RestoreItem>,
  opts: RestoreAllOptions,
): Promise<{ stopped: boolean; folderProblems: FolderProblem[]; notes: string[] }> {
  const madeFolders = new MadeFolders();
  const keptMeta = new KeptMeta();
  const links = new HardLinks();
  const xattrNotes = new XattrNotes();
  const rootId = knownFolderIdentity(root);
  using folders = new DestFolders(rootId);
  const placed = new Set<string>();
  // Folders with files left on a disk found full: for the same restore run again to write.
  const left = new Set<string>();
  // Folders a file was meant for and not placed in (its failure said why): not made again
  // as folders with no file, to fail and be said twice.
  const failedIn = new Set<string>();
  const onResult = (r: RestoreResult) => {
    if (r.outcome === "restored") addFolders(placed, dirname(r.dest), r.base);
    else addFolders(failedIn, dirname(r.dest), r.base);
    if (r.fullDisk !== undefined) {
      addFolders(left, dirname(r.dest), r.base);
      full.add(r.base);
    }
    opts.onResult(r);
  };
  // Bases on a disk found full: no folder is made there (the same restore run again does).
  const full = new Set<string>();
  const { stopped } = await restoreFiles(
    root,
    items,
    { ...opts, onResult },
    folders,
    { madeFolders, keptMeta, links, xattrNotes },
  );
  // After the files, which go first for the room there is; before any folder's time is set.
  const notMade = stopped ? [] : makeFolders(opts.folders ?? [], folders, madeFolders, {
    placed: (dir, base) => addFolders(placed, dir, base),
    holds: (dir) => placed.has(dir) || failedIn.has(dir),
    full,
    made: opts.onFolderMade,
  });
  // The names placed, made durable before the restore says it is done (or stopped): a
  // power cut right after must not undo them (folder_flush.ts).
  await syncFolders(placed);
  // Stopped: the folders keep the umask's permissions, so that a restore again can write;
  // those with files left on a full disk keep their owner's write permission (a folder
  // recorded read-only, 0555, would refuse the restore run again once there is room).
  const folderProblems = stopped || !opts.folderMetaOf ? [] : madeFolders.finish(
    folders,
    opts.folderMetaOf,
    left,
    (folder, refused, dev) => xattrNotes.refused(folder, dev, refused),
  );
  folderProblems.unshift(...notMade);
  const notes = [...keptMeta.notes, ...links.notes, ...xattrNotes.notes];
  return { stopped, folderProblems, notes };
}

/**
 * `dir` and the folders above it up to `base`'s parent (each may have been made for the
 * restore, `--to` the base itself).
 */
/** Adds `dir` and the folders above it, up to `base`, to `into`. */
export function addFolders(into: Set<string>, dir: string, base: string): void {
  for (let d = dir; !into.has(d); d = dirname(d)) {
    into.add(d);
    if (d === dirname(base) || dirname(d) === d) return;
  }
}

async function restoreFiles(
  root: string,
  items: Iterable<RestoreItem>,
  opts: RestoreAllOptions,
  folders: DestFolders,
  { madeFolders, keptMeta, links, xattrNotes }: {
    madeFolders: MadeFolders;
    keptMeta: KeptMeta;
    links: HardLinks;
    xattrNotes: XattrNotes;
  },
): Promise<{ stopped: boolean }> {
  await loadDigests();
  using flusher = new Flusher();
  const wopts: WriteOptions = {
    overwrite: opts.overwrite,
    movedOf: opts.movedOf,
    prunedOf: opts.prunedOf,
    recordedNow: opts.recordedNow,
    buf: new Uint8Array(READ_BUFFER_BYTES),
    madeFolders,
    rootAliases: otherMountsOf(root),
    signal: opts.signal,
    twins: opts.restoredHere && new Twins(opts.restoredHere),
    keptMeta,
    links,
    xattrNotes,
    fullDisks: new FullDisks(),
  };
  const retry: RestoreResult[] = [];
  const first = await restoreBatched(root, items, wopts, { flusher, folders }, (r) => {
    if ((r.unusable && opts.fallbacksFor) || r.again) retry.push(r);
    else opts.onResult(r);
  });
  if (first.stopped) {
    for (const r of retry) opts.onResult(r); // not tried again: named as they are
    return first;
  }
  if (retry.length === 0) return first;
  // Twins whose name the other took while they were written go again, looked at first.
  const unusable = retry.filter((r) => r.unusable).map((r) => r.copy);
  const fallbacksOf = unusable.length === 0 ? undefined : opts.fallbacksFor!(unusable);
  const again = { ...wopts, fallbacksOf, lookFirst: true };
  return await restoreBatched(root, retry.map(itemOf), again, { flusher, folders }, opts.onResult);
}

/** The item a result is about, without the result. */
function itemOf({ copy, dest, base, toDir, twin }: RestoreResult): RestoreItem {
  return { copy, dest, base, toDir, ...twin ? { twin } : {} };
}

async function restoreBatched(
  root: string,
  items: Iterable<RestoreItem>,
  opts: WriteOptions,
  { flusher, folders }: { flusher: Flusher; folders: DestFolders },
  onResult: (r: RestoreResult) => void,
): Promise<{ stopped: boolean }> {
  const { signal, fullDisks } = opts;
  let batch: (Written | RestoreResult)[] = [];
  let files = 0;
  let bytes = 0;
  let placing: Promise<void> = Promise.resolve();
  // Why placing a batch failed (an error, not a file's failure): kept at once, so that no
  // rejection goes unhandled while the next batch is written, and thrown at the next flush.
  let placeFailure: { error: unknown } | undefined;
  const flush = async () => {
    const full = batch;
    [batch, files, bytes] = [[], 0, 0];
    const flushed = flusher.flush(full.filter(isWritten)).then(() => undefined, (e) => e);
    await placing; // the batch before, flushed meanwhile, goes in place first
    if (placeFailure) throw placeFailure.error;
    placing = (async () => {
      for (const r of await placeBatch(full, await flushed, opts, folders)) {
        onResult(fullDisks?.seen(r) ?? r);
      }
    })().catch((error) => {
      placeFailure ??= { error };
    });
  };
  try {
    for (const item of items) {
      pausePoint("restoring");
      // Bound for a disk found full: looked at, not written (full_disks.ts).
      const notTried = fullDisks?.skipped(item);
      let written: Written | RestoreResult;
      try {
        written = await writeOne(root, item, notTried ? { ...opts, notTried } : opts, folders);
      } catch (e) {
        if (e instanceof StoppedError) return { stopped: true }; // heard mid-file
        throw e;
      }
      // Refused for want of room: that disk is marked full at once, for the next item.
      if (!isWritten(written)) written = fullDisks?.seen(written) ?? written;
      faultPoint("restoring");
      batch.push(written);
      if (isWritten(written)) {
        files++;
        // A hard link of a file written before holds no bytes to flush of its own.
        const own = item.copy.kind === "file" && written.linkedTo === undefined;
        bytes += own ? item.copy.size : 0;
      }
      const full = files >= RESTORE_BATCH_FILES || bytes >= RESTORE_BATCH_BYTES ||
        batch.length >= RESTORE_BATCH_ITEMS;
      if (full) await flush();
      if (signal?.aborted) return { stopped: true }; // heard while the batch was flushed
    }
    await flush();
    return { stopped: false };
  } finally {
    // Left in the batch after a stop, or an error (reading the items, placing the batch
    // before): the files written are never flushed (their temporary files go); the results
    // known are still reported, unless placing failed (reporting may be what failed), whose
    // error is thrown once the temporary files are gone.
    await placing;
    for (const w of batch) {
      if (isWritten(w)) removeQuietly(w.tmp);
      else if (!placeFailure) onResult(w);
    }
    // deno-lint-ignore no-unsafe-finally
    if (placeFailure) throw placeFailure.error;
  }
}

/**
 * Puts a batch's files in place once flushed (`failure`: why the flush failed, and then
 * none is), with the results of the items that needed no file, in order.
 */
async function placeBatch(
  batch: (Written | RestoreResult)[],
  failure: unknown,
  opts: WriteOptions,
  folders: DestFolders,
): Promise<RestoreResult[]> {
  const results: RestoreResult[] = [];
  for (const w of batch) {
    if (!isWritten(w)) results.push(w);
    else if (failure === undefined) {
      const placed = await placeOne(w, opts, folders);
      results.push(opts.links?.settled(w, placed) ?? placed);
      faultPoint("restored");
    } else {
      removeQuietly(w.tmp);
      const failed: RestoreResult = {
        ...w.item,
        outcome: "failed",
        reason: errorText(failure),
        ...noRoom(failure) ? { noRoom: true } : {},
      };
      results.push(opts.links?.settled(w, failed) ?? failed);
    }
  }
  return results;
}

/**
 * Flushes a batch's files: with one syncfs where that is trusted (see syncfs.ts), the batch
 * is large, and every file lies on the file system of the one folder they go below (none
 * on another one mounted inside it); else by fsyncs issued together.
 */
class Flusher {
  /** Per destination base folder, its file system's handle (undefined: not trusted). */
  readonly #byBase = new Map<string, SyncFs | undefined>();
  /** The device of each folder files were written in. */
  readonly #devices = new Map<string, number | null>();

  async flush(batch: Written[]): Promise<void> {
    const files = batch.filter((w) => w.item.copy.kind === "file");
    const bases = new Set(files.map((w) => w.item.base));
    if (files.length >= SYNCFS_MIN_FILES && bases.size === 1) {
      const [base] = bases;
      if (!this.#byBase.has(base)) this.#byBase.set(base, openSyncFs(base));
      const fs = this.#byBase.get(base);
      const device = this.#deviceOf(base);
      const oneDevice = files.every((w) => this.#deviceOf(dirname(w.tmp)) === device);
      // Only where syncfs reports write-back errors (Linux 5.8 on): these are file data.
      if (fs?.reportsErrors && device !== null && oneDevice) return await fs.sync();
    }
    await syncTemps(files.map((w) => w.tmp));
  }

  #deviceOf(folder: string): number | null {
    let device = this.#devices.get(folder);
    if (device === undefined) {
      if (this.#devices.size >= FOLDER_DEVICES_LIMIT) this.#devices.clear();
      device = Deno.statSync(folder).dev ?? null;
      this.#devices.set(folder, device);
    }
    return device;
  }

  [Symbol.dispose](): void {
    for (const fs of this.#byBase.values()) fs?.close();
  }
}

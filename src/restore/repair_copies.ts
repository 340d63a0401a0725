/**
 * Makes stored copies again, one at a time: a symlink from its recorded target, an empty
 * file from nothing, any other file read again from the first file that holds the same
 * content now (a source file: the path's own, or any tracked file with that digest; else
 * another stored copy; else a copy verify found changed that holds it, renamed by hand over
 * another's name; else a file in the backup root no copy is recorded at, of the same
 * size), checked against the recorded digest while it is copied into a temporary file,
 * given its recorded mode and time, flushed, and placed: at its own path (a damaged copy
 * there kept aside, damaged_aside.ts), or at the next free name when something put there
 * by hand stands in its place. Nothing is reached through a symlink or a file someone put
 * in the backup root.
 *
 * A copy nothing readable holds, where a symlink put by hand stands in its place or in a
 * folder's on its way and nothing is found at its name through it, is not said to be held
 * by nothing (`NOTHING_HOLDS`, which `--forget-missing` forgets): it may be behind that
 * link once its disk is back. A copy verify found changed behind such a link is made at
 * the next free name beside it, as a run stores copies; what is behind it stays untouched.
 *
 * A stop signal (`verify --repair`) is heard between two copies and between the blocks of a
 * large file read; the copy being made is then removed. An interruption leaves at most a
 * temporary file in the staging folder (the next run removes it) and a damaged copy's
 * second name in `damaged/`; a copy made elsewhere is recorded before it is placed, so a
 * kill between the two leaves it missing at its recorded name (the next repair makes it),
 * never an unrecorded stray.
 */
import { join, relative, sep } from "node:path";
import type { Source } from "../config/config.ts";
import type { StoredCopy } from "../state/store.ts";
import { loadDigests } from "../engine/digest.ts";
import { StoppedError, turnTaker } from "../engine/event_turn.ts";
import { pausePoint } from "../engine/fault.ts";
import { statFields } from "../engine/fs/folders.ts";
import { syncFiles } from "../engine/fs/flush.ts";
import {
  isStoredCopy,
  lstatOrNone,
  nativePath,
  removeQuietly,
  standsInPlace,
  storedEntry,
} from "../engine/fs/fsops.ts";
import { makeSymlink } from "../engine/fs/portability.ts";
import { placeStaged } from "../engine/fs/move.ts";
import { allocatePath, sourceFileOf, splitLogical, STATE_DIR, TMP_DIR } from "../core/layout.ts";
import { FileChangedError, READ_BUFFER_BYTES, stageEntryHeard } from "../engine/stage.ts";
import { updateCopyMeta } from "../engine/copy_in_place.ts";
import {
  diskFullError,
  errorText,
  isDiskFull,
  isOutOfOpenFiles,
  withFlagsRemedy,
} from "../engine/errors.ts";
import { replaceDamaged } from "./damaged_aside.ts";
import {
  isStagingRefusal,
  StagingRefusedError,
  stagingRefusedText,
} from "../engine/staging_folder.ts";
import { commandHint } from "../config/selection.ts";

export interface RepairOutcome {
  /** Storage path of the copy, relative to the backup root. */
  file: string;
  path: string;
  version: number;
  /** Where the content came from: a logical path, "recorded symlink target" or "empty file". */
  from?: string;
  /** Where the damaged copy went (relative to the backup root). */
  damagedTo?: string;
  /** Why it could not be repaired. */
  error?: string;
  /** Where the copy was made instead, its own place holding something put there by hand. */
  movedTo?: string;
}

export interface RepairContext {
  root: string;
  sources: readonly Source[];
  /** Tracked files (logical paths) whose current content has this digest. */
  holdersOf(hash: string, algo: string): string[];
  /**
   * Storage paths of the other stored copies with this copy's content (kind and digest, or
   * under another algorithm, bytes hashing to it), read as they are asked for.
   */
  storedWith(copy: StoredCopy): Iterable<string>;
  /**
   * Copies verify found changed that hold this digest under this algorithm instead of
   * their own content (copies renamed by hand over one another), as storage paths: where
   * each is now, its own place or, once its copy was made again, where it was kept aside.
   */
  changedHolding?(hash: string, algo: string): readonly string[];
  /** A changed copy was kept aside at `damagedTo` (both storage paths). */
  keptAside?(storedAt: string, damagedTo: string): void;
  /**
   * Files in the backup root that no copy is recorded at (verify's unknown files) of this
   * size, as storage paths: tried last, each checked against the recorded digest while it
   * is copied, never moved.
   */
  unknownOfSize?(size: number): readonly string[];
  /**
   * The symlinks in a folder's place that verify walked through (storage paths): a copy
   * it found changed behind one is not taken for one that may be behind it.
   */
  linksWalked?: ReadonlySet<string>;
  /**
   * Where the state stores copies, and how to record a copy made again elsewhere: with
   * these, a copy whose place holds something put there by hand is made at the next free
   * name (as a run does for a file it reads again); without, it is named as not repaired.
   */
  placement?: {
    isStoredAt(storage: string): boolean;
    isStoredBelow(storage: string): boolean;
    record(copy: StoredCopy, storedAt: string): void;
  };
}

/** The turn of a repair given no stop signal: nothing to hear, it runs to its end. */
const noStop = () => Promise.resolve();

/**
 * Repairs each copy in turn (missing, or there with the wrong bytes or of the wrong kind);
 * `signal`, a stop signal, is heard between two copies and between the blocks of one read.
 */
export async function repairCopies(
  ctx: RepairContext,
  copies: StoredCopy[],
  onOutcome?: (o: RepairOutcome) => void,
  signal?: AbortSignal,
): Promise<RepairOutcome[]> {
  await loadDigests();
  const buf = new Uint8Array(READ_BUFFER_BYTES);
  const outcomes: RepairOutcome[] = [];
  const turn = signal ? turnTaker(signal) : noStop;
  for (const copy of copies) {
    pausePoint("repairing"); // tests: a stop signal sent between two copies
    await turn(); // a stop signal ends the repair between two copies (StoppedError)
    const outcome: RepairOutcome = { file: copy.storedAt!, path: copy.path, version: copy.seq };
    const tmp = join(ctx.root, STATE_DIR, TMP_DIR, `repair-${crypto.randomUUID()}.tmp`);
    try {
      const elsewhere =
        ctx.placement && standsInPlace(storedEntry(ctx.root, copy.storedAt!), copy.kind)
          ? nextFreePlace(ctx.root, copy.storedAt!, ctx.placement)
          : undefined;
      const there = elsewhere === undefined && placeFor(ctx.root, copy.storedAt!);
      outcome.from = await remake(ctx, copy, tmp, buf, turn);
      if (elsewhere !== undefined) {
        // Recorded before it is placed: a kill between the two leaves a copy missing at its
        // recorded name, which the next repair makes, never an unrecorded stray.
        ctx.placement!.record(copy, elsewhere);
        outcome.movedTo = elsewhere;
      }
      if (there) {
        outcome.damagedTo = await replaceDamaged(ctx.root, copy.storedAt!, tmp);
        ctx.keptAside?.(copy.storedAt!, outcome.damagedTo);
      } else if (!(await placeStaged(tmp, nativePath(ctx.root, elsewhere ?? copy.storedAt!)))) {
        throw new Error("the new copy vanished before it was placed");
      }
    } catch (e) {
      if (e instanceof StoppedError) throw e; // a stop mid-copy: the copy left to the next
      stagingRefused(ctx, e); // every other copy would fail alike: the repair stops
      outcome.error = withFlagsRemedy(
        errorText(e),
        `then run '${commandHint("verify --repair")}' again`,
      );
    } finally {
      removeQuietly(tmp);
    }
    outcomes.push(outcome);
    onOutcome?.(outcome);
  }
  return outcomes;
}

/**
 * The next free name for a copy whose place is taken by something put there by hand: free
 * on disk and in the state, a file or symlink on the way renamed past as a run does.
 */
function nextFreePlace(
  root: string,
  storedAt: string,
  state: NonNullable<RepairContext["placement"]>,
): string {
  const disk = (p: string) => lstatOrNone(nativePath(root, p));
  return allocatePath(storedAt, {
    isFile: (p) => state.isStoredAt(p) || (disk(p) !== undefined && !disk(p)!.isDirectory),
    isDir: (p) => state.isStoredBelow(p) || disk(p)?.isDirectory === true,
  });
}

function placeFor(root: string, storedAt: string): boolean {
  const entry = storedEntry(root, storedAt);
  const fix = "move it out of the backup root, then repair again";
  if (entry === "unsafe") {
    throw new Error(`a folder on the way to it is a symlink or a file: ${fix}`);
  }
  if (entry !== undefined && !isStoredCopy(entry)) {
    throw new Error(`a folder (or another kind of entry) is in its place: ${fix}`);
  }
  return entry !== undefined;
}

/**
 * Throws, for the whole repair, where `e` is the staging folder refusing new files for a
 * flag (staging_folder.ts): said once, not once for each copy.
 */
function stagingRefused(ctx: RepairContext, e: unknown): void {
  const tmpDir = join(ctx.root, STATE_DIR, TMP_DIR);
  if (!isStagingRefusal(errorText(e), tmpDir)) return;
  throw new StagingRefusedError(
    `${
      stagingRefusedText(tmpDir, errorText(e), `then run '${commandHint("verify --repair")}' again`)
    }; the ` +
      "copies repaired before are in place",
  );
}

/**
 * Makes the copy's content at `tmp`, flushed; returns where it came from. `turn`: a stop
 * signal heard between the blocks of a large file read (`StoppedError`).
 */
async function remake(
  ctx: RepairContext,
  copy: StoredCopy,
  tmp: string,
  buf: Uint8Array,
  turn: () => Promise<void>,
): Promise<string> {
  if (copy.kind === "symlink") {
    if (copy.linkTarget === null) throw new Error("its symlink target was not recorded");
    makeSymlink(copy.linkTarget, tmp, copy.mode);
    return "recorded symlink target";
  }
  let from = "empty file";
  if (copy.size === 0) Deno.writeFileSync(tmp, new Uint8Array(0), { createNew: true });
  else from = await copyContent(ctx, copy, tmp, buf, turn);
  // Through its descriptor, checked to stand at its own path (see copy_in_place.ts).
  const storage = relative(ctx.root, tmp).split(sep).join("/");
  updateCopyMeta(ctx.root, storage, Deno.lstatSync(tmp), copy);
  await syncFiles([tmp]);
  return from;
}

/**
 * Copies the content from the first file that holds it now, checked while copying: a
 * source file (the path's own, or any tracked file with that digest), else another copy in
 * the backup (reached through real folders only). Returns where it came from.
 */
async function copyContent(
  ctx: RepairContext,
  copy: StoredCopy,
  tmp: string,
  buf: Uint8Array,
  turn: () => Promise<void>,
): Promise<string> {
  let unread: { label: string; why: string } | undefined;
  for (const { label, abs } of filesHolding(ctx, copy)) {
    const info = abs === undefined ? undefined : lstatOrNone(abs);
    if (abs === undefined || !info?.isFile || info.size !== copy.size) continue;
    try {
      const entry = { path: label, abs, kind: "file" as const, ...statFields(info) };
      const staged = await stageEntryHeard(entry, copy.algo, buf, tmp, turn);
      if (staged.hash === copy.hash) return label;
    } catch (e) {
      if (e instanceof StoppedError) throw e; // the caller removes the part made
      // The staging folder refuses the copy: no other file would do better.
      stagingRefused(ctx, e);
      // The new copy cannot be written: no other file would do better.
      if (isDiskFull(errorText(e))) {
        removeQuietly(tmp);
        throw diskFullError(ctx.root, errorText(e), "repair");
      }
      // Out of open files, neither the file nor the copy is at fault: said as it is (the
      // limit and the remedy follow, verify.ts), not as a file to make readable.
      if (isOutOfOpenFiles(errorText(e))) {
        removeQuietly(tmp);
        throw e;
      }
      // Unreadable or changing: the next one, and named if none does.
      const why = e instanceof FileChangedError ? "it kept changing while read" : errorText(e);
      unread ??= { label, why };
    }
    removeQuietly(tmp);
  }
  // A file that may hold it could not be read: the content may well not be lost.
  if (unread) {
    throw new Error(
      `'${unread.label}' may hold this content (it has its size) but could not be read: ` +
        `${unread.why}: make it readable, or wait until it stops changing, then repair again`,
    );
  }
  // The copy may be behind a symlink put in its place or in a folder's on its way (a
  // folder moved to another disk and linked back, the disk not mounted now), which nothing
  // here follows: not a content nothing holds, and so never forgotten. Where something
  // but a symlink stands at its name through a folder's link verify walked through, verify
  // read it there: it holds other bytes.
  const link = symlinkOnWay(ctx.root, copy.storedAt!);
  const through = link !== undefined && ctx.linksWalked?.has(link)
    ? lstatOrNone(nativePath(ctx.root, copy.storedAt!))
    : undefined;
  const readThrough = through !== undefined && !through.isSymlink;
  if (link !== undefined && !readThrough) {
    throw new Error(
      `no file the repair may read holds this content, but '${link}' is a symlink put in ` +
        "the backup root by hand, which it never follows, and the copy may be behind it: " +
        "put what it leads to back in its place (or remove it), then repair again",
    );
  }
  const { source } = splitLogical(copy.path);
  const configured = ctx.sources.some((s) => s.name === source);
  throw new Error(
    (configured
      ? "no file in the sources"
      : `its source '${source}' is not in the config, and no file`) + NOTHING_HOLDS,
  );
}

/**
 * The first symlink (a storage path) on the way to a storage path, or at it: a folder or a
 * copy someone replaced by a link.
 */
function symlinkOnWay(root: string, storage: string): string | undefined {
  const parts = storage.split("/");
  for (let i = 1; i <= parts.length; i++) {
    const at = parts.slice(0, i).join("/");
    const info = lstatOrNone(nativePath(root, at));
    if (info === undefined || !(info.isDirectory || info.isSymlink)) return undefined;
    if (info.isSymlink) return at;
  }
  return undefined;
}

/** How a copy nothing holds the content of is said (see `copyContent`). */
export const NOTHING_HOLDS = " nor any other copy in the backup holds this content now";

/**
 * The files that may hold a copy's content, in the order they are tried: the sources',
 * then the backup's (asked for only once the sources' are used up).
 */
function* filesHolding(ctx: RepairContext, copy: StoredCopy) {
  for (const path of [copy.path, ...ctx.holdersOf(copy.hash, copy.algo)]) {
    yield { label: path, abs: sourceFileOf(ctx.sources, path) };
  }
  for (const storedAt of ctx.storedWith(copy)) {
    if (storedAt === copy.storedAt || storedEntry(ctx.root, storedAt) === "unsafe") continue;
    yield { label: `stored copy '${storedAt}'`, abs: nativePath(ctx.root, storedAt) };
  }
  // A copy renamed by hand over another's name holds its content there (or, that one made
  // again already, where it was kept aside).
  for (const file of ctx.changedHolding?.(copy.hash, copy.algo) ?? []) {
    if (file === copy.storedAt || storedEntry(ctx.root, file) === "unsafe") continue;
    yield { label: `changed copy '${file}'`, abs: nativePath(ctx.root, file) };
  }
  for (const file of ctx.unknownOfSize?.(copy.size) ?? []) {
    if (file === copy.storedAt || storedEntry(ctx.root, file) === "unsafe") continue;
    yield { label: `unknown file '${file}'`, abs: nativePath(ctx.root, file) };
  }
}

/**
 * `verify --repair`: stored copies that verify found missing or changed are made again.
 * A symlink comes back from its recorded target and an empty file from nothing; any other
 * file is read again from a file that holds the same content now (a source file: the
 * path's own, or any tracked file with that digest; else another stored copy; else a file
 * in the backup root no copy is recorded at, of the same size, which stays there), checked
 * against the recorded digest while it is copied, given its recorded mode and time,
 * flushed, and linked into place. A damaged copy is kept in `.backup-tool/damaged/` (never
 * deleted: it is what the backup held). A copy nothing holds any more is named, with why;
 * with `forgetMissing`, an old one missing is recorded as lost instead (forget.ts).
 * Nothing is reached through a symlink or a file someone put in the backup root.
 *
 * Runs under the lock. An interruption leaves at most a temporary file (the next run
 * removes it) and a damaged copy's second name in `damaged/`; the copy's own path holds
 * the damaged copy or the new one at every moment.
 */
import { dirname, join, relative, sep } from "node:path";
import type { Config, Source } from "../config/config.ts";
import { openSession } from "../engine/session.ts";
import { requireState } from "./open.ts";
import { catalogOf, verifyBackup, type VerifyOptions, type VerifyReport } from "./verify.ts";
import { standingAt } from "./verify_listing.ts";
import { othersHoldingAnyAlgo } from "./other_algos.ts";
import type { StoredCopy } from "../state/store.ts";
import { loadDigests } from "../engine/digest.ts";
import { statFields } from "../engine/folders.ts";
import { syncFiles } from "../engine/flush.ts";
import { sameFile } from "../engine/identity.ts";
import {
  isStoredCopy,
  lstatOrNone,
  nativePath,
  removeQuietly,
  standsInPlace,
  storedEntry,
} from "../engine/fsops.ts";
import { makeSymlink, renameWithRetry } from "../engine/portability.ts";
import { moveOnce, placeStaged } from "../engine/move.ts";
import {
  allocatePath,
  DAMAGED_DIR,
  sourceFileOf,
  splitLogical,
  STATE_DIR,
  TMP_DIR,
} from "../engine/layout.ts";
import { FileChangedError, READ_BUFFER_BYTES, stageEntry } from "../engine/stage.ts";
import { updateCopyMeta } from "../engine/copy_in_place.ts";
import { diskFullError, errorText, isDiskFull, isOutOfOpenFiles } from "../engine/errors.ts";
import { faultPoint } from "../engine/fault.ts";
import { DiskProbe } from "../engine/foreign.ts";
import { copyKey, forgetMissing, forgottenLine } from "./forget.ts";

/** Where damaged copies are moved, inside the backup root's state folder. */
const DAMAGED = `${STATE_DIR}/${DAMAGED_DIR}`;

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

export interface RepairReport {
  report: VerifyReport;
  outcomes: RepairOutcome[];
  /** Everything found was repaired and nothing unknown is in the backup root. */
  ok: boolean;
  /** Copies and folders that could not be read, and were not made again. */
  unreadableLeft: number;
  /** With `forgetMissing`: the old copies recorded as lost (not among `outcomes`). */
  forgotten: RepairOutcome[];
  /** Why none was forgotten, when the limit held them back. */
  forgetRefused?: string;
}

/**
 * Verifies under the lock, then repairs what is missing or changed; each outcome is
 * logged in a `verify` log file, and the session is recorded like a run.
 */
export async function verifyAndRepair(
  config: Config,
  opts: Pick<VerifyOptions, "samplePercent"> & {
    /** What verify found, before anything is repaired. */
    onReport?: (report: VerifyReport) => void;
    /** Each copy as it is made again: a repair killed midway has said what it did. */
    onRepaired?: (o: RepairOutcome) => void;
    /** Old copies missing and not repaired are recorded as lost (forget.ts). */
    forgetMissing?: boolean;
    /** Forget them beyond `safety.max_delete_percent` too. */
    force?: boolean;
  },
): Promise<RepairReport> {
  requireState(config);
  // A lost source folder is when a repair from the backup's other copies matters most.
  const session = await openSession(config, "verify", { sourcesRequired: false });
  let status = "failed";
  try {
    const store = session.store;
    const report = await verifyBackup(config.backupRoot, catalogOf(store), opts);
    opts.onReport?.(report);
    // A copy that cannot be read (its permissions changed by hand) is as good as damaged:
    // restore cannot read it either. It is kept aside, like a changed one.
    const unreadable = report.unreadable.filter((u) => u.kind === "copy" && u.path !== undefined);
    const todo = [...report.missing, ...report.changed, ...unreadable].map((b) =>
      store.copiesOf(b.path!).find((c) => c.seq === b.version)!
    );
    // The other copies of the bad copies' contents: one read of the state, on the first need
    // (and one more for copies under another hash algorithm, should one need those).
    let others: ((c: StoredCopy) => Iterable<string>) | undefined;
    const everyCopy = () => store.eachStoredCopy();
    const view = session.store.planView();
    let strays: ((size: number) => readonly string[]) | undefined;
    const ctx: RepairContext = {
      root: config.backupRoot,
      sources: config.sources,
      holdersOf: view.holdersOf,
      storedWith: (c) => (others ??= othersHoldingAnyAlgo(config.backupRoot, todo, everyCopy))(c),
      // Files verify found that no copy is recorded at: a copy renamed by hand, or one a
      // copy of the backup root made while a run went on holds under its old name.
      unknownOfSize: (size) =>
        (strays ??= straysBySize(config.backupRoot, report.unknown.map((u) => u.file)))(size),
      placement: {
        isStoredAt: view.isFile,
        isStoredBelow: view.isDir,
        record: (c, storedAt) => session.store.recordStoredAt(c.id, storedAt),
      },
    };
    // Logged, and written out, as each is done: a repair killed midway still says what it
    // did (the log holds up to 4,096 lines otherwise; each copy costs an fsync anyway).
    // A copy that could not be repaired because nothing else holds its content, and that
    // could not be read itself, may be intact: its permissions changed, say.
    // By record, not by name: verify names a copy as the disk lists it (which a disk that
    // ignores case may spell otherwise).
    const key = (c: { path?: string; version?: number }) => copyKey(c.path!, c.version!);
    const unreadableWhy = new Map(unreadable.map((u) => [key(u), u.error]));
    const logged = (o: RepairOutcome) => {
      const why = o.error?.includes(NOTHING_HOLDS) ? unreadableWhy.get(key(o)) : undefined;
      if (why !== undefined) {
        o.error += `; the copy itself could not be read (${why}): if only its permissions ` +
          "were changed, give them back and verify again";
      }
      // With forgetMissing, a failure is logged once it is known not to be forgotten
      // instead: the log would otherwise name one copy both NOT REPAIRED and FORGOTTEN.
      if (o.error !== undefined && opts.forgetMissing) return;
      session.log.line(outcomeLine(o));
      session.log.flush();
      if (o.error === undefined) opts.onRepaired?.(o);
    };
    let outcomes = await repairCopies(ctx, todo, (o) => o.error === undefined && logged(o));
    // A copy made again may be what another one lacked: after a hash_algorithm change, a
    // source file recorded under the new algorithm is found only through its stored copy,
    // which may have been among the damaged. The others are tried once more, the copies
    // under other algorithms looked at anew.
    const firstFailed = outcomes.filter((o) => o.error !== undefined);
    if (firstFailed.length > 0 && firstFailed.length < outcomes.length) {
      others = undefined;
      const retry = new Set(firstFailed.map((o) => o.file));
      const again = await repairCopies(ctx, todo.filter((c) => retry.has(c.storedAt!)), logged);
      outcomes = [...outcomes.filter((o) => o.error === undefined), ...again];
    } else firstFailed.forEach(logged);
    // What stands where a copy was made elsewhere is now a file no copy is recorded at.
    const unknown = new Set(report.unknown.map((u) => u.file));
    for (const o of outcomes) {
      if (o.movedTo === undefined) continue;
      for (const file of standingAt(config.backupRoot, o.file)) {
        if (!unknown.has(file)) report.unknown.push({ file }); // a folder's: listed already
        unknown.add(file);
      }
    }
    // Only a copy that nothing holds the content of any more is forgotten: one that failed
    // for want of room, or because a file that may hold it could not be read, is made
    // again by a later repair, and a copy recorded as lost never is.
    const forget = opts.forgetMissing
      ? forgetMissing(
        store,
        outcomes.filter((o) => o.error?.includes(NOTHING_HOLDS)),
        new Set(report.missing.map(key)),
        todo,
        {
          total: store.storedOldCopies(),
          maxPercent: config.maxDeletePercent,
          force: opts.force === true,
        },
      )
      : { forgotten: [] };
    for (const o of forget.forgotten) session.log.line(forgottenLine(o));
    const forgotten = new Set(forget.forgotten);
    outcomes = outcomes.filter((o) => !forgotten.has(o));
    if (opts.forgetMissing) {
      for (const o of outcomes) if (o.error !== undefined) session.log.line(outcomeLine(o));
    }
    if (forget.refused) session.log.line(`ERROR: ${forget.refused}`);
    const failed = outcomes.filter((o) => o.error !== undefined).length;
    const repaired = new Set(outcomes.filter((o) => o.error === undefined).map(key));
    const unreadableLeft = report.unreadable.filter((u) =>
      u.kind !== "copy" || u.path === undefined || !repaired.has(key(u))
    );
    const ok = report.unknown.length + unreadableLeft.length === 0 && failed === 0;
    const forgottenSaid = opts.forgetMissing ? `, ${forgotten.size} forgotten` : "";
    session.log.line(
      `Verify complete: ${outcomes.length - failed} repaired, ${failed} not repaired` +
        `${forgottenSaid}, ${report.unknown.length} unknown file(s)`,
    );
    status = ok ? "ok" : "partial";
    return {
      report,
      outcomes,
      ok,
      unreadableLeft: unreadableLeft.length,
      forgotten: forget.forgotten,
      forgetRefused: forget.refused,
    };
  } finally {
    session.close(status, {});
  }
}

/** One line per repaired (or unrepaired) copy, for the log and the terminal. */
export function outcomeLine(o: RepairOutcome): string {
  const copy = `${o.file} (${o.path} v${o.version})`;
  if (o.error !== undefined) return `NOT REPAIRED: ${copy}: ${o.error}`;
  const aside = o.damagedTo ? `; the damaged copy is kept at ${o.damagedTo}` : "";
  const moved = o.movedTo
    ? `; made at '${o.movedTo}', something put there by hand standing in its place`
    : "";
  return `REPAIRED: ${copy} from ${o.from}${aside}${moved}`;
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
   * Files in the backup root that no copy is recorded at (verify's unknown files) of this
   * size, as storage paths: tried last, each checked against the recorded digest while it
   * is copied, never moved.
   */
  unknownOfSize?(size: number): readonly string[];
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

/** Repairs each copy in turn (missing, or there with the wrong bytes or of the wrong kind). */
export async function repairCopies(
  ctx: RepairContext,
  copies: StoredCopy[],
  onOutcome?: (o: RepairOutcome) => void,
): Promise<RepairOutcome[]> {
  await loadDigests();
  const buf = new Uint8Array(READ_BUFFER_BYTES);
  const outcomes: RepairOutcome[] = [];
  for (const copy of copies) {
    const outcome: RepairOutcome = { file: copy.storedAt!, path: copy.path, version: copy.seq };
    const tmp = join(ctx.root, STATE_DIR, TMP_DIR, `repair-${crypto.randomUUID()}.tmp`);
    try {
      const elsewhere =
        ctx.placement && standsInPlace(storedEntry(ctx.root, copy.storedAt!), copy.kind)
          ? nextFreePlace(ctx.root, copy.storedAt!, ctx.placement)
          : undefined;
      const there = elsewhere === undefined && placeFor(ctx.root, copy.storedAt!);
      outcome.from = await remake(ctx, copy, tmp, buf);
      if (elsewhere !== undefined) {
        // Recorded before it is placed: a kill between the two leaves a copy missing at its
        // recorded name, which the next repair makes, never an unrecorded stray.
        ctx.placement!.record(copy, elsewhere);
        outcome.movedTo = elsewhere;
      }
      if (there) outcome.damagedTo = await replaceDamaged(ctx.root, copy.storedAt!, tmp);
      else if (!(await placeStaged(tmp, nativePath(ctx.root, elsewhere ?? copy.storedAt!)))) {
        throw new Error("the new copy vanished before it was placed");
      }
    } catch (e) {
      outcome.error = errorText(e);
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

/** Makes the copy's content at `tmp`, flushed; returns where it came from. */
async function remake(
  ctx: RepairContext,
  copy: StoredCopy,
  tmp: string,
  buf: Uint8Array,
): Promise<string> {
  if (copy.kind === "symlink") {
    if (copy.linkTarget === null) throw new Error("its symlink target was not recorded");
    makeSymlink(copy.linkTarget, tmp, copy.mode);
    return "recorded symlink target";
  }
  let from = "empty file";
  if (copy.size === 0) Deno.writeFileSync(tmp, new Uint8Array(0), { createNew: true });
  else from = copyContent(ctx, copy, tmp, buf);
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
function copyContent(ctx: RepairContext, copy: StoredCopy, tmp: string, buf: Uint8Array) {
  let unread: { label: string; why: string } | undefined;
  for (const { label, abs } of filesHolding(ctx, copy)) {
    const info = abs === undefined ? undefined : lstatOrNone(abs);
    if (abs === undefined || !info?.isFile || info.size !== copy.size) continue;
    try {
      const entry = { path: label, abs, kind: "file" as const, ...statFields(info) };
      if (stageEntry(entry, copy.algo, buf, tmp).hash === copy.hash) return label;
    } catch (e) {
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
  const { source } = splitLogical(copy.path);
  const configured = ctx.sources.some((s) => s.name === source);
  throw new Error(
    (configured
      ? "no file in the sources"
      : `its source '${source}' is not in the config, and no file`) + NOTHING_HOLDS,
  );
}

/** How a copy nothing holds the content of is said (see `copyContent`). */
const NOTHING_HOLDS = " nor any other copy in the backup holds this content now";

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
  for (const file of ctx.unknownOfSize?.(copy.size) ?? []) {
    if (file === copy.storedAt || storedEntry(ctx.root, file) === "unsafe") continue;
    yield { label: `unknown file '${file}'`, abs: nativePath(ctx.root, file) };
  }
}

/**
 * The files among `files` (storage paths) that are regular files reached through real
 * folders, by size: looked at once, on the first need.
 */
function straysBySize(root: string, files: string[]): (size: number) => readonly string[] {
  const bySize = new Map<number, string[]>();
  const real = new Set<string>();
  for (const file of files) {
    const info = storedEntry(root, file, real);
    if (info === undefined || info === "unsafe" || !info.isFile) continue;
    const list = bySize.get(info.size);
    if (list) list.push(file);
    else bySize.set(info.size, [file]);
  }
  return (size) => bySize.get(size) ?? [];
}

/**
 * Puts the new copy (at `tmp`) in place of a damaged one, keeping the damaged one at the
 * first free `.backup-tool/damaged/<its path>[.~K]`: linked there first, then replaced by a
 * rename, so its path holds one copy or the other at every moment and a kill in between
 * loses neither. Where hard links are not available, it is moved aside first.
 */
async function replaceDamaged(root: string, storedAt: string, tmp: string): Promise<string> {
  const at = nativePath(root, storedAt);
  // A name there that is this very file already (a repair killed after linking it there)
  // is taken again: one damaged copy is kept once, not at a second name each try.
  const isThis = (p: string) => sameFile(at, nativePath(root, p));
  const disk = new DiskProbe(root);
  let to: string;
  try {
    to = allocatePath(`${DAMAGED}/${storedAt}`, {
      isFile: (p) => disk.kind(p) === "file" && !isThis(p),
      isDir: (p) => disk.kind(p) === "dir",
    });
  } finally {
    disk.close();
  }
  const aside = nativePath(root, to);
  Deno.mkdirSync(dirname(aside), { recursive: true });
  try {
    if (!isThis(to)) Deno.linkSync(at, aside);
  } catch {
    if (!(await moveOnce(at, aside))) throw new Error("the damaged copy vanished");
    if (!(await placeStaged(tmp, at))) {
      throw new Error("the new copy vanished before it was placed");
    }
    return to;
  }
  faultPoint("aside");
  await renameWithRetry(tmp, at);
  return to;
}

/**
 * `restore PATH --to -`: one file's content written to standard output (as `restic dump`
 * and `borg extract --stdout` do), chosen exactly as a restore chooses it (request.ts's
 * `choose`: the latest, `--at` or `--version`, its warnings said), read from the place a
 * restore would read it (copy_out.ts's `readFromAny`: its own copy, where a run moved it,
 * another stored copy of the same bytes) and checked against its recorded digest. A file of
 * up to HOLD_BYTES is read and checked whole before a byte is written, so a damaged copy
 * writes nothing and the next place holding the bytes is tried; a larger one is checked for
 * its size first, then written as it is read (READ_BUFFER_BYTES at a time, in bounded
 * memory), its digest checked at its end: a mismatch found then is said as damaged output
 * (`DamagedOutput`), the bytes being out already, and a read that fails then (an I/O error)
 * as output cut short (`CutShort`). A PATH that names a folder (as of the moment) or a
 * symlink is refused before anything is read. The state is read as a restore reads it,
 * without the lock; nothing is written but standard output, so an interruption leaves
 * nothing behind.
 */
import type { Config } from "../config/config.ts";
import { errorText, UsageError } from "../engine/errors.ts";
import { nativePath } from "../engine/fs/fsops.ts";
import { createDigest, loadDigests } from "../engine/digest.ts";
import { READ_BUFFER_BYTES } from "../engine/stage.ts";
import type { StateStore, StoredCopy } from "../state/store.ts";
import { isStored } from "./asof.ts";
import {
  damaged,
  isEmptyFile,
  openStoredFile,
  readFromAny,
  readStored,
  UnusableCopy,
} from "./copy_out.ts";
import { asRecorded } from "./logged_path.ts";
import { openState, resolverFor } from "./open.ts";
import { othersHoldingAnyAlgo } from "./other_algos.ts";
import { choose, movedOf, prunedBy, type RestoreHooks, type RestoreRequest } from "./request.ts";
import type { Problem } from "./select.ts";
import { commandHint } from "../config/selection.ts";

/**
 * A file up to this size is read and checked whole before any of it is written; a larger
 * one is written as it is read. 8 MiB: a text, a config, a small database dump never shows
 * bytes that fail their digest, and the memory held stays small.
 */
export const HOLD_BYTES = 8 * 1024 * 1024;

/** Where the content goes: standard output (cli/stdout.ts's `Output`). */
export interface ContentSink {
  write(bytes: Uint8Array): void;
  /** The reader went away (`| head -c 10`): nothing more is read. */
  readonly readerGone: boolean;
  /** Why a write failed, once one did (a full disk behind `> file`): nothing more is read. */
  readonly failure: unknown;
}

/** A content found damaged once some of it was written out: the output is damaged. */
export class DamagedOutput extends Error {}

/** A stored copy that could not be read (an I/O error) once some of it was written out. */
export class CutShort extends Error {}

export interface StreamOutcome {
  /** The content written (or begun), once one was chosen and found. */
  copy?: StoredCopy;
  /** The PATH not found, or the content not restorable (pruned, damaged everywhere). */
  problems: Problem[];
  /** Bytes handed to the sink. */
  written: number;
  /** Read from another copy than its own: what to know about its own (as write.ts says it). */
  note?: string;
  /** The bytes written fail the recorded digest (found after output began): why. */
  damagedOutput?: string;
  /** The stored copy could not be read on (after output began): why. */
  cutShort?: string;
}

/**
 * Writes the content `request` (one PATH, no `to`) names to `sink`; throws a UsageError
 * (nothing written) for a PATH that names a folder or a symlink.
 */
export async function restoreToStream(
  config: Config,
  request: RestoreRequest,
  hooks: Pick<RestoreHooks, "warn" | "excluded" | "heldBack">,
  sink: ContentSink,
): Promise<StreamOutcome> {
  const store = openState(config);
  try {
    const given = request.paths[0];
    const resolver = resolverFor(config, store);
    const target = asRecorded(resolver, given);
    if (
      !resolver.isFile(target) && resolver.isFolder(target) && isFolderThen(store, target, request)
    ) {
      throw notAFile(given, "folder", request.at);
    }
    const chosen = choose(config, store, request, hooks);
    const { selection, unfinished, root } = chosen;
    const found: StoredCopy[] = [];
    for (const c of selection.contents) {
      // A file at the moment asked is alone at its path; anything below it is a folder's.
      if (c.path !== target || found.length > 0) throw notAFile(given, "folder", request.at);
      found.push(c);
    }
    const [copy] = found;
    // A folder with no file below it then (empty, or holding only folders): found, not a file.
    if (copy === undefined && store.folderStood(target, request.at)) {
      throw notAFile(given, "folder", request.at);
    }
    if (copy === undefined) return { problems: selection.problems, written: 0 };
    if (copy.kind !== "file") throw notAFile(given, "symlink", request.at);
    await loadDigests();
    if (isEmptyFile(copy)) return { copy, problems: [], written: 0 }; // its record is all of it
    const state = { written: 0 };
    const buf = new Uint8Array(READ_BUFFER_BYTES);
    try {
      const from = await readFromAny(
        root,
        copy,
        {
          fallbacksOf: (c) => othersHoldingAnyAlgo(root, [c], () => store.eachStoredCopy())(c),
          movedOf: (storedAt) => movedOf(store, unfinished, storedAt),
          prunedOf: (storedAt) => prunedBy(store, unfinished, storedAt),
          recordedNow: (c) => store.copiesOf(c.path).find((now) => now.id === c.id),
        },
        (at) => {
          streamChecked(nativePath(root, at), copy, buf, sink, state);
          return Promise.resolve();
        },
      );
      const note = from.own || !isStored(copy) ? undefined : `its copy '${copy.storedAt}' is ` +
        `missing or damaged: read from '${from.from}', which holds the same content; run ` +
        `'${commandHint("verify --repair")}'`;
      return { copy, problems: [], written: state.written, ...note ? { note } : {} };
    } catch (e) {
      if (e instanceof DamagedOutput) {
        return { copy, problems: [], written: state.written, damagedOutput: e.message };
      }
      if (e instanceof CutShort) {
        return { copy, problems: [], written: state.written, cutShort: e.message };
      }
      // Nothing written: a copy unusable, or one that cannot be read (an I/O error), said as
      // the restore `--to DIR` says it (write.ts).
      const problem: Problem = {
        path: copy.path,
        version: copy.seq,
        kind: "error",
        reason: e instanceof UnusableCopy ? e.message : errorText(e),
      };
      return { copy, problems: [problem], written: 0 };
    }
  } finally {
    store.close();
  }
}

/**
 * Whether a path never recorded as a file, with files recorded below it, is a folder at the
 * moment asked (the latest, or `--at`): one made since, or deleted by then, is not, and is
 * left to the selection to say not in the backup, as a restore says it. With `--version` it
 * is (a folder has no versions); the root always is.
 */
function isFolderThen(store: StateStore, folder: string, request: RestoreRequest): boolean {
  if (request.version !== undefined || folder === "") return true;
  return store.recordedBelowAt(folder, request.at ?? Number.MAX_SAFE_INTEGER, 1).length > 0;
}

/** Why a PATH that names no file (as of `at`, where given) is refused. */
function notAFile(given: string, kind: "folder" | "symlink", at?: number): UsageError {
  const when = at === undefined ? "" : ` as of ${new Date(at).toISOString()}`;
  const what = kind === "folder"
    ? `it is a folder${when}: give one file's PATH, or restore the folder with --to DIR`
    : `it is a symlink${when}, which has no bytes of its own: give the file it leads to, ` +
      "or restore the symlink with --to DIR";
  return new UsageError(`Cannot write '${given}' to standard output (--to -): ${what}`);
}

/**
 * Writes the stored copy at `stored` to `sink`, checked against the content `c` records:
 * whole once checked (up to HOLD_BYTES), else as it is read. Throws UnusableCopy for a copy
 * missing, or damaged before anything was written (another place may hold the bytes), and
 * DamagedOutput for one found damaged after (CutShort for one that cannot be read on); ends
 * early, unchecked, once the sink takes no more. `state.written` counts the bytes handed to
 * the sink.
 */
function streamChecked(
  stored: string,
  c: StoredCopy,
  buf: Uint8Array,
  sink: ContentSink,
  state: { written: number },
): void {
  const opened = readStored(() => openStoredFile(stored), stored);
  using src = opened.file;
  if (opened.info.size !== c.size) throw damaged(stored, c); // nothing written: told at once
  const whole = c.size <= HOLD_BYTES ? new Uint8Array(c.size) : undefined;
  const h = createDigest(c.algo);
  const mismatch = () =>
    state.written === 0 ? damaged(stored, c) : new DamagedOutput(
      `its stored copy '${stored}' does not match its recorded ${c.algo} digest, found ` +
        `once ${state.written} bytes of it were written`,
    );
  let total = 0;
  const read = () => {
    try {
      return src.read(buf);
    } catch (e) {
      if (state.written === 0) throw e; // nothing out yet: said as a restore says it
      throw new CutShort(`${errorText(e)}, once ${state.written} bytes of it were written`);
    }
  };
  for (let n = read(); n > 0; n = read()) {
    if (total + n > c.size) throw mismatch(); // grew since it was looked at
    const chunk = buf.subarray(0, n);
    h.update(chunk);
    if (whole) whole.set(chunk, total);
    else {
      sink.write(chunk);
      state.written += n;
      if (sink.readerGone || sink.failure !== undefined) return;
    }
    total += n;
  }
  if (total !== c.size || h.digest("hex") !== c.hash) throw mismatch();
  if (whole) {
    sink.write(whole);
    state.written = whole.length;
  }
}

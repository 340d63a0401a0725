/**
 * What `ls` lists: the files and symlinks a restore of the same PATHs as of the same moment
 * would write, each with its content number, size, modification time and the copy in the
 * backup root it would be read from, found by restore's own selection (request.ts
 * `choose`, select.ts): the state opened read-only without the run lock, read a page of
 * paths at a time, each file handed on as it comes, never the whole list held. The
 * problems restore would report (pruned, lost, not found) come back at the end, a copy an
 * interrupted run's retention deleted among them, as restore finds it once it looks for
 * the copy (copy_out.ts), unless another copy holds its bytes. Reads only:
 * nothing in the backup root is written, so an interruption leaves nothing.
 */
import type { Config } from "../config/config.ts";
import { isStoredCopy, storedEntry } from "../engine/fs/fsops.ts";
import type { CopyLocation } from "../core/types.ts";
import type { StoredCopy } from "../state/store.ts";
import { isStored } from "./asof.ts";
import { prunedUnrecordedReason } from "./copy_out.ts";
import { openState } from "./open.ts";
import { othersHoldingAnyAlgo } from "./other_algos.ts";
import { choose, type Chosen, prunedBy, type RestoreHooks } from "./request.ts";
import type { PathFilter } from "./path_filter.ts";
import type { Selection } from "./select.ts";
import { prunedNow, whereNow } from "./unfinished.ts";

/** One file or symlink as `ls` lists it (and `--json` gives it). */
export interface ListedFile {
  /** The logical path, the source's name in front, as the logs write it. */
  path: string;
  /** Its content number, as `history PATH` lists it and `restore --version` takes it. */
  version: number;
  kind: "file" | "symlink";
  size: number;
  /** The modification time recorded with the content (ISO). */
  mtime: string;
  linkTarget?: string;
  /** Where its own copy is recorded: latest, version, duplicate, deleted, pruned or lost. */
  location: CopyLocation;
  /**
   * The copy a restore reads, relative to the backup root; null where none is read (an empty
   * file or a symlink whose copy is gone: made from the record alone).
   */
  storedAt: string | null;
  /** Its own copy gone: "other-copy" (storedAt holds the same bytes), or "record". */
  readFrom?: "other-copy" | "record";
  /** Where a run interrupted before its commit moved the copy recorded at storedAt. */
  movedTo?: string;
  /** An exclude pattern took it out since: this is its last content backed up. */
  excluded?: true;
  /** Excluded then, not now (the exclusion ended since): from when, until when (ISO). */
  excludedFrom?: string;
  excludedUntil?: string;
}

/** What to list, as parsed from the command line: restore's PATHs, `--at` and patterns. */
export interface ListRequest {
  paths: string[];
  at?: number;
  /** `--include` and `--exclude`: only the files they keep (path_filter.ts). */
  filter?: PathFilter;
}

type ListHooks = Pick<RestoreHooks, "warn" | "excluded" | "heldBack">;

/**
 * Lists what `request` would restore: `show` reads the files, in the order restore would
 * restore them, each read from the state as it is asked for (the state is open while
 * `show` runs); then the problems restore would report and its notes (an `--exclude` that
 * matched nothing), complete once `show` read every file. Throws a UsageError or
 * PreflightError (exit code 2) before any file.
 */
export function listRequest(
  config: Config,
  request: ListRequest,
  hooks: ListHooks,
  /** `problems` and `notes`: those so far; complete once every file was read. */
  show: (files: Iterable<ListedFile>, said: Pick<Selection, "problems" | "notes">) => void,
): Pick<Selection, "problems" | "notes"> {
  const store = openState(config);
  try {
    const chosen = choose(config, store, { ...request, overwrite: false }, hooks, "shows");
    show(filesOf(config, chosen), chosen.selection);
    return chosen.selection;
  } finally {
    store.close();
  }
}

function* filesOf(
  config: Config,
  { store, selection, unfinished, excluded }: Chosen,
): Generator<ListedFile> {
  const root = config.backupRoot;
  const held = (storage: string) => isStoredCopy(storedEntry(root, storage));
  for (const c of selection.contents) {
    const moved = c.storedAt === null || unfinished.moved.size === 0
      ? undefined
      : whereNow(unfinished, c.storedAt, held);
    let file = listed(c);
    // Deleted by an interrupted run's retention, not recorded yet: read as restore reads it
    // (copy_out.ts), from another copy of its bytes or its record, else pruned as it says.
    if (moved === undefined && isStored(c) && prunedNow(unfinished, c.storedAt!, held)) {
      const other = first(othersHoldingAnyAlgo(root, [c], () => store.eachStoredCopy())(c), held);
      if (other !== undefined) file = { ...file, storedAt: other, readFrom: "other-copy" };
      else if (c.kind === "symlink" && c.linkTarget !== null) {
        file = { ...file, storedAt: null, readFrom: "record" };
      } else {
        // Named by prunedBy, as prunedNow found it among the interrupted run's prunes.
        const by = prunedBy(store, unfinished, c.storedAt!)!;
        selection.problems.push({
          path: c.path,
          version: c.seq,
          kind: "pruned",
          reason: prunedUnrecordedReason(c.seq, by),
        });
        continue;
      }
    }
    const span = excluded.endedSpan(c);
    yield {
      ...file,
      ...moved === undefined ? {} : { movedTo: moved },
      ...excluded.keeps(c) ? { excluded: true as const } : {},
      ...span === undefined ? {} : {
        excludedFrom: new Date(span.from).toISOString(),
        excludedUntil: new Date(span.to).toISOString(),
      },
    };
  }
}

/** The first of `places` that holds a copy. */
function first(places: Iterable<string>, held: (storage: string) => boolean) {
  for (const at of places) if (held(at)) return at;
  return undefined;
}

/** A content as listed. A gone copy's record has no storage path: one there is another's. */
function listed(c: StoredCopy): ListedFile {
  const own = isStored(c);
  return {
    path: c.path,
    version: c.seq,
    kind: c.kind,
    size: c.size,
    mtime: new Date(c.mtimeMs).toISOString(),
    ...c.linkTarget === null ? {} : { linkTarget: c.linkTarget },
    location: c.location,
    storedAt: c.storedAt,
    ...own ? {} : { readFrom: c.storedAt === null ? "record" as const : "other-copy" as const },
  };
}

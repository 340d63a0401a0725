/**
 * A restore as the command line asks for it, from the PATHs and options given to what
 * became of each file: the `--to` folder checked, the state opened read-only (no lock:
 * read as the restore goes, never held whole), the warnings said (a moment ahead of the
 * backup's runs, a run's unfinished work or runs cut short, deletions the guard held back),
 * the contents selected, the
 * `--to` folder made, and every content written by restoreAll (batches.ts), read from
 * another copy of the same bytes where its own is gone. Each file is written atomically
 * (write.ts), so an interruption leaves complete files and at most two batches of hidden
 * temporary files; a `--to` folder made for a restore that restored nothing goes again.
 * The folders that stood at the moment below the PATHs are made too, empty ones included
 * (standing_folders.ts), after the files and before any folder's time is set.
 * A dry run (`dryRun`) goes through the same selection and decisions, writing nothing, and
 * names the folders it would make.
 * With `--include` or `--exclude`, only the files they keep are chosen (select.ts): an
 * include that matches no file asked for is said as a PATH not found is, the rest restored;
 * an exclude that matches none is said in a note.
 * `ls` lists what the same selection (`choose`) gives, writing nothing.
 */
import { dirname } from "node:path";
import type { Config } from "../config/config.ts";
import { atWarning } from "../core/clock_ahead.ts";
import { errorText, UsageError } from "../engine/errors.ts";
import { removeQuietly } from "../engine/fs/fsops.ts";
import type { StateStore, StoredCopy } from "../state/store.ts";
import type { Selector } from "./asof.ts";
import { addFolders, restoreAll } from "./batches.ts";
import { dryRunAll } from "./dry_run.ts";
import {
  type ExcludedInRestore,
  excludedInRestore,
  type ExcludedRoot,
  excludedSaid,
} from "./excluded.ts";
import type { HeldRun } from "../state/run_queries.ts";
import { asRecorded } from "./logged_path.ts";
import { type FolderProblem, foldersToMake } from "./made_folders.ts";
import { openState, resolverFor, runningNow } from "./open.ts";
import { othersHoldingAnyAlgo } from "./other_algos.ts";
import type { PathResolver } from "./paths.ts";
import type { RestoreItem, RestoreResult } from "./restore_item.ts";
import { restoredHere } from "./filtered.ts";
import type { PathFilter } from "./path_filter.ts";
import { type Problem, selectForRestore, type Selection } from "./select.ts";
import { checkedToFolder, makeToFolder } from "./to_folder.ts";
import { type FolderItem, folderItems, standingFolders } from "./standing_folders.ts";
import { movedTo, type Unfinished, unfinishedWarning, unfinishedWork } from "./unfinished.ts";
import { commandHint } from "../config/selection.ts";

/** What to restore, as parsed from the command line. */
export interface RestoreRequest {
  /** The PATHs as given (relative, as the logs show them, absolute, ./ or ../); none: all. */
  paths: string[];
  /** `--at`: the moment whose tree is restored. */
  at?: number;
  /** `--version`: the content number of the one file given. */
  version?: number;
  /** `--to`: the folder written under, absolute; none: back into the sources. */
  to?: string;
  overwrite: boolean;
  /** `--dry-run`: say what the restore would do to each destination, writing nothing. */
  dryRun?: boolean;
  /** `--include` and `--exclude`: only the files they keep (path_filter.ts). */
  filter?: PathFilter;
}

/** Listens for stop signals from when the files begin to be written (cli/stop.ts). */
interface StopListener {
  /** Aborted by the first signal: the restore stops once the batch being flushed is in place. */
  readonly signal: AbortSignal;
  /** The exit code the first signal asks for, once one came. */
  exitCode(): number | undefined;
  dispose(): void;
}

export interface RestoreHooks {
  /** A warning line, said as soon as it is known, before any file is written. */
  warn(line: string): void;
  /** The files excluded since they were backed up that it restores, by folder, before any. */
  excluded(roots: ExcludedRoot[]): void;
  /** The runs whose guard held deletions back that it restores after (held_back.ts). */
  heldBack(runs: HeldRun[]): void;
  /** What became of each file, as it comes. */
  onResult(r: RestoreResult): void;
  /** Each folder a restore that writes made for itself (standing_folders.ts), as it comes. */
  onFolderMade?(item: FolderItem): void;
  listenForStop(): StopListener;
}

interface RestoreOutcome {
  /** PATHs and contents not restored before a file was written (not found, pruned, lost). */
  problems: Problem[];
  /** A dry run's: the folders the restore would make besides those on the way to files. */
  wouldMake?: FolderItem[];
  /**
   * Folders not made, or made but whose recorded mode or time could not be set; a dry
   * run's: those it would not make (a file or a symlink in the way).
   */
  folderProblems: FolderProblem[];
  /**
   * Said once each, such as a disk that keeps no modes (kept_meta.ts), or an `--exclude`
   * that matched no file asked for (select.ts).
   */
  notes: string[];
  /** The exit code a stop signal asked for, when one cut the restore short. */
  stoppedCode?: number;
}

/** The contents a request selects, and what their writing needs. */
export interface Chosen {
  store: StateStore;
  root: string;
  request: RestoreRequest;
  resolver: PathResolver;
  selection: Selection;
  /** Whether the restore restores a file at or below a logical path (twins.ts). */
  restoresAt: (logical: string) => boolean;
  unfinished: Unfinished;
  excluded: ExcludedInRestore;
  /**
   * The folders that stood at the moment below the PATHs, empty ones too (logical paths),
   * read as they are taken, once: none for `ls`.
   */
  folders: Iterable<string>;
}

/** Restores what `request` names; throws a UsageError or PreflightError before writing. */
export async function restoreRequest(
  config: Config,
  request: RestoreRequest,
  hooks: RestoreHooks,
): Promise<RestoreOutcome> {
  const to = request.to === undefined ? undefined : checkedToFolder(request.to, config.backupRoot);
  const store = openState(config);
  try {
    const chosen = choose(config, store, { ...request, to }, hooks);
    return request.dryRun ? await dryRunChosen(chosen, hooks) : await writeChosen(chosen, hooks);
  } finally {
    store.close();
  }
}

/**
 * Selects the contents, saying each warning in its turn: what a restore writes, and what
 * `ls` lists (`doing`: "shows"), from the state `store` opened read-only.
 */
export function choose(
  config: Config,
  store: StateStore,
  request: RestoreRequest,
  hooks: Pick<RestoreHooks, "warn" | "excluded" | "heldBack">,
  doing: "restores" | "shows" = "restores",
): Chosen {
  const { at, version, paths } = request;
  const warn = hooks.warn;
  if (at !== undefined) {
    const clock = Date.now();
    const times = { latest: store.latestRunTime(), inOrder: store.latestRunTime(clock), clock };
    const ahead = atWarning(at, times, commandHint);
    if (ahead) warn(ahead);
  }
  const resolver = resolverFor(config, store);
  resolver.restores = doing === "restores";
  const targets = paths.map((t) => asRecorded(resolver, t));
  const selector = selectorFor(request, targets, resolver);
  const selection = selectionOf(
    store,
    config.backupRoot,
    request,
    targets,
    selector,
    resolver,
    doing === "shows",
  );
  const unfinished = unfinishedWork(store.pendingIntents());
  // Runs cut short after a commit, as of the moment restored (a version is itself).
  const cut = version === undefined ? store.cutRuns(at) : undefined;
  const warning = unfinishedWarning(unfinished, doing, runningNow(config), cut, at);
  if (warning) warn(warning);
  // Deletions the guard held back, as of the moment restored (a version is itself).
  const held = version === undefined ? store.heldBackRuns(at) : [];
  if (held.length > 0) hooks.heldBack(held);
  const restoresAt = restoredHere(store, selector, targets, request.filter);
  const excluded = excludedInRestore(store, targets, selector, request.filter);
  if (excluded.roots.length > 0) hooks.excluded(excluded.roots);
  const root = config.backupRoot;
  const folders = doing === "restores"
    ? standingFolders(store, selector, targets, request.filter)
    : [];
  return { store, root, request, resolver, selection, restoresAt, unfinished, excluded, folders };
}

function selectionOf(
  store: StateStore,
  root: string,
  { paths, at, filter }: RestoreRequest,
  targets: string[],
  selector: Selector,
  resolver: PathResolver,
  lists: boolean,
): Selection {
  const others = paths.map((t, i) => resolver.otherReading(t) ?? resolver.leftReading(targets[i]));
  return selectForRestore(
    store,
    root,
    selector,
    targets,
    paths,
    at,
    others,
    // A PATH copied from a look at the backup root (`versions/a.txt/v2.bak`): whose copy
    // (asked only for a PATH never recorded: see selectForRestore).
    (given, target) => resolver.storedCopyHintFor(given, target),
    lists,
    filter,
  );
}

/**
 * Writes the chosen contents, listening for stop signals meanwhile; the `--to` folders
 * made for it go again (each only if empty) when nothing was restored or found up to date.
 */
async function writeChosen(chosen: Chosen, hooks: RestoreHooks): Promise<RestoreOutcome> {
  const { store, root, request, resolver, selection, unfinished, excluded } = chosen;
  const stop = hooks.listenForStop();
  let madeTo: string[] = [];
  let done = 0;
  try {
    if (request.to !== undefined) madeTo = makeToFolder(request.to);
    const { stopped, folderProblems, notes } = await restoreAll(
      root,
      destinations(selection.contents, resolver, request.to, selection.problems),
      {
        overwrite: request.overwrite,
        fallbacksFor: (copies) => othersHoldingAnyAlgo(root, copies, () => store.eachStoredCopy()),
        movedOf: (storedAt) => movedOf(store, unfinished, storedAt),
        prunedOf: (storedAt) => prunedBy(store, unfinished, storedAt),
        recordedNow: (c) => store.copiesOf(c.path).find((now) => now.id === c.id),
        onResult: (r) => {
          if (isInPlace(r)) done++;
          hooks.onResult(excludedSaid(r, excluded));
        },
        signal: stop.signal,
        folders: placedFolders(chosen, selection.problems),
        onFolderMade: hooks.onFolderMade,
        folderMetaOf: (logical) => store.folderMeta(logical),
        restoredHere: chosen.restoresAt,
      },
    );
    const stoppedCode = stopped ? stop.exitCode() : undefined;
    // The selection's notes (an --exclude that matched nothing) after the writing's own.
    return {
      problems: selection.problems,
      folderProblems,
      notes: [...notes, ...selection.notes],
      stoppedCode,
    };
  } finally {
    stop.dispose();
    if (done === 0) madeTo.forEach(removeQuietly);
  }
}

/**
 * Says what writing the chosen contents would do (dry_run.ts): the `--to` folder is not
 * made, nor is anything else.
 */
async function dryRunChosen(chosen: Chosen, hooks: RestoreHooks): Promise<RestoreOutcome> {
  const { root, request, resolver, selection, excluded } = chosen;
  // The folders of files it would restore, made on the way to them, and of those it would
  // not: neither made as folders for themselves, as the restore does not (batches.ts), the
  // files' lines said, or why not.
  const filesIn = new Set<string>();
  await dryRunAll(
    root,
    destinations(selection.contents, resolver, request.to, selection.problems),
    {
      overwrite: request.overwrite,
      onResult: (r) => {
        addFolders(filesIn, dirname(r.dest), r.base);
        hooks.onResult(excludedSaid(r, excluded));
      },
      restoredHere: chosen.restoresAt,
    },
  );
  const folders = placedFolders(chosen, selection.problems);
  const { wouldMake, refused } = foldersToMake(folders, (dest) => filesIn.has(dest));
  return {
    problems: selection.problems,
    folderProblems: refused,
    notes: selection.notes,
    wouldMake,
  };
}

/**
 * Where a copy recorded at `storedAt` may be now: where the interrupted run found at the
 * start moved it, else where the journal read again says (a run going on, between its file
 * steps and its commit). Asked only of a copy not found where it was recorded.
 */
export function movedOf(store: StateStore, unfinished: Unfinished, storedAt: string): string[] {
  const moved = movedTo(unfinished, storedAt);
  return moved.length > 0 ? moved : movedTo(unfinishedWork(store.pendingIntents()), storedAt);
}

/**
 * Which run's retention deleted the copy recorded at `storedAt` without recording it yet,
 * if one did: the interrupted run found at the start, else one whose journal, read again,
 * says so (a run going on, or one killed since the restore began). Asked only of a copy
 * that could not be read from anywhere.
 */
export function prunedBy(store: StateStore, unfinished: Unfinished, storedAt: string) {
  if (unfinished.pruned.has(storedAt)) return "by the interrupted run, which the next run records";
  return unfinishedWork(store.pendingIntents()).pruned.has(storedAt)
    ? "by a run that has not recorded it yet"
    : undefined;
}

/** A file restored, or found up to date: what the restore put or left in place. */
const isInPlace = (r: RestoreResult) =>
  r.reason === undefined && (r.outcome === "restored" || r.outcome === "up-to-date");

/** Where each content goes, as it comes; one with nowhere to go is added to `problems`. */
function* destinations(
  chosen: Iterable<StoredCopy>,
  resolver: PathResolver,
  to: string | undefined,
  problems: Problem[],
): Generator<RestoreItem> {
  for (const copy of chosen) {
    try {
      yield { copy, ...resolver.destination(copy.path, to) };
    } catch (e) {
      problems.push({ path: copy.path, version: copy.seq, kind: "error", reason: errorText(e) });
    }
  }
}

/**
 * Where each folder to make goes. One with no place (a source the config no longer names,
 * restored in place: an empty folder PATH of it would else restore nothing and say
 * nothing) is left out, and said as a file is, once a source (the reason is the source's),
 * unless a file of that source said it already (the files are placed first).
 */
function placedFolders(chosen: Chosen, problems: Problem[]): Iterable<FolderItem> {
  const { resolver, request } = chosen;
  const said = new Set<string>();
  return folderItems(chosen.folders, (f) => resolver.destination(f, request.to), (path, e) => {
    const source = path.slice(0, path.indexOf("/"));
    if (said.has(source)) return;
    said.add(source);
    if (problems.some((p) => p.kind === "error" && p.path.startsWith(`${source}/`))) return;
    problems.push({ path, kind: "error", reason: errorText(e) });
  });
}

/** The contents asked for: a version of one file, the tree at a moment, or the latest. */
function selectorFor(
  { version, at, paths }: RestoreRequest,
  targets: string[],
  resolver: PathResolver,
): Selector {
  if (version !== undefined) {
    if (targets.length !== 1) {
      throw new UsageError(
        "Cannot use --version without exactly one file PATH: it picks one file's version",
      );
    }
    if (!resolver.isFile(targets[0]) && resolver.isFolder(targets[0])) {
      throw new UsageError(`Cannot use --version with folder '${paths[0]}': give one file PATH`);
    }
    return { kind: "version", path: targets[0], seq: version };
  }
  return at === undefined ? { kind: "latest" } : { kind: "at", time: at };
}

/**
 * What an interrupted run did without recording it. A run journals each batch (an intent)
 * before its file steps and records their results at the commit; killed in between, it
 * leaves stored copies moved (archived to `versions/`, deleted to `_deleted/`, promoted)
 * and new copies placed that the state does not know yet, and old versions deleted by
 * retention that the state still lists. The next `run`, `watch` or
 * `verify --repair` finishes that work first; `restore` and `verify`, which never write,
 * see the state as of the last commit instead, so they are told where the copies went.
 * Runs cut short after a commit (see `cutRuns` in the state) are said too, to a restore.
 * Pure: from the journaled actions and the runs given; nothing is read or written.
 */
import type { Action } from "../core/types.ts";
import type { CutRun, CutRuns } from "../state/run_queries.ts";
import { commandHint } from "../config/selection.ts";

export interface Unfinished {
  /** Actions journaled and never committed. */
  actions: number;
  /** Where an unfinished action moves each stored copy (recorded path → new path). */
  moved: Map<string, string>;
  /** Storage paths where unfinished actions place copies that no record holds yet. */
  placed: Set<string>;
  /** Stored copies unfinished actions delete (retention's prunes), by storage path. */
  pruned: Set<string>;
  /** The time the earliest of them was to be recorded at: a moment before it holds none. */
  since?: number;
}

export function unfinishedWork(
  intents: readonly { actions: readonly Action[]; createdAt?: number }[],
): Unfinished {
  const work: Unfinished = { actions: 0, moved: new Map(), placed: new Set(), pruned: new Set() };
  for (const intent of intents) {
    if (intent.createdAt !== undefined) {
      work.since = Math.min(work.since ?? intent.createdAt, intent.createdAt);
    }
    for (const a of intent.actions) {
      work.actions++;
      note(work, a);
    }
  }
  return work;
}

function note(work: Unfinished, a: Action): void {
  switch (a.type) {
    case "backup":
      work.placed.add(a.target);
      return;
    case "modified":
    case "duplicate":
      if (a.archive) work.moved.set(a.archive.from, a.archive.to);
      work.placed.add(a.target);
      return;
    case "delete":
    case "promote":
      work.moved.set(a.from, a.to);
      return;
    case "skip":
      if (a.refresh?.relocatedTo !== undefined) work.placed.add(a.refresh.relocatedTo);
      return;
    case "prune":
      work.pruned.add(a.storedAt);
      return;
    case "exclude":
      return;
  }
}

/**
 * Where a copy recorded at `storedAt` may be now, in the order the journal moves it (an
 * action journaled but not begun leaves it where it was: callers look there first).
 */
export function movedTo(work: Unfinished, storedAt: string): string[] {
  const places: string[] = [];
  // A chain is at most as long as the journal; the bound only guards against a cycle.
  for (let at = work.moved.get(storedAt); at !== undefined; at = work.moved.get(at)) {
    if (places.length >= work.moved.size || at === storedAt) break;
    places.push(at);
  }
  return places;
}

/**
 * Where a copy recorded at `storedAt` is now, if an interrupted run moved it: the furthest
 * place along its moves that holds a file or symlink (`held` asks the disk). A place
 * further on that holds nothing means that move was never made; the recorded place may
 * hold the new content the run put there.
 */
export function whereNow(
  work: Unfinished,
  storedAt: string,
  held: (storage: string) => boolean,
): string | undefined {
  const places = movedTo(work, storedAt);
  for (let i = places.length - 1; i >= 0; i--) if (held(places[i])) return places[i];
  return undefined;
}

/**
 * Whether an interrupted run already deleted the copy recorded at `storedAt` as retention
 * pruned it: journaled for it, and no longer there (`held` asks the disk).
 */
export function prunedNow(
  work: Unfinished,
  storedAt: string,
  held: (storage: string) => boolean,
): boolean {
  return work.pruned.has(storedAt) && !held(storedAt);
}

/**
 * The warning for read-only commands when a run was interrupted: before a commit (`work`:
 * what it journaled), or after one, its work recorded in part (`cut`: such runs since the
 * last that finished, as of the moment restored, `at`, or now), which mixes their files
 * with older ones.
 */
export function unfinishedWarning(
  work: Unfinished,
  doing: "restores" | "checks" | "shows",
  /** Who holds the backup root's lock now, if a live process does (lock.ts `currentHolder`). */
  running?: string,
  cut?: CutRuns,
  at?: number,
): string | undefined {
  const again = { restores: "restore", checks: "verify", shows: "look" }[doing];
  if (running !== undefined) {
    return `WARNING: ${running} is changing the backup now: this ${doing} it as of its last ` +
      `commit, and copies it moves meanwhile can look missing or changed; ${again} again ` +
      "once it is done";
  }
  const before = cut === undefined || cut.noneFinished
    ? ""
    : `; restore with --at ${iso(cut.earliest)} for the backup as the last finished run left it`;
  const [runs, they] = cut !== undefined && cut.count > 1 ? ["runs", "they"] : ["run", "it"];
  const mix = `as the unfinished ${runs} backed it up where ${they} got to it, as the last ` +
    "finished run left it elsewhere";
  // A moment before the interrupted batches would have been recorded holds none of them
  // (their copies are read where they went all the same): nothing to finish for it.
  const journaled = work.actions > 0 && (at === undefined || work.since === undefined ||
    at >= work.since);
  if (journaled) {
    const asOf = cut === undefined
      ? "as of the run before it"
      : `as its last commit left it (each file ${mix})`;
    return `WARNING: the last run was interrupted before it recorded ${work.actions} ` +
      `action(s): this ${doing} the backup ${asOf}, with the copies it moved where it moved ` +
      `them; run '${commandHint("verify --repair")}' (it needs no source folder) or the next ` +
      "run to finish " +
      `it, then ${again} again to include what it backed up${before}`;
  }
  if (cut === undefined) return undefined;
  const which = `run ${cut.last.id} (started ${iso(cut.last)})` +
    (cut.count > 1 ? `, and ${cut.count - 1} run(s) before it,` : "");
  const then = at === undefined ? "" : ` as of ${new Date(at).toISOString()}`;
  const next = at === undefined ? "; the next run finishes the backup" : "";
  if (cut.noneFinished) {
    return `WARNING: ${which} did not finish, after it recorded part of its work, and no run ` +
      `had finished before it: this ${doing} only the files backed up so far${then}${next}`;
  }
  return `WARNING: ${which} did not finish, after it recorded part of its work: this ` +
    `${doing} each file as last recorded${then}, ${mix}${before}${next}`;
}

function iso(run: CutRun): string {
  return new Date(run.startedAt).toISOString();
}

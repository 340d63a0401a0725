/**
 * What a pass does with tracked paths its walk no longer saw: a path that is now excluded
 * (by a pattern; below a folder whose contents the walk left out: tagged, tags.ts, or on
 * another device, left_out.ts; a file left out for its size, large.ts) and still in its
 * source keeps its copy (and is marked excluded once); every other one (files marked
 * excluded earlier included) is archived as deleted, unless they are more than
 * `safety.max_delete_percent` of everything followed, or of the files followed in their
 * source, in which case none is (the mass-deletion guard: an unmounted disk must not look
 * like a deleted tree; excluded files, not followed, are not counted, but held back with
 * the others, gone with the same disk). A file replaced by a folder of its name, and the
 * files of a folder replaced by a file or symlink, are archived even then: what replaced
 * them is there to see.
 * Tracked paths below a folder that could not be listed, or outside the pass's scope, do
 * not count as vanished. The verdict is reached on paths and statuses alone; the tracked
 * files are then looked up and planned a chunk at a time, and the batch applies each full
 * batch before the next chunk (an interruption leaves what batch.ts says), so that memory
 * stays flat however many vanished (a source's disk unmounted below its mount point).
 */
import type { Source } from "../config/config.ts";
import type { Batch } from "./batch.ts";
import { lstatOrNone } from "./fs/fsops.ts";
import type { Planner } from "../core/plan.ts";
import { createMatcher, excludesRecorded } from "../core/exclude.ts";
import { sourceFileOf } from "../core/layout.ts";
import { compareCodePoints } from "../core/merge.ts";
import type { Action, TrackedFile } from "../core/types.ts";
import { turnEvery } from "./event_turn.ts";
import { commandHint } from "../config/selection.ts";

interface VanishedRules {
  sources: Source[];
  exclude: string[];
  /** Folders whose contents the walk left out (tagged): what is below them is excluded too. */
  leftOut?: ReadonlySet<string>;
  /** Files the walk left out for their size (`exclude_larger_than`): excluded too. */
  leftLarge?: ReadonlySet<string>;
  maxDeletePercent: number;
  /** Archive deletions even beyond the limit (`--force`). */
  force?: boolean;
  /**
   * How many tracked paths are followed (not excluded): the guard's base, counted if needed,
   * and no further than `upTo` where given.
   */
  trackedCount: (upTo?: number) => number;
  /** How many tracked paths one source has followed (the base for that source's deletions). */
  trackedIn: (source: string, upTo?: number) => number;
  /** Deletions counted with these (see DeletionWindow); updated with those planned. */
  window?: DeletionWindow;
  /** `plan` (`run --dry-run`): the guard is said as what a run would hold back. */
  plan?: boolean;
}

/**
 * Deletions the guard judges together across passes (a watch session's, from one full
 * pass that begins a window to the next: guard_window.ts), where a tree deleted folder by
 * folder would otherwise pass the guard one small batch at a time: by how far the tracked
 * files would shrink below the most ever tracked in the window. Files created and deleted
 * meanwhile (temporary files) cancel out.
 */
export interface DeletionWindow {
  /** The most files tracked when a pass of the window met deletions. */
  tracked: number;
  /** The same per source (by name), for the sources whose files it met deleted. */
  trackedIn?: Map<string, number>;
  /**
   * The paths of the deletions the guard held back in the window: still tracked, so the
   * tracked count does not show them gone, yet gone all the same. Counted with every later
   * deletion of the window, which would otherwise pass one folder at a time once the
   * first, larger one was held back.
   */
  heldBack?: Set<string>;
}

/** A tracked path the walk did not see, with its status in the state. */
export interface VanishedPath {
  path: string;
  status: TrackedFile["status"];
}

/** What becomes of the vanished paths, each list in walk order. */
interface VanishedVerdict {
  /** Now excluded by a pattern and still in their source: kept, marked excluded. */
  keep: VanishedPath[];
  /** Archived as deleted: all, or with the guard holding them back, those replaced. */
  delete: VanishedPath[];
  /** The guard's message if it held deletions back. */
  guard?: string;
  /** How many deletions the guard held back (excluded files' included), if it did. */
  held?: number;
}

/**
 * Judges the vanished paths: which are kept as excluded, which are archived as deleted,
 * and whether the guard holds the deletions back. Only paths and statuses are needed, so
 * the tracked files themselves are looked up later a chunk at a time (`planVerdict`):
 * 299,000 vanished files, held back, took 333 MiB when every one was looked up first.
 */
export function judgeVanished(vanished: VanishedPath[], rules: VanishedRules): VanishedVerdict {
  const matcher = createMatcher(rules.exclude);
  const leftOut = rules.leftOut ?? new Set<string>();
  const leftLarge = rules.leftLarge ?? new Set<string>();
  const keep: VanishedPath[] = [];
  const deletions: VanishedPath[] = [];
  // Files no longer followed (excluded) are archived when they go, but are no sign of an
  // unmounted disk: deleting an excluded `node_modules/` must not hold back anything.
  const followed: VanishedPath[] = [];
  let unfollowed = 0;
  // Files a pattern excludes from this run on are still counted as followed by the state:
  // taken out of the guard's base here, as they are out of its deletions below.
  let newlyExcluded = 0;
  const newlyExcludedIn = new Map<string, number>();
  for (const t of vanished) {
    const excluded = excludesRecorded(matcher, t.path) || below(leftOut, t.path) ||
      leftLarge.has(t.path);
    if (excluded && t.status !== "excluded") {
      newlyExcluded++;
      const source = sourceOf(t.path);
      newlyExcludedIn.set(source, (newlyExcludedIn.get(source) ?? 0) + 1);
    }
    if (excluded && existsInSource(rules.sources, t.path)) keep.push(t);
    else {
      deletions.push(t);
      if (excluded || t.status === "excluded") unfollowed++;
      else followed.push(t);
    }
  }
  const followedRules: VanishedRules = {
    ...rules,
    trackedCount: (upTo) => {
      const n = newlyExcluded;
      return rules.trackedCount(upTo === undefined ? undefined : upTo + n) - n;
    },
    trackedIn: (source, upTo) => {
      const n = newlyExcludedIn.get(source) ?? 0;
      return rules.trackedIn(source, upTo === undefined ? undefined : upTo + n) - n;
    },
  };
  // Held back earlier and back in their source since (a disk mounted again): not gone.
  const heldBack = rules.window?.heldBack;
  for (const path of heldBack ?? []) {
    if (existsInSource(rules.sources, path)) heldBack!.delete(path);
  }
  // A path swapped between a file and a folder did not vanish with an unmounted disk: what
  // replaced it is there to see (a file replaced by a folder of its name, or a folder, with
  // the files below it, by a file or symlink). Such a deletion is never held back (what
  // replaced it needs the path), and only the other deletions count against the limit.
  const swapped = deleteGuard(followed, followedRules) === undefined
    ? new Set<VanishedPath>()
    : new Set(followed.filter(swappedIn(rules.sources)));
  const judged = swapped.size === 0 ? followed : followed.filter((t) => !swapped.has(t));
  const guard = withExcluded(deleteGuard(judged, followedRules), unfollowed);
  if (guard && rules.window) {
    rules.window.heldBack ??= new Set();
    for (const t of judged) rules.window.heldBack.add(t.path);
  }
  if (!guard) return { keep, delete: deletions };
  const archived = deletions.filter((t) => swapped.has(t));
  return { keep, delete: archived, guard, held: deletions.length - archived.length };
}

/**
 * Tracked files looked up and planned at a time. A batch applies 1,024 actions
 * (batch.ts), so a chunk fills about one: the records, actions, journal entries and lines
 * held stay bounded however many paths vanished; only the list of their paths grows (about
 * 0.2 KiB a path: 300,000 held back took 138 MiB).
 */
const PLAN_CHUNK = 1024;

/**
 * Plans a verdict into the batch: the kept files first, then the deletions, each tracked
 * file looked up a chunk at a time, and a full batch applied before the next chunk (their
 * files and lines are not held until the pass's end). A path no longer tracked (a run
 * committed its deletion since this pass merged the state: `plan` holds no lock) is left
 * out. False once the pass is being stopped: what is left is the next pass's.
 */
export async function planVerdict(
  verdict: VanishedVerdict,
  lookup: (paths: string[]) => TrackedFile[],
  planner: Planner,
  batch: Batch,
  stopped: () => boolean,
): Promise<boolean> {
  const steps: [VanishedPath[], (t: TrackedFile) => Action | undefined][] = [
    [verdict.keep, (t) => planner.planExclude(t)],
    [verdict.delete, (t) => planner.planDelete(t)],
  ];
  // A deletion's moves are synchronous calls: without a turn of the event loop, a stop
  // signal would be heard only once every batch of them was applied.
  const turn = turnEvery();
  for (const [paths, plan] of steps) {
    for (let i = 0; i < paths.length; i += PLAN_CHUNK) {
      const chunk = paths.slice(i, i + PLAN_CHUNK).map((t) => t.path);
      for (const t of lookup(chunk)) {
        const a = plan(t);
        if (a) batch.add(a);
      }
      if (batch.full()) await batch.flush();
      await turn();
      if (stopped()) return false;
    }
  }
  return true;
}

/** The guard's message, saying too the excluded files' deletions it held back with them. */
function withExcluded(guard: string | undefined, excluded: number): string | undefined {
  if (guard === undefined || excluded === 0) return guard;
  const cut = guard.indexOf("; if ");
  const also = ` (nor were ${excluded} excluded file(s) deleted with them)`;
  return cut < 0 ? guard + also : guard.slice(0, cut) + also + guard.slice(cut);
}

/** A filter for tracked paths: under a scoped prefix, and not below an unreadable folder. */
export function inside(prefixes: string[], unreadable: string[]): (path: string) => boolean {
  const scoped = new Set(prefixes);
  const blocked = new Set(unreadable);
  return (path) => {
    let inScope = false;
    for (let end = path.length; end > 0; end = path.lastIndexOf("/", end - 1)) {
      const ancestor = path.slice(0, end);
      if (blocked.has(ancestor)) return false;
      if (scoped.has(ancestor)) inScope = true;
    }
    return inScope;
  };
}

/** Whether a logical path lies below one of `folders` (logical paths too). */
export function below(folders: ReadonlySet<string>, path: string): boolean {
  if (folders.size === 0) return false;
  for (let end = path.lastIndexOf("/"); end > 0; end = path.lastIndexOf("/", end - 1)) {
    if (folders.has(path.slice(0, end))) return true;
  }
  return false;
}

/** The source a logical path lies in: its first segment. */
function sourceOf(path: string): string {
  return path.slice(0, path.indexOf("/"));
}

/**
 * Whether a tracked path's file (or symlink) is still in its source: a folder of its name
 * there now is not it (an excluded file replaced by an excluded folder is archived as
 * deleted, as a followed one replaced by a folder is).
 */
function existsInSource(sources: Source[], path: string): boolean {
  const abs = sourceFileOf(sources, path);
  const info = abs === undefined ? undefined : lstatOrNone(abs);
  return info !== undefined && !info.isDirectory;
}

/**
 * Whether a tracked path's place in its source now holds a folder, or one of the folders
 * on the way to it (below the source's root) is now a file or symlink. The folders on the
 * way are looked at first, each once: below one that is gone, nothing is there to look at
 * (a source emptied by an unmounted disk costs an lstat per folder, not per file).
 */
function swappedIn(sources: Source[]): (t: { path: string }) => boolean {
  const kinds = new Map<string, "folder" | "other" | "none">();
  const kindAt = (path: string) => {
    const abs = sourceFileOf(sources, path);
    const info = abs === undefined ? undefined : lstatOrNone(abs);
    return info === undefined ? "none" : info.isDirectory ? "folder" : "other";
  };
  const folderKindAt = (path: string) => {
    let kind = kinds.get(path);
    if (kind === undefined) kinds.set(path, kind = kindAt(path));
    return kind;
  };
  return ({ path }) => {
    // From the first folder below the source's root (`source/d` of `source/d/e/f.txt`).
    for (
      let end = path.indexOf("/", path.indexOf("/") + 1);
      end > 0;
      end = path.indexOf("/", end + 1)
    ) {
      const kind = folderKindAt(path.slice(0, end));
      if (kind !== "folder") return kind === "other";
    }
    return kindAt(path) === "folder";
  };
}

/**
 * The guard's message if these deletions are too many: more than the limit of everything
 * tracked, or of one source's files (an unmounted disk that held one small source must not
 * empty that source's part of the backup either). The second holds with one source too:
 * the state may still track the files of a source no longer configured (a source folder
 * renamed in the config), which would otherwise dilute the first.
 */
function deleteGuard(deletions: { path: string }[], rules: VanishedRules): string | undefined {
  const { maxDeletePercent: max, force, window } = rules;
  if (force || deletions.length === 0) return undefined;
  const deleting = deletions.length;
  // Without a window, a base is only needed in full when it is too small: it is counted no
  // further than the smallest that lets these deletions pass (a count of 100,000 tracked
  // files takes about 25 ms; this one stops after a few hundred for a few deletions).
  const enough = (n: number) => window || max <= 0 ? undefined : passingBase(n, max);
  const now = rules.trackedCount(enough(deleting));
  if (window) window.tracked = Math.max(window.tracked, now);
  const tracked = window ? window.tracked : now;
  // Held back earlier in the window (still tracked), and not among these.
  const heldBefore: string[] = [];
  if (window?.heldBack?.size) {
    const current = new Set(deletions.map((t) => t.path));
    for (const p of window.heldBack) if (!current.has(p)) heldBefore.push(p);
  }
  // With a window, what it already lost counts too: the most tracked, less what remains,
  // and what it held back.
  const total = window ? tracked - (now - deleting) + heldBefore.length : deleting;
  const held = rules.plan
    ? "a run would archive none of them"
    : !window
    ? "nothing was archived"
    : deleting === 1
    ? "this one was not archived"
    : `these ${deleting} were not archived`;
  // The sources of those held back before too: a run with --force archives them with these.
  const whose = whoseMount([...deletions, ...heldBefore.map((path) => ({ path }))], rules.sources);
  // plan archives nothing either way: the command that would is named.
  const withForce = rules.plan
    ? `'${commandHint("run --force")}' archives them`
    : "run again with --force";
  const remedy = `if ${whose} mounted and the deletions are intended, ${withForce}`;
  if (total * 100 > max * tracked) {
    const since = window ? " since the watch began or last rescanned" : "";
    return `${total} of ${tracked} tracked files would be archived as deleted${since}, more ` +
      `than safety.max_delete_percent (${max}%): ${held}; ${remedy}`;
  }
  const heldIn = countBySource(heldBefore.map((path) => ({ path })));
  for (const [source, count] of countBySource(deletions)) {
    const inSource = rules.trackedIn(source, enough(count));
    // With a window, as above: the most the source tracked, less what remains of it, and
    // what was held back in it.
    const most = window ? Math.max(window.trackedIn?.get(source) ?? 0, inSource) : inSource;
    if (window) (window.trackedIn ??= new Map()).set(source, most);
    const gone = window ? most - (inSource - count) + (heldIn.get(source) ?? 0) : count;
    if (gone * 100 <= max * most) continue;
    return `${gone} of the ${most} tracked files of source '${source}' would be archived ` +
      `as deleted${window ? " since the watch began or last rescanned" : ""}, more than ` +
      `safety.max_delete_percent (${max}%): ${held}; if '${source}' is mounted and the ` +
      `deletions are intended, ${withForce}`;
  }
  return undefined;
}

/**
 * The smallest base that lets `n` deletions pass the guard's own comparison below, in the
 * same floating point: `ceil(n × 100 / max)` alone can fall short of it (153 deletions at
 * 40.8%: 375, but 40.8 × 375 is 15,299.999…, under 15,300).
 */
function passingBase(n: number, max: number): number {
  let base = Math.ceil((n * 100) / max);
  while (n * 100 > max * base) base++;
  return base;
}

/**
 * Who the remedy of the guard's message over everything tracked asks to check: with one
 * source configured, "the source"; with several, the sources the deletions lie in, by name
 * (until 2026-12-05 "the source", which left the user to guess which disk to look at),
 * those held back earlier in a watch's window included.
 */
function whoseMount(deletions: { path: string }[], sources: Source[]): string {
  const names = [...countBySource(deletions).keys()].sort(compareCodePoints);
  if (sources.length <= 1 && names.length <= 1) return "the source is";
  const quoted = names.map((n) => `'${n}'`);
  if (quoted.length === 1) return `${quoted[0]} is`;
  return `${quoted.slice(0, -1).join(", ")} and ${quoted.at(-1)} are`;
}

/** How many of the paths lie in each source (a logical path starts with its source's name). */
function countBySource(files: { path: string }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of files) {
    const source = sourceOf(t.path);
    counts.set(source, (counts.get(source) ?? 0) + 1);
  }
  return counts;
}

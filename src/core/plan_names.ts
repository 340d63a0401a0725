/**
 * Which storage paths are taken, for the planner: what the state recorded (asked of the
 * `PlanView`, memoized), what the disk shows where the state knows nothing (files and
 * folders put there by hand), and the planner's own overlay, the paths this run placed
 * copies at or vacated (copies moved away), which takes precedence. `occ` answers
 * `allocatePath`, so a copy planned onto a taken path gets the next free name (`.~2`).
 * On a disk that ignores case, paths are also compared case-folded. Memory only: the
 * planner calls `forget` once a batch is committed (the view then answers for it).
 */
import { foldName, type Occupancy } from "./layout.ts";
import type { PlanView } from "./plan_view.ts";

/** Bounds each memo of the view's answers (about 100 bytes per entry). */
const MEMO_LIMIT = 65536;
/**
 * Folders remembered as holding this run's copies (about 100 bytes each: 26 MB at the
 * limit). Real trees have tens of files a folder (the benchmark's million files, 100), so
 * a few million files fit; past the limit the planner asks the view about every folder,
 * as it did before it remembered them.
 */
const RUN_FOLDERS_LIMIT = 262144;

type Question = "isFile" | "isDir" | "recordedUnder";

export class StorageNames {
  readonly #view: PlanView;
  readonly #ignoresCase: boolean;
  readonly #placed = new Set<string>();
  readonly #placedDirs = new Set<string>();
  // On a disk that ignores case, the placed paths case-folded too (with how many placed
  // paths fold to each): a source on a disk that keeps case may hold `README` and `readme`.
  readonly #placedFolded = new Map<string, number>();
  readonly #placedDirsFolded = new Set<string>();
  readonly #vacated = new Set<string>();
  /** Per storage folder, how many of the vacated paths lie below it. */
  readonly #vacatedBelow = new Map<string, number>();
  /** Vacated paths per case-folded path. */
  readonly #vacatedFolded = new Map<string, Set<string>>();
  // The view answers for the state as the run found it (the disk probe's answers are
  // memoized apart, until the next commit), and the overlay (placed, vacated) takes
  // precedence, so its answers can be memoized: folders repeat across many files.
  readonly #known: Record<Question, Map<string, boolean>> = {
    isFile: new Map(),
    isDir: new Map(),
    recordedUnder: new Map(),
  };
  readonly #found = new Map<string, boolean>();
  readonly #disk = new Map<string, "file" | "dir" | undefined>();
  /** On a disk that ignores case, by case-folded names: a `Docs` placed holds `docs` too. */
  readonly #runFolders: RunFolders;

  constructor(view: PlanView) {
    this.#view = view;
    this.#ignoresCase = view.ignoresCase ?? false;
    this.#runFolders = new RunFolders(this.#ignoresCase ? foldName : undefined);
  }

  /** Whether a path is taken: for `allocatePath`. */
  readonly occ: Occupancy = {
    // A folder this run placed copies in is no file: had one been there, the copies would
    // have been given another name.
    isFile: (p) =>
      this.#placedFile(p) ||
      (!this.#vacated.has(p) && !this.#placedDir(p) && this.#mayHold(p) &&
        (this.#ask("isFile", p) || this.#foreignAt(p) === "file")),
    isDir: (p) =>
      this.#placedDir(p) ||
      (this.#mayHold(p) &&
        (this.#ask("isDir", p) ? !this.#emptied(p) : this.#foreignAt(p) === "dir")),
  };

  /**
   * `occ` for a move of the stored copy at `copy` to `to` (archived, deleted, promoted):
   * a name the disk shows for that very copy is its own, so the move finishes there (link
   * finds it, unlink completes) instead of leaving that name as a stray beside a `.~2`.
   * Only a name at the depth of `to` can be one: a folder on the way is never the copy,
   * even when something there is another name of its file (a hard link of it put there by
   * hand, which then has to be gone around like any file).
   */
  ownNames(copy: string, to: string): Occupancy {
    const depth = to.split("/").length;
    const ownName = (p: string) =>
      !this.#placed.has(p) && !this.#ask("isFile", p) &&
      (this.#view.otherNameOf?.(p, copy) ?? false);
    return {
      isFile: (p) => this.occ.isFile(p) && !(p.split("/").length === depth && ownName(p)),
      isDir: this.occ.isDir,
    };
  }

  /** Whether anything was ever recorded below a logical folder (memoized). */
  recordedUnder(folder: string): boolean {
    return this.#ask("recordedUnder", folder);
  }

  /** This run puts a copy at `p`. */
  place(p: string): void {
    if (!this.#placed.has(p)) this.#countPlaced(p, 1);
    this.#placed.add(p);
    this.#runFolders.add(p);
    if (this.#vacated.delete(p)) {
      this.#countVacated(p, -1);
      this.#countFolded(p, -1);
    }
    forEachFolder(p, (dir) => {
      this.#placedDirs.add(dir);
      if (this.#ignoresCase) this.#placedDirsFolded.add(foldName(dir));
    });
  }

  /** This run moves the copy at `p` away. Only paths the view holds: stored copies. */
  vacate(p: string): void {
    if (!this.#vacated.has(p)) {
      this.#countVacated(p, 1);
      this.#countFolded(p, 1);
    }
    this.#vacated.add(p);
    if (this.#placed.delete(p)) this.#countPlaced(p, -1);
  }

  /**
   * Drops the overlay once the state holds every decision so far (after a commit). The
   * view's remembered answers stay, except those the commit changed: the paths placed or
   * vacated and their folders. Kept, they let a folder's emptiness answer for its files
   * across batches. `recordedUnder` answers stay too: the content numbers a commit
   * recorded belong to paths already planned, and a pass plans each path once (the walk
   * gives each once, in order; deletions are of paths it did not see). The folders this
   * run placed copies in are kept for the whole run.
   */
  forget(): void {
    for (const p of [...this.#placed, ...this.#vacated]) {
      this.#known.isFile.delete(p);
      forEachFolder(p, (dir) => this.#known.isDir.delete(dir));
    }
    this.#placed.clear();
    this.#placedDirs.clear();
    this.#placedDirsFolded.clear();
    this.#vacated.clear();
    this.#vacatedBelow.clear();
    this.#vacatedFolded.clear();
    this.#placedFolded.clear();
    this.#disk.clear();
  }

  #ask(kind: Question, p: string): boolean {
    const known = this.#known[kind];
    let answer = known.get(p);
    if (answer === undefined) {
      if (known.size >= MEMO_LIMIT) known.clear();
      known.set(p, answer = this.#view[kind](p));
    }
    return answer;
  }

  // A folder with nothing stored below it answers for every path in it at once: one range
  // query per folder instead of one or two point queries per file (a first backup asked
  // 60,000 of them for 20,000 files). Such an answer stays good for the whole run with
  // the folders this run placed copies in (`#runFolders`), so commits do not spoil it.
  // A folder is looked for only where its parent may be: none of a new subtree's folders
  // (`versions/<path>/` of each changed file) costs a query and an lstat (1,000 changed
  // files out of 100,000: 2,000 lookups of missing paths, 90 ms).
  #foundDir(dir: string): boolean {
    let answer = this.#found.get(dir);
    if (answer === undefined) {
      answer = this.#mayHold(dir) && (this.#ask("isDir", dir) || this.#diskKind(dir) === "dir");
      if (this.#found.size >= MEMO_LIMIT) this.#found.clear();
      this.#found.set(dir, answer);
    }
    return answer;
  }

  /** The disk, where the state knows nothing (see PlanView.foreignKind), memoized. */
  #diskKind(p: string): "file" | "dir" | undefined {
    if (!this.#view.foreignKind) return undefined;
    if (!this.#disk.has(p)) {
      if (this.#disk.size >= MEMO_LIMIT) this.#disk.clear();
      this.#disk.set(p, this.#view.foreignKind(p));
    }
    return this.#disk.get(p);
  }

  // What the disk shows at a path that folds, case aside, to a path this run vacates moves
  // away with that copy before the batch places anything: on a disk that ignores case,
  // renaming `Report.txt` to `report.txt` must not leave the new copy at `report.txt.~2`.
  // Where the view cannot tell whether it is the same entry, it is taken to be.
  #foreignAt(p: string): "file" | "dir" | undefined {
    for (const v of this.#vacatedFolded.get(foldName(p)) ?? []) {
      if (v !== p && (this.#view.sameEntry?.(p, v) ?? true)) return undefined;
    }
    return this.#diskKind(p);
  }

  // Whether a copy may be stored at `p`, or below it. One stored there now was either
  // there, in the same folder, at every moment of the run, so any answer about that folder
  // found it, or placed by this run, which `#runFolders` bounds.
  #mayHold(p: string): boolean {
    const cut = p.lastIndexOf("/");
    if (cut < 0) return true;
    const dir = p.slice(0, cut);
    return this.#runFolders.mayHold(dir, p.slice(cut + 1)) || this.#foundDir(dir);
  }

  // A folder whose every stored copy was vacated in this run (its files deleted) is free,
  // as it will be once the batch is applied: deletions and what replaces them share one.
  // Something put there by hand keeps the folder all the same.
  #emptied(p: string): boolean {
    const gone = this.#vacatedBelow.get(p) ?? 0;
    return gone > 0 && this.#view.storedCountBelow(p) <= gone &&
      !(this.#view.holdsOtherThan?.(p, (copy) => this.#vacated.has(copy)) ?? false);
  }

  #placedFile(p: string): boolean {
    return this.#placed.has(p) || (this.#ignoresCase && this.#placedFolded.has(foldName(p)));
  }

  #placedDir(p: string): boolean {
    return this.#placedDirs.has(p) ||
      (this.#ignoresCase && this.#placedDirsFolded.has(foldName(p)));
  }

  #countPlaced(p: string, by: 1 | -1): void {
    if (!this.#ignoresCase) return;
    const key = foldName(p);
    const n = (this.#placedFolded.get(key) ?? 0) + by;
    if (n > 0) this.#placedFolded.set(key, n);
    else this.#placedFolded.delete(key);
  }

  #countFolded(p: string, by: 1 | -1): void {
    const key = foldName(p);
    const paths = this.#vacatedFolded.get(key) ?? new Set<string>();
    if (by > 0) paths.add(p);
    else paths.delete(p);
    if (paths.size > 0) this.#vacatedFolded.set(key, paths);
    else this.#vacatedFolded.delete(key);
  }

  #countVacated(p: string, by: number): void {
    forEachFolder(p, (dir) => this.#vacatedBelow.set(dir, (this.#vacatedBelow.get(dir) ?? 0) + by));
  }
}

/**
 * For each storage folder, the greatest name at or below which the run placed a copy in
 * it, kept for the whole run. A name beyond it was not placed, nor anything below it:
 * with the walk in order, that is nearly every name the planner asks about. Past
 * RUN_FOLDERS_LIMIT folders it answers "may" for every folder: the planner then asks the
 * view, as it did before it remembered them.
 */
class RunFolders {
  readonly #greatest = new Map<string, string>();
  #full = false;

  /** `key`: how names compare (case-folded on a disk that ignores case). */
  constructor(readonly key: (name: string) => string = (name) => name) {}

  add(placed: string): void {
    if (this.#full) return;
    const path = this.key(placed);
    let from = 0;
    for (let cut = path.indexOf("/"); cut >= 0; cut = path.indexOf("/", from)) {
      const dir = path.slice(0, cut);
      from = cut + 1;
      const end = path.indexOf("/", from);
      const name = end < 0 ? path.slice(from) : path.slice(from, end);
      const greatest = this.#greatest.get(dir);
      if (greatest === undefined || name > greatest) this.#greatest.set(dir, name);
    }
    if (this.#greatest.size > RUN_FOLDERS_LIMIT) {
      this.#full = true;
      this.#greatest.clear();
    }
  }

  /** Whether the run may have placed a copy at `dir/name` or below it. */
  mayHold(dir: string, name: string): boolean {
    if (this.#full) return true;
    const greatest = this.#greatest.get(this.key(dir));
    return greatest !== undefined && this.key(name) <= greatest;
  }
}

/** Calls `fn` with each folder above a `/`-separated path, outermost first. */
function forEachFolder(path: string, fn: (folder: string) => void): void {
  for (let i = path.indexOf("/"); i >= 0; i = path.indexOf("/", i + 1)) fn(path.slice(0, i));
}

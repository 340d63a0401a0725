/**
 * Paths as the user gives them, as the state records them, and where restored files go.
 * A PATH is relative to the source root as logs show it: with one source, `one.txt` and
 * `source/one.txt` both work; with several, it starts with the source name (but for the
 * configured one's, where the config names one and the state knows others too). An absolute
 * path inside a configured source works too, and so does one starting with `./` or `../`
 * given from a folder inside a source (relative to that folder). Destinations keep those
 * relative paths, under `--to DIR` or back in the source folder (destination.ts); a PATH
 * copied from a log line is read by logged_path.ts. A PATH is read by the path rules of the
 * system restored on (node:path's win32 for Windows: backslashes, drives, a source's folder
 * in any letter case), given to the resolver, so that its tests read Windows PATHs on any
 * system. Pure apart from the recorded paths it asks about (the state's, or a set); nothing
 * here touches the disk.
 */
import { posix, win32 } from "node:path";
import type { Source } from "../config/sources.ts";
import { UsageError } from "../engine/errors.ts";
import { isInside } from "../config/paths.ts";
import { DELETED_DIR, DUPLICATES_DIR, SOURCES_DIR, VERSIONS_DIR } from "../core/layout.ts";
import { restoreDestination } from "./destination.ts";

/**
 * The backup root's own folders: no source's copy is kept at a place in one (a source's own
 * `versions` folder is kept at `versions~`), so a PATH into one names the backup's place.
 */
const OWN_FOLDERS = [VERSIONS_DIR, DUPLICATES_DIR, DELETED_DIR, SOURCES_DIR];

/** What the state ever recorded: asked of the state itself, or of a set (tests). */
interface RecordedPaths {
  /** A file was recorded exactly at this logical path. */
  isFile(path: string): boolean;
  /** Some file was recorded below this logical path. */
  hasBelow(path: string): boolean;
}

/** A copy's place in the backup root, and whose copy it is (the state's `copies` row). */
interface StoredAtPath {
  /** Its storage path, relative to the backup root, with `/`. */
  storage: string;
  path: string;
  seq: number;
  location: string;
}

/** The backup root, and the copy the state records at a storage path there. */
interface BackupPlaces {
  root: string;
  copyAt(storage: string): Omit<StoredAtPath, "storage"> | undefined;
}

/** Recorded paths from a list of them. */
export function recordedSet(paths: Iterable<string>): RecordedPaths {
  const files = new Set<string>();
  const dirs = new Set<string>();
  for (const p of paths) {
    files.add(p);
    for (let cut = p.indexOf("/"); cut > 0; cut = p.indexOf("/", cut + 1)) {
      dirs.add(p.slice(0, cut));
    }
  }
  return { isFile: (p) => files.has(p), hasBelow: (p) => dirs.has(p) };
}

export class PathResolver {
  readonly #names: string[];
  /**
   * Whether the PATHs are a restore's, which takes --version: the hint at a copy's place in
   * the backup root names the version to give with it (ls and purge take none).
   */
  restores = true;

  /**
   * `names`: every source known to the config or the state; `sources`: the configured
   * ones (for in-place restores); `recorded`: every logical path the state ever recorded.
   */
  constructor(
    names: Iterable<string>,
    readonly sources: readonly Source[],
    readonly recorded: RecordedPaths,
    /**
     * The system restored on: PATHs are read by its path rules, and its file names are
     * checked (destination.ts).
     */
    readonly os: typeof Deno.build.os = Deno.build.os,
    /** Each source's folder as the last run found it (its real path). */
    readonly lastPaths: ReadonlyMap<string, string> = new Map(),
    /** Where a PATH copied from a look at the backup root is told (`storedCopyAt`). */
    readonly backup?: BackupPlaces,
    /** Read without a config: why each source not in `sources` is not restored in place. */
    readonly notInPlace?: ReadonlyMap<string, string>,
  ) {
    this.#names = [...new Set(names)].sort();
  }

  /**
   * The path rules PATHs are read by: those of the system restored on (`os`), so that a
   * Windows PATH (`C:\Users\me\doc.txt`, `docs\a.txt`, a drive or a source's folder in
   * another letter case) is read as Windows reads it wherever the resolver is made (tests).
   */
  get #path(): typeof posix {
    return this.os === "windows" ? win32 : posix;
  }

  get several(): boolean {
    return this.#names.length > 1;
  }

  /** The recorded file exactly at this logical path, ever. */
  isFile(path: string): boolean {
    return this.recorded.isFile(path);
  }

  /** Some recorded file lies under this logical path ("" = the whole backup). */
  isFolder(path: string): boolean {
    return path === "" || this.#names.includes(path) || this.recorded.hasBelow(path);
  }

  /**
   * A PATH argument as a logical path (`<source>/<rel>`, a source name, or "" for all).
   * One that starts with `./` or `../`, given from a folder inside a source (`cwd`), means
   * a path from that folder, as an absolute one would: `cd photos/2024; restore ./a.jpg`
   * is `photos/2024/a.jpg`, not the source's own `a.jpg`.
   */
  toLogical(input: string, cwd = Deno.cwd()): string {
    if (/^\.\.?([/\\]|$)/.test(input) && this.#inSource(cwd)) {
      return this.toLogical(this.#path.resolve(cwd, input), cwd);
    }
    const rel = this.#normalize(input);
    if (this.#path.isAbsolute(input)) return rel; // already `<source>/<rel>`: one meaning
    if (rel === "") return this.several ? "" : this.#names[0] ?? "";
    if (this.several || this.#names.length === 0) {
      const top = rel.split("/")[0];
      // The config names one source (the state knows others, removed since): a plain path
      // is under it, as with one source ever; another source's paths start with its name.
      const single = this.sources.length === 1 ? this.sources[0].name : undefined;
      if (single !== undefined && top !== single) return this.#underSingle(input, rel, single);
      if (!this.#names.includes(top)) {
        // A place in the backup root (`versions/docs/a.txt/v2.bak`) names whose copy it is.
        const copy = this.storedCopyAt(input, cwd);
        throw new UsageError(
          `Cannot find '${input}' in the backup: with several sources a path starts with ` +
            `the source name (${this.#names.join(", ")})` +
            (copy ? storedCopyHint(copy, this.restores) : ""),
        );
      }
      return rel;
    }
    const name = this.#names[0];
    const prefixed = rel === name || rel.startsWith(`${name}/`);
    const inside = `${name}/${rel}`;
    // `source/one.txt` as logs show it, when such a path was recorded; otherwise a path
    // inside the source (which may hold a folder of the source's own name: `source/x` then
    // means that folder's x only when the source itself has no x, and when it has both, the
    // user must say which). Recorded under neither, it is named as the logs would: before,
    // `source/Notes/a.txt` was said not to be in the backup as `source/source/Notes/a.txt`.
    if (prefixed && (this.#holds(rel) || !this.#holds(inside))) {
      if (this.#holds(inside)) {
        const first = rel === name ? "no PATH" : `'${rel.slice(name.length + 1)}'`;
        throw new UsageError(
          `Cannot tell which '${input}' is meant: the source '${name}' holds both ` +
            `'${rel.slice(name.length + 1) || "."}' and '${rel}': give ${first} for the first ` +
            `or '${inside}' for the second`,
        );
      }
      return rel;
    }
    return inside;
  }

  /**
   * The other logical path a PATH may mean, where `toLogical` took one of two: with one
   * source, `source/x` is `x` as logs show it, or the x of the source's own folder named
   * `source`. Where neither is recorded, the hint at other spellings (a letter case, a
   * Unicode form) looks under both: `source/Docs/a.txt`, copied from a log in another
   * case, was said "not in the backup" with no hint, as `source/source/Docs/a.txt`.
   */
  otherReading(input: string): string | undefined {
    const cwd = Deno.cwd();
    if (this.#path.isAbsolute(input) || this.#names.length !== 1) return undefined;
    if (/^\.\.?([/\\]|$)/.test(input) && this.#inSource(cwd)) return undefined;
    const rel = this.#normalize(input);
    const name = this.#names[0];
    if (rel !== name && !rel.startsWith(`${name}/`)) return undefined;
    return this.toLogical(input, cwd) === rel ? `${name}/${rel}` : rel;
  }

  /**
   * The copy the backup keeps at a PATH, where the PATH names a place in the backup root
   * rather than a source's path (copied from a look at the backup: `/backup/versions/a.txt/
   * v2.bak`, any PATH given from inside the backup root, or one into the backup's own
   * folders, `versions/a.txt/v2.bak`, from anywhere), to tell whose copy it is; undefined
   * otherwise. Any other PATH given from outside the backup root (`pics/x.jpg`, `./a.txt`) is
   * a source's path: where one source keeps the backup root's layout, the same place holds
   * another path's copy (`docs/pics/x.jpg`), which it does not name.
   */
  storedCopyAt(input: string, cwd = Deno.cwd()): StoredAtPath | undefined {
    if (this.backup === undefined) return undefined;
    const { root, copyAt } = this.backup;
    const { isAbsolute, relative, resolve, sep } = this.#path;
    let storage: string;
    // The root itself told by `relative`, as `#fromAbsolute` tells a source's folder: on
    // Windows a folder entered in another letter case (`cd e:\backup`) is the root too.
    if (isAbsolute(input) || relative(root, cwd) === "" || isInside(cwd, root, this.#path)) {
      const rel = relative(root, resolve(cwd, input));
      if (rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
        return undefined;
      }
      storage = rel.split(sep).join("/");
    } else {
      const text = this.os === "windows" ? input.replaceAll("\\", "/") : input;
      const names = text.split("/").filter((p) => p !== "");
      if (!OWN_FOLDERS.includes(names[0])) return undefined;
      storage = names.join("/");
    }
    const copy = copyAt(storage);
    return copy && { storage, ...copy };
  }

  /**
   * What to give instead of a PATH (read as `logical`) that names a place in the backup
   * root holding another path's copy (`storedCopyAt`), or "" (not where one source's root
   * layout keeps the PATH's own copy: `a.txt`, asked before it was there).
   */
  storedCopyHintFor(input: string, logical: string): string {
    const copy = this.storedCopyAt(input);
    return copy && copy.path !== logical ? storedCopyHint(copy, this.restores) : "";
  }

  /**
   * For a logical path under a configured source, the same relative path under a source
   * the config no longer names (removed, or renamed: a renamed folder is a new source)
   * where one recorded it: after a source folder is renamed, `restore a.txt --at <before>`
   * is told that `old/a.txt` holds it (before, only that the new source's was not there).
   */
  leftReading(logical: string): string | undefined {
    const cut = logical.indexOf("/");
    if (cut < 0) return undefined;
    const configured = new Set(this.sources.map((s) => s.name));
    if (!configured.has(logical.slice(0, cut))) return undefined;
    const rel = logical.slice(cut + 1);
    return this.#names.filter((n) => !configured.has(n)).map((n) => `${n}/${rel}`)
      .find((p) => this.#holds(p));
  }

  /**
   * A plain path where the config names one source (`single`) and the state knows others:
   * under `single`, unless it starts with another source's name and `single` holds no such
   * path; where both hold it, the user must say which (before, the other source's was taken
   * without a word, and a file only `single` held was "not in the backup").
   */
  #underSingle(input: string, rel: string, single: string): string {
    const top = rel.split("/")[0];
    const inside = `${single}/${rel}`;
    if (!this.#names.includes(top)) return inside;
    if (!this.#holds(inside)) return rel;
    if (!this.#holds(rel)) return inside;
    const rest = rel.slice(top.length + 1) || ".";
    throw new UsageError(
      `Cannot tell which '${input}' is meant: the source '${single}' holds '${rel}', and ` +
        `'${top}', a source the config no longer names, holds '${rest}': give '${inside}' ` +
        `for the first; for the second, restore with a config that names '${top}' too`,
    );
  }

  /** Whether a file was recorded at this logical path, or below it. */
  #holds(path: string): boolean {
    return this.isFile(path) || this.isFolder(path);
  }

  /** Whether `dir` (absolute) is a configured source's folder or inside one. */
  #inSource(dir: string): boolean {
    return this.sources.some((s) =>
      [s.path, ...s.written ? [s.written] : []].some((root) => this.#below(root, dir))
    );
  }

  /**
   * The names of `path` (absolute) below `root`, a source's folder: [] for the folder
   * itself, undefined outside it. A folder named `..cfg` is inside: isInside compares
   * whole names. The root itself is told by `relative` too, as written with a trailing
   * separator (`C:\data\src\`, `/data/src/`) or, on Windows, in another letter case
   * (`c:\Data\src`). On macOS too, whose disks (APFS, HFS+) ignore letter case and
   * Unicode form unless formatted otherwise, the source's folder is found in another case
   * (`/users/me/notes/a.txt` for `/Users/me/Notes`); below it, a name's case is the PATH's
   * own, as on Windows (the state's names tell case apart: another is said not found, with
   * the recorded spelling).
   */
  #below(root: string, path: string): string[] | undefined {
    const { relative, sep } = this.#path;
    const rel = relative(root, path);
    if (rel === "" || isInside(path, root, this.#path)) {
      return rel.split(sep).filter((p) => p !== "");
    }
    if (this.os !== "darwin") return undefined;
    const fold = (name: string) => name.normalize("NFC").toLowerCase();
    const rootNames = posix.normalize(root).split("/").filter((p) => p !== "");
    const names = posix.normalize(path).split("/").filter((p) => p !== "");
    const same = names.length >= rootNames.length &&
      rootNames.every((name, i) => fold(name) === fold(names[i]));
    return same ? names.slice(rootNames.length) : undefined;
  }

  #normalize(input: string): string {
    let text = this.os === "windows" ? input.replaceAll("\\", "/") : input;
    if (this.#path.isAbsolute(input)) text = this.#fromAbsolute(input);
    const parts = text.split("/").filter((p) => p !== "" && p !== ".");
    if (parts.includes("..")) {
      throw new UsageError(`Cannot use path '${input}': '..' is not allowed in a backup path`);
    }
    return parts.join("/");
  }

  /**
   * An absolute path inside a configured source, as `<name>/<rel>`: below its real path or
   * below the path the config writes (through a symlink, like macOS's `/tmp`).
   */
  #fromAbsolute(input: string): string {
    for (const s of this.sources) {
      for (const root of s.written ? [s.path, s.written] : [s.path]) {
        const names = this.#below(root, input);
        if (names) return [s.name, ...names].join("/");
      }
    }
    const copy = this.storedCopyAt(input);
    throw new UsageError(
      `Cannot use path '${input}': it is not inside a configured source` +
        (copy ? storedCopyHint(copy, this.restores) : ": give a path relative to the source root"),
    );
  }

  /**
   * Where a logical path is restored (`dest`): under `to`, or back into its source folder
   * (`base`, the folder the destination must stay inside); see destination.ts.
   */
  destination(
    path: string,
    to: string | undefined,
  ): { dest: string; base: string; toDir: boolean } {
    return restoreDestination(this, path, to);
  }
}

/**
 * What to give instead of a PATH that names a copy's place in the backup root: the path it
 * is a copy of, with the content's number where that is not the latest (for `restores`:
 * a restore's PATH, which takes --version; ls and purge take none).
 */
function storedCopyHint(copy: StoredAtPath, restores: boolean): string {
  const { path, seq, location } = copy;
  const old = location === "version" || location === "deleted";
  const what = location === "version"
    ? `content number ${seq} of '${path}'`
    : location === "deleted"
    ? `the last content of '${path}' (number ${seq}), deleted from its source since`
    : `the latest content of '${path}'`;
  return `: it is where the backup keeps ${what}: give that path` +
    (old && restores ? ` (with --version ${seq} to restore that content)` : "");
}

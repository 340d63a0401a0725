/**
 * A restore's destination folders, reached so that what it creates, links and renames
 * lands in the folders it checked, even when someone who may write a folder on the way
 * swaps it for a symlink meanwhile (root restoring a user's files in place: that user
 * could otherwise steer root's writes anywhere). On Linux each folder from the restore's
 * base down is opened without following a symlink, through the open folder above it, and
 * each name inside is reached through `/proc/self/fd/<n>/`, which leads to the open
 * folder whatever becomes of its path. Where there is no such path (macOS, Windows, no
 * /proc) names are joined to paths and each folder on the way is checked with lstat as it
 * is reached: a narrower race, not none (docs/restore.md says so).
 *
 * A folder on the way that is a symlink or a file is refused (`refusal`), as is the backup
 * root reached by another path. A reached folder is held open until released; a few stay
 * open for the next file (`KEPT_OPEN`). A reach that fails after making folders on the
 * way (a disk out of room for the next) says which (`takePartial`), for the restore to give
 * them their metadata as it does every folder it made. Nothing is written here but the
 * folders made on the way; an interruption leaves those, empty or holding what was restored.
 * A dry run reaches through a `look` of its own (dry_run.ts), which makes nothing.
 */
import * as fs from "node:fs";
import { join, parse, relative, sep } from "node:path";
import { errorText } from "../engine/errors.ts";
import { openFilesLimit } from "../engine/fs/flush.ts";
import { lstatOrNone, makeFolder, makeFolders } from "../engine/fs/fsops.ts";
import { folderIdentityOf, hasOpenPaths, openPath } from "../engine/fs/identity.ts";

/** Why a folder on the way is refused. */
type Refusal = "symlink" | "file" | "backup-root";

export class RefusedFolder extends Error {
  constructor(readonly why: Refusal, readonly folder: string) {
    super(`'${folder}' is refused as a folder to restore into (${why})`);
  }
}

/** A destination folder, reached and held until `release`. */
export interface Reached {
  /** The folder's path as named. */
  readonly path: string;
  /** Its identity (`dev:ino`) when reached; undefined where there are no inode numbers. */
  readonly id: string | undefined;
  /** The first folder on the way that this reach made (undefined: all of them existed). */
  readonly made: string | undefined;
  /** The path that reaches `name` inside this very folder, now. */
  at(name: string): string;
  /** Its open descriptor, where folders are held open (Linux); undefined elsewhere. */
  readonly fd?: number;
  release(): void;
}

/** The /proc path of what `fd` has open (Linux only: callers know THROUGH_PROC holds). */
function throughProc(fd: number): string {
  return openPath(fd)!;
}

/** Whether open folders can be named through /proc/self/fd (Linux). */
const THROUGH_PROC = hasOpenPaths();

const C = fs.constants;
/** Opens a folder only: a symlink at the end is not followed (ELOOP or ENOTDIR). */
export const OPEN_FOLDER = C.O_RDONLY | (C.O_DIRECTORY ?? 0) | (C.O_NOFOLLOW ?? 0);

/**
 * Folders kept open for the files after the one that reached them (a restore goes through
 * a folder's files in a row, and the folders near it next), the folders above them
 * included: each costs a descriptor, and `ulimit -n 64` must still work.
 */
const KEPT_OPEN = Math.max(2, Math.min(64, Math.floor(openFilesLimit() / 16)));
/** Made folders whose identity is remembered (about 150 bytes each), as MadeFolders'. */
const MADE_IDS_LIMIT = 262_144;

interface Held {
  fd: number;
  id: string;
  refs: number;
  /** No longer kept for later reaches: closed once the last holder releases it. */
  dropped?: boolean;
}

export class DestFolders {
  readonly #held = new Map<string, Held>();
  /** Folders made, and their identities (bounded as MadeFolders is, by its limit). */
  readonly #madeIds = new Map<string, string>();
  /** The folders the last reach made before it failed, from the first to the deepest. */
  #partial: { first: string; deepest: string } | undefined;

  /**
   * `look` (a dry run's, dry_run.ts): each reach is asked of it instead, which makes
   * nothing and holds nothing open.
   */
  constructor(readonly rootId?: string, readonly look?: typeof reachByPath) {}

  /**
   * The folders made on the way by the reach that just failed (a disk out of room for the
   * next one), from the first made to the deepest, once: they are the restore's too.
   */
  takePartial(): { first: string; deepest: string } | undefined {
    const partial = this.#partial;
    this.#partial = undefined;
    return partial;
  }

  /**
   * Reaches `dir` from `base`, making the folders that are missing; throws `RefusedFolder`.
   * A folder held open is taken again as it is unless `recheck`: then, should it no longer
   * be the one at its path (moved or replaced since), it is reached anew. A restore writes
   * a file without that look (what it writes stays inside the folder held, wherever that
   * went) and places it with it, so a file is never said to be where it is not; the look is
   * an lstat per file.
   */
  reach(base: string, dir: string, recheck = true): Reached {
    if (this.look) return this.look(base, dir, this.rootId);
    if (!THROUGH_PROC) return reachByPath(base, dir, this.rootId);
    return this.#reachOpen(base, dir, recheck);
  }

  #reachOpen(base: string, dir: string, recheck: boolean): Reached {
    let held = this.#held.get(dir);
    let fresh = false;
    if (held !== undefined && recheck && !stillAt(dir, held.id)) {
      // Moved away, or replaced, since: what is open is no longer the folder at that path,
      // nor perhaps the folders above it: reached anew from the base.
      this.#drop(dir, held);
      held = undefined;
      fresh = true;
    }
    let made: string | undefined;
    if (held === undefined) ({ held, made } = this.#walk(base, dir, fresh));
    this.#held.delete(dir); // to the end: the most recently used
    this.#held.set(dir, held);
    held.refs++;
    this.#trim();
    const h = held;
    let released = false;
    return {
      path: dir,
      id: h.id,
      made,
      fd: h.fd,
      at: (name) => `${throughProc(h.fd)}/${name}`,
      release: () => {
        if (released) return;
        released = true;
        h.refs--;
        if (h.dropped && h.refs === 0) fs.closeSync(h.fd);
        this.#trim();
      },
    };
  }

  /**
   * Opens each folder down to `dir` through the one above it, from the nearest one held
   * open (a restore goes from folder to folder nearby: mostly one open), or from `base`
   * when `fresh`. Each folder opened is held for later reaches (until trimmed).
   */
  #walk(base: string, dir: string, fresh: boolean): { held: Held; made?: string } {
    this.#partial = undefined;
    let made: string | undefined;
    const parts = relative(base, dir).split(sep).filter((p) => p !== "");
    const paths = [base];
    for (const part of parts) paths.push(join(paths[paths.length - 1], part));
    let at = paths.length - 1;
    while (!fresh && at >= 0 && !this.#held.has(paths[at])) at--;
    let held = at >= 0 && !fresh ? this.#held.get(paths[at])! : undefined;
    if (held !== undefined) {
      // The folders above it held too are used again as well: to the end, the most
      // recently used, so that a deep tree keeps its trunk open while its leaves come and go.
      for (let i = 0; i <= at; i++) {
        const above = this.#held.get(paths[i]);
        if (above === undefined) continue;
        this.#held.delete(paths[i]);
        this.#held.set(paths[i], above);
      }
    } else {
      at = 0;
      const opened = openBase(base);
      if (opened.made) made = base;
      held = this.#keep(base, opened.fd);
      if (made === base) this.#madeId(base, held.id);
    }
    let deepest = paths[at];
    try {
      for (let i = at + 1; i < paths.length; i++) {
        // Below a folder made just now nothing is there yet: made without a look first.
        const fd = openChild(held.fd, parts[i - 1], paths[i], () => made ??= paths[i], !!made);
        held = this.#keep(paths[i], fd);
        deepest = paths[i];
        if (made !== undefined) this.#madeId(paths[i], held.id);
        // Trimmed on the way down, not once there: a folder 60 levels deep held every
        // folder above it open at once, which `ulimit -n 64` does not allow, and the
        // descriptors of a walk that failed so stayed held, so every later file failed too
        // (limits hunt: 5,060 files, none restored). The one just opened is kept: the next
        // is opened through it.
        held.refs++;
        this.#trim();
        held.refs--;
      }
    } catch (e) {
      // Made on the way to one that could not be: for the restore to give them their metadata.
      if (made !== undefined && deepest.length >= made.length) {
        this.#partial = { first: made, deepest };
      }
      throw e;
    }
    return { held, made };
  }

  #madeId(path: string, id: string): void {
    if (this.#madeIds.size < MADE_IDS_LIMIT) this.#madeIds.set(path, id);
  }

  /**
   * The identity a folder this restore made had when it made it (undefined: it made no
   * such folder, or it was already there): a folder put in its place since is not it.
   */
  madeId(path: string): string | undefined {
    return this.#madeIds.get(path);
  }

  /** Holds the folder `path` open as `fd` (after checking it is not the backup root). */
  #keep(path: string, fd: number): Held {
    try {
      this.#check(fd, path);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
    const before = this.#held.get(path);
    if (before !== undefined) this.#drop(path, before);
    const held: Held = { fd, id: identityOf(fd), refs: 0 };
    this.#held.set(path, held);
    return held;
  }

  #check(fd: number, path: string): void {
    if (this.rootId !== undefined && identityOf(fd) === this.rootId) {
      throw new RefusedFolder("backup-root", path);
    }
  }

  /** Closes the least recently used folders no one holds, past `KEPT_OPEN`. */
  #trim(): void {
    if (this.#held.size <= KEPT_OPEN) return;
    for (const [dir, h] of this.#held) {
      if (this.#held.size <= KEPT_OPEN) return;
      if (h.refs === 0) this.#drop(dir, h);
    }
  }

  #drop(dir: string, h: Held): void {
    this.#held.delete(dir);
    h.dropped = true;
    if (h.refs === 0) fs.closeSync(h.fd);
  }

  close(): void {
    for (const h of this.#held.values()) fs.closeSync(h.fd);
    this.#held.clear();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Opens the restore's base folder from `/` down, each folder through the one above it
 * without following a symlink, making the missing ones: the base is a real path (the
 * config's and --to's are resolved when read), so a symlink on the way is one put there
 * since, by someone who may write the folder above it (a user owning the folder of the
 * source root root restores). A base on another root than `/` (Windows) is not walked.
 */
function openBase(base: string): { fd: number; made: boolean } {
  let made = false;
  let fd = fs.openSync(parse(base).root, C.O_RDONLY | (C.O_DIRECTORY ?? 0));
  let path = parse(base).root;
  try {
    for (const part of base.slice(path.length).split(sep).filter((p) => p !== "")) {
      path = join(path, part);
      const next = openChild(fd, part, path, () => made = true);
      fs.closeSync(fd);
      fd = next;
    }
    return { fd, made };
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

/**
 * Opens the folder `name` in the folder open as `parent` (its path: `named`), never
 * through a symlink, making it first if it is missing (`onMade` then).
 */
function openChild(
  parent: number,
  name: string,
  named: string,
  onMade: () => void,
  missing = false,
): number {
  const inside = `${throughProc(parent)}/${name}`;
  for (let attempt = 0;; attempt++) {
    try {
      if (missing && attempt === 0) throw Object.assign(new Error("missing"), { code: "ENOENT" });
      return fs.openSync(inside, OPEN_FOLDER);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "ENOENT" && attempt === 0) {
        try {
          makeFolder(inside); // never writable by others, whatever the umask (fsops.ts)
          onMade();
        } catch (made) {
          if (!(made instanceof Deno.errors.AlreadyExists)) {
            throw new Error(`${errorText(made).split(":")[0]}: '${named}'`, { cause: made });
          }
        }
        continue;
      }
      throw openFolderError(e, inside, named);
    }
  }
}

/**
 * What a folder's open refused is said as (reached as `at`, named `named`): a symlink or a
 * file on the way refused, any other failure in the system's words.
 */
export function openFolderError(e: unknown, at: string, named: string): Error {
  const code = (e as { code?: string }).code;
  if (code === "ELOOP" || code === "ENOTDIR") {
    return new RefusedFolder(lstatOrNone(at)?.isSymlink ? "symlink" : "file", named);
  }
  return new Error(`${String((e as Error)?.message ?? e).split(",")[0]}: '${named}'`, {
    cause: e,
  });
}

/**
 * Whether the folder open as `id` is still the one at `dir` (a look by path, so it only
 * keeps the report true: what is written goes through the open folder all the same).
 */
function stillAt(dir: string, id: string): boolean {
  const info = lstatOrNone(dir);
  return info !== undefined && folderIdentityOf(info) === id;
}

export function identityOf(fd: number): string {
  const s = fs.fstatSync(fd);
  return `${s.dev}:${s.ino}`;
}

/** Without /proc: each folder on the way looked at with lstat, missing ones made. */
function reachByPath(base: string, dir: string, rootId?: string): Reached {
  let made: string | undefined;
  const parts = relative(base, dir).split(sep).filter((p) => p !== "");
  let path = base;
  for (const folder of [base, ...parts.map((p) => (path = join(path, p)))]) {
    let info = lstatOrNone(folder);
    if (info === undefined) {
      makeFolders(folder);
      made ??= folder;
      info = Deno.lstatSync(folder);
    }
    if (info.isSymlink && folder !== base) throw new RefusedFolder("symlink", folder);
    if (info.isSymlink) info = Deno.statSync(folder);
    if (!info.isDirectory) throw new RefusedFolder("file", folder);
    if (rootId !== undefined && folderIdentityOf(info) === rootId) {
      throw new RefusedFolder("backup-root", folder);
    }
  }
  const info = Deno.statSync(dir); // checked above: a folder (the base through its symlink)
  return {
    path: dir,
    id: info.ino ? folderIdentityOf(info) : undefined,
    made,
    at: (name) => join(dir, name),
    release: () => {},
  };
}

/**
 * The `sources` list: each item is a path string or `{ "path", "name"? }`. Paths resolve
 * against the config folder and must be existing folders (a symlinked root is followed),
 * unless missing ones are allowed (the commands that only read the backup);
 * names default to the folder's basename, must be one usable path component, must not be
 * a reserved backup folder name, and must be unique (ignoring letter case, so they cannot
 * collide on case-insensitive disks). Sources must not overlap each other or backup_root;
 * backup_root inside a source is allowed (the engine skips it when scanning that source).
 */
import { basename } from "node:path";
import { Invalid, invalid, osDetail, quote, typeName } from "./errors.ts";
import {
  absolute,
  isInside,
  nonFolderAbove,
  notAFolder,
  realTarget,
  tryRealPath,
} from "./paths.ts";
import { Section } from "./section.ts";

/** One source folder: a unique name and the realpath of its root. */
export interface Source {
  name: string;
  path: string;
  /** The root as the config writes it, made absolute, where it differs from `path`. */
  written?: string;
}

/** Folder names the backup root uses for itself (compared ignoring case and trailing `~`). */
const RESERVED_NAMES = ["versions", "_duplicates", "_deleted", "_sources", ".backup-tool"];

interface Entry extends Source {
  key: string; // "sources[0]"
  given: string; // the path as written
}

/** Validates the raw `sources` value and returns the sources in config order. */
export function readSources(
  raw: unknown,
  base: string,
  backupRoot: string,
  mayBeMissing = false,
): Source[] {
  if (!Array.isArray(raw)) invalid(`'sources' must be an array of folders, got ${typeName(raw)}`);
  if (raw.length === 0) invalid(`'sources' must not be empty: list at least one folder to back up`);
  const entries = raw.map((item, i) => readEntry(item, `sources[${i}]`, base, mayBeMissing));
  checkOverlaps(entries, backupRoot);
  checkUniqueNames(entries);
  return entries.map(({ name, path, written }) =>
    written ? { name, path, written } : { name, path }
  );
}

function readEntry(item: unknown, key: string, base: string, mayBeMissing: boolean): Entry {
  let given: string;
  let name: string | undefined;
  let pathKey = key;
  if (typeof item === "string") {
    given = item;
  } else if (typeName(item) === "object") {
    const section = Section.of(item, key, ["path", "name"]);
    section.required("path", 'give the folder, e.g. { "path": "./data" }');
    given = section.typed("path", "string", "a string") as string;
    if (section.has("name")) name = section.typed("name", "string", "a string") as string;
    pathKey = section.path("path");
  } else {
    invalid(`${quote(key)} must be a folder path string or { "path": ... }, got ${typeName(item)}`);
  }
  const abs = absolute(base, given, pathKey);
  const path = realFolder(abs, key, mayBeMissing);
  if (name === undefined) checkName(basename(abs), key, given, false);
  else checkName(name, `${key}.name`, given, true);
  const written = abs !== path ? abs : undefined;
  return { name: name ?? basename(abs), path, written, key, given };
}

/**
 * The real path of a source folder; where a lost source is allowed (`mayBeMissing`), one
 * that does not exist, or has a file in its place, as `missingFolder` takes it.
 */
function realFolder(abs: string, key: string, mayBeMissing: boolean): string {
  const real = tryRealPath(abs, `source (${key})`);
  if (real === undefined) {
    if (mayBeMissing) return missingFolder(abs, key);
    // A file on the way is named: "check the path or mount the disk" alone left it to guess.
    const blocker = nonFolderAbove(abs);
    const why = blocker === undefined ? "" : ` (${notAFolder(blocker)})`;
    invalid(`source ${quote(abs)} (${key}) does not exist${why}: check the path or mount the disk`);
  }
  let isDir: boolean;
  try {
    isDir = Deno.statSync(real).isDirectory;
  } catch (err) {
    invalid(`source ${quote(abs)} (${key}) cannot be accessed: ${osDetail(err)}`);
  }
  if (!isDir && mayBeMissing) return abs; // lost, a file in its place: taken as written
  if (!isDir) invalid(`source ${quote(abs)} (${key}) is not a folder: sources must be folders`);
  return real;
}

/**
 * A usable source name close to `wanted` (a folder's basename), not among `taken` (lower
 * case): for `init`, which must write a config the loader accepts.
 */
export function usableSourceName(wanted: string, taken: ReadonlySet<string>): string {
  let name = wanted.replace(/[/\\\0]/g, "_");
  if (name === "" || name === "." || name === "..") name = "source";
  try {
    checkName(name, "name", name, true);
  } catch (e) {
    if (!(e instanceof Invalid)) throw e;
    name = `${name}-source`; // a reserved name such as `versions`
  }
  let unique = name;
  for (let n = 2; taken.has(unique.toLowerCase()); n++) unique = `${name}-${n}`;
  return unique;
}

/**
 * A source folder that does not exist, for the commands that only read the backup: resolved
 * as `realTarget` does, or, where that cannot be (a dangling symlink to a lost disk, a file
 * where a folder was), taken as written.
 */
function missingFolder(abs: string, key: string): string {
  try {
    return realTarget(abs, `source (${key})`);
  } catch (e) {
    if (e instanceof Invalid) return abs;
    throw e;
  }
}

/** Rejects names that are not one plain path component or that are reserved. */
function checkName(name: string, key: string, given: string, explicit: boolean): void {
  const fix = explicit
    ? "choose another name"
    : `give it a name: { "path": ${JSON.stringify(given)}, "name": "..." }`;
  const what = `source name ${quote(name)} (${key})`;
  if (name === "") {
    if (explicit) invalid(`${quote(key)} must not be empty: ${fix}`);
    invalid(`source ${quote(given)} (${key}) has no folder name to use: ${fix}`);
  }
  if (/[/\\]/.test(name)) {
    invalid(`${what} must be a single folder name without '/' or '\\': ${fix}`);
  }
  if (name === "." || name === "..") invalid(`${what} is not a usable folder name: ${fix}`);
  if (name.includes("\0")) invalid(`${what} must not contain a NUL character: ${fix}`);
  const bare = name.toLowerCase().replace(/~+$/, "");
  if (RESERVED_NAMES.includes(bare) || bare.startsWith(".backup-tool")) {
    invalid(
      `${what} is reserved for the backup's own folders (${RESERVED_NAMES.join(", ")}): ${fix}`,
    );
  }
}

function checkUniqueNames(entries: readonly Entry[]): void {
  const seen = new Map<string, Entry>();
  for (const entry of entries) {
    const other = seen.get(entry.name.toLowerCase());
    if (other !== undefined) {
      const named = other.name === entry.name
        ? `are both named ${quote(entry.name)}`
        : `are named ${quote(other.name)} and ${quote(entry.name)}, which differ only in ` +
          "letter case (as folder names on some disks)";
      const example = `{ "path": ${JSON.stringify(entry.given)}, "name": ${
        JSON.stringify(freeName(entry.name, entries))
      } }`;
      invalid(
        `${other.key} and ${entry.key} ${named}: give each source a unique "name", e.g. ` +
          example,
      );
    }
    seen.set(entry.name.toLowerCase(), entry);
  }
}

/** `<name>-2` (or the first of `-3`, `-4`, … that no source is named, in any letter case). */
function freeName(name: string, entries: readonly Entry[]): string {
  const taken = new Set(entries.map((e) => e.name.toLowerCase()));
  let n = 2;
  while (taken.has(`${name}-${n}`.toLowerCase())) n++;
  return `${name}-${n}`;
}

function checkOverlaps(entries: readonly Entry[], root: string): void {
  for (const [i, a] of entries.entries()) {
    const label = `source ${quote(a.name)} (${quote(a.path)})`;
    if (a.path === root) {
      invalid(`'backup_root' is the same folder as ${label}: back up to a different folder`);
    }
    if (isInside(a.path, root)) {
      invalid(
        `${label} is inside 'backup_root' (${quote(root)}): the backup would contain itself;` +
          ` move backup_root elsewhere`,
      );
    }
    for (const b of entries.slice(i + 1)) checkPair(a, b);
  }
}

function checkPair(a: Entry, b: Entry): void {
  const fix = "files would be backed up twice; remove one of them";
  if (a.path === b.path) {
    invalid(`${a.key} and ${b.key} are the same folder (${quote(a.path)}): remove one of them`);
  }
  const [inner, outer] = isInside(b.path, a.path) ? [b, a] : isInside(a.path, b.path) ? [a, b] : [];
  if (inner && outer) {
    invalid(
      `source ${quote(inner.name)} (${quote(inner.path)}) is inside source ${quote(outer.name)} (${
        quote(outer.path)
      }): ${fix}`,
    );
  }
}

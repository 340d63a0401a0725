/**
 * `exclude_from`: files of exclude patterns, one a line, as rsync's `--exclude-from`,
 * restic's `--exclude-file` and borg's `--exclude-from` take them, so that one list serves
 * several machines' configs, or a script writes it. Each path resolves against the config's
 * folder, as every path key's does (paths.ts `absolute`: `~` is refused, not expanded).
 *
 * A file is read whole when the config loads (or its bytes given, `FileBytes`: a watch's look
 * read them): a regular file (a symlink to one too) of up to MAX_EXCLUDE_FILE_BYTES, UTF-8 (a
 * BOM at its start ignored). Its lines (LF or CRLF ends): one of only whitespace, or beginning
 * with `#`, is skipped, as gitignore and rsync skip them (`\#` begins a pattern with `#`);
 * every other is a pattern, taken as written and checked as `exclude`'s (pattern_check.ts), so
 * that it matches exactly as the same pattern in `exclude` would: trailing spaces are then
 * dropped unless escaped (`\ `), and leading ones kept, as gitignore has them. The files'
 * patterns come first, in the order the files are listed, then `exclude`'s, so a `!` pattern
 * in `exclude` can take one back.
 *
 * A file that cannot be read, or a pattern in it that would match nothing as meant, throws
 * `Invalid` in one line naming the key, the file (and line) and what to do; a command that
 * leaves nothing out (restore on a lost disk) may take an unreadable one as giving none.
 * Here too: `configWarnings`, what is likely wrong in the patterns of a config that loads,
 * said with where each was written. Reads only.
 */
import { Invalid, invalid, osDetail, quote, typeName } from "./errors.ts";
import { absolute, brokenLink, nonFolderAbove, notAFolder } from "./paths.ts";
import { patternProblem, sourceNamedProblem } from "./pattern_check.ts";
import { readExclude } from "./exclude_keys.ts";
import type { Section } from "./section.ts";
import type { FileBytes } from "./config_text.ts";
import type { Config, Source } from "./config.ts";

/**
 * The largest exclude file read: a list of thousands of patterns is a few hundred KiB; a
 * file that never ends (`/dev/zero`) or a wrong one (a disk image) is refused unread.
 */
export const MAX_EXCLUDE_FILE_BYTES = 16 << 20;

/** Where a pattern in effect was written, for messages. */
export interface PatternOrigin {
  /** The config key: `exclude[2]`, or `exclude_from[0]` for a line of that file. */
  key: string;
  /** The file and line (from 1) of a pattern from an `exclude_from` file. */
  file?: string;
  line?: number;
}

/** What `exclude_from` gives: its files, and their patterns in order, each with its origin. */
export interface ExcludeFrom {
  files: string[];
  patterns: string[];
  origins: PatternOrigin[];
}

/** `exclude` and `exclude_from`: the patterns in effect, in order, and where each is from. */
export function readPatterns(
  top: Section,
  base: string,
  mayBeUnreadable = false,
  read?: FileBytes,
): { exclude: string[]; excludeOrigins: PatternOrigin[]; excludeFrom: string[] } {
  const exclude = readExclude(top);
  const from = readExcludeFrom(top, base, mayBeUnreadable, read);
  return {
    exclude: [...from.patterns, ...exclude],
    excludeOrigins: [...from.origins, ...exclude.map((_, i) => ({ key: `exclude[${i}]` }))],
    excludeFrom: from.files,
  };
}

/** A pattern and where it is, as said in messages: `'exclude[0]' '*.tmp'`, with the file's line. */
export function patternAt(origin: PatternOrigin, pattern: string): string {
  const at = origin.file === undefined ? "" : ` (line ${origin.line} of ${quote(origin.file)})`;
  return `'${origin.key}' ${quote(pattern)}${at}`;
}

/**
 * `exclude_from`: the files listed, read, their patterns checked (see the module comment).
 * `mayBeUnreadable`: a file that cannot be read gives no patterns instead of being refused
 * (for the commands that leave nothing out, which must work once a disk is lost). `bytesOf`:
 * the files' bytes as a look read them (config_text.ts `FileBytes`); by default the disk.
 */
export function readExcludeFrom(
  top: Section,
  base: string,
  mayBeUnreadable = false,
  bytesOf?: FileBytes,
): ExcludeFrom {
  const read: ExcludeFrom = { files: [], patterns: [], origins: [] };
  if (!top.has("exclude_from")) return read;
  const what = 'an array of paths of files of exclude patterns, e.g. ["./exclude.txt"]';
  const list = top.typed("exclude_from", "array", what) as unknown[];
  list.forEach((path, i) => {
    const key = `exclude_from[${i}]`;
    if (typeof path !== "string") invalid(`'${key}' must be a string, got ${typeName(path)}`);
    if (path === "") {
      invalid(`'${key}' must not be empty: give the path of a file of exclude patterns`);
    }
    const file = absolute(base, path, key);
    read.files.push(file);
    let text;
    try {
      text = readExcludeFile(file, key, bytesOf);
    } catch (err) {
      if (mayBeUnreadable && err instanceof Invalid) return;
      throw err;
    }
    for (const { line, pattern } of excludeFileLines(text)) {
      const origin = { key, file, line };
      const problem = patternProblem(pattern);
      if (problem) invalid(`${patternAt(origin, pattern)} ${problem}`);
      read.patterns.push(pattern);
      read.origins.push(origin);
    }
  });
  return read;
}

/**
 * The patterns of an exclude file's text, with their line numbers (from 1): a BOM at the
 * start dropped, each line's end (LF, CRLF) too; blank lines (only whitespace) and those
 * beginning with `#` skipped. Pure.
 */
export function excludeFileLines(text: string): { line: number; pattern: string }[] {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  return body.split("\n").flatMap((raw, i) => {
    const pattern = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (pattern.trim() === "" || pattern.startsWith("#")) return [];
    return [{ line: i + 1, pattern }];
  });
}

/** An exclude file's text; what keeps it from being read throws `Invalid` with the remedy. */
function readExcludeFile(file: string, key: string, read?: FileBytes): string {
  const cannot = `'${key}' cannot read ${quote(file)}`;
  let bytes: Uint8Array;
  try {
    const given = read?.(file); // read from a regular file
    // Looked at first: a FIFO would hold the load up, a device never end.
    const info = given === undefined ? Deno.statSync(file) : undefined;
    const size = given?.length ?? info?.size ?? 0;
    if (info?.isDirectory) {
      invalid(`${cannot}: it is a folder: give the path of a file of exclude patterns, one a line`);
    }
    if (info !== undefined && !info.isFile) {
      invalid(`${cannot}: it is not a regular file: give the path of a file of exclude patterns`);
    }
    if (size > MAX_EXCLUDE_FILE_BYTES) {
      invalid(
        `${cannot}: it is ${size} bytes, more than a file of exclude patterns may be ` +
          `(${MAX_EXCLUDE_FILE_BYTES}): check that '${key}' names the right file`,
      );
    }
    bytes = given ?? Deno.readFileSync(file);
  } catch (err) {
    if (err instanceof Invalid) throw err;
    invalid(`${cannot}: ${readFailure(file, err)}`);
  }
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    invalid(`${cannot}: it is not UTF-8 text: save it as UTF-8, one pattern a line`);
  }
  // No name holds one: a binary file listed by mistake (an image, a database) that decodes.
  if (text.includes("\0")) {
    invalid(
      `${cannot}: it holds a NUL byte, so it is no text file: check that '${key}' names the ` +
        "file of exclude patterns",
    );
  }
  return text;
}

/**
 * Why an exclude file could not be read (`err`, the system's error), and what to do: said
 * after "'<key>' cannot read '<file>': ".
 */
export function readFailure(file: string, err: unknown): string {
  // A file on the way: ENOTDIR on Linux and macOS, but a path not found (os error 3) on
  // Windows, where "create it" could not be done.
  if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
    const blocker = nonFolderAbove(file);
    if (blocker !== undefined) return `${notAFolder(blocker)}: check the path`;
  }
  if (err instanceof Deno.errors.NotFound) return missing(file);
  if (err instanceof Deno.errors.PermissionDenied) {
    return `${osDetail(err)}: make it readable to this user, or list a copy`;
  }
  return osDetail(err);
}

/** Why a file not found is not there (missing, or a symlink to nothing), and what to do. */
function missing(file: string): string {
  const link = brokenLink(file);
  return link === undefined
    ? "it does not exist: create it, or remove it from 'exclude_from'"
    : `${link}: check the symlink, or remove it from 'exclude_from'`;
}

/**
 * What is likely wrong in a config that loads, said as warnings (on stderr by `run`, `plan`
 * and `watch`), not errors: an exclude pattern (of `exclude`, or a line of an `exclude_from`
 * file) that begins with a source's name and so matches nothing (`sourceNamedProblem`). Reads each source's root listing, only where a
 * pattern begins with a source's name; a source that cannot be listed warns of none.
 */
export function configWarnings(config: Config): string[] {
  const names = config.sources.map((s) => s.name);
  let roots: Set<string> | undefined;
  const rootHolds = (name: string) => {
    roots ??= rootEntryNames(config.sources);
    return roots.has("") || roots.has(name.toLowerCase());
  };
  return config.exclude.flatMap((pattern, i) => {
    const problem = sourceNamedProblem(pattern, names, rootHolds);
    if (!problem) return [];
    const origin = config.excludeOrigins[i] ?? { key: `exclude[${i}]` };
    const where = origin.file === undefined ? ` in ${quote(config.file)}` : "";
    return [`${patternAt(origin, pattern)}${where} ${problem}`];
  });
}

/** The names at the sources' roots, lower case; "" among them where one cannot be listed. */
function rootEntryNames(sources: readonly Source[]): Set<string> {
  const names = new Set<string>();
  for (const source of sources) {
    try {
      for (const entry of Deno.readDirSync(source.path)) names.add(entry.name.toLowerCase());
    } catch {
      names.add(""); // unknown: say nothing
    }
  }
  return names;
}

/**
 * The names and patterns that leave files out, read from the config: `exclude_if_present`'s
 * names of entries that leave the folder holding one out (engine/scan/tags.ts), matched as a
 * folder lists them, and `exclude`'s gitignore patterns (pattern_check.ts). A name that
 * cannot be one (empty, holding a path separator, `.` or `..`), or a pattern that matches
 * nothing as meant, throws `Invalid`, said in one line with what to give instead. Pure.
 */
import { invalid, quote, typeName } from "./errors.ts";
import { patternProblem } from "./pattern_check.ts";
import type { Section } from "./section.ts";

/**
 * `exclude_if_present`: names of entries (`.nobackup`) that leave the folder holding one
 * out. Names, matched as they are listed: not patterns, not paths.
 */
export function readExcludeIfPresent(top: Section): string[] {
  if (!top.has("exclude_if_present")) return [];
  const what = 'an array of file names, e.g. [".nobackup"]';
  const list = top.typed("exclude_if_present", "array", what) as unknown[];
  return list.map((name, i) => {
    const key = `exclude_if_present[${i}]`;
    if (typeof name !== "string") invalid(`'${key}' must be a string, got ${typeName(name)}`);
    const why = name === ""
      ? "is empty"
      : /[/\\]/.test(name)
      ? "holds a path separator"
      : name === "." || name === ".."
      ? "names a folder itself"
      : undefined;
    if (why !== undefined) {
      invalid(
        `'${key}' ${quote(name)} ${why}: give the name of a file a folder holds, as it is ` +
          'listed (".nobackup"), without folders or wildcards',
      );
    }
    return name;
  });
}

/** `exclude`: non-empty gitignore patterns, kept as given. */
export function readExclude(top: Section): string[] {
  if (!top.has("exclude")) return [];
  const list = top.typed("exclude", "array", "an array of patterns") as unknown[];
  return list.map((pattern, i) => {
    const key = `exclude[${i}]`;
    if (typeof pattern !== "string") invalid(`'${key}' must be a string, got ${typeName(pattern)}`);
    if (pattern.trim() === "") invalid(`'${key}' must not be empty: remove it`);
    if (pattern.startsWith("#")) {
      invalid(
        `'${key}' ${quote(pattern)} is a comment in gitignore syntax and matches nothing:` +
          ` write ${quote(`\\${pattern}`)} to match names starting with '#'`,
      );
    }
    const problem = patternProblem(pattern);
    if (problem) invalid(`'${key}' ${quote(pattern)} ${problem}`);
    return pattern;
  });
}

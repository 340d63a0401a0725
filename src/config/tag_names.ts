/**
 * `exclude_if_present`'s names, read from the config: names of entries that leave the
 * folder holding one out (engine/tags.ts), matched as a folder lists them. A name that
 * cannot be one (empty, holding a path separator, `.` or `..`) throws `Invalid`, said in
 * one line with what to give instead. Pure.
 */
import { invalid, quote, typeName } from "./errors.ts";
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

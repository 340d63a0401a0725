/**
 * The `--include PATTERN` and `--exclude PATTERN` options of `restore`, `ls` and `diff`,
 * each repeatable, read one way for all: checked as the config checks its exclude patterns
 * (restore/path_filter.ts), a bad one a UsageError (exit code 2) before anything is read;
 * and how the --json documents give them. Pure.
 */
import {
  checkFilterPatterns,
  type FilterPatterns,
  type PathFilter,
  pathFilter,
} from "../restore/path_filter.ts";
import type { Parsed } from "./args.ts";

/** The options `parseCommand` is given for them. */
export const FILTER_OPTIONS = ["include", "exclude"];

/** The filter the options give (undefined for none), its patterns checked. */
export function filterOption(command: string, p: Parsed): PathFilter | undefined {
  const list = (name: string) => {
    const v = p.values[name];
    return Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
  };
  const patterns = { include: list("include"), exclude: list("exclude") };
  checkFilterPatterns(command, patterns);
  return pathFilter(patterns);
}

/** `filter` of a --json document, with `--include` or `--exclude`: the patterns as given. */
export function filterField(filter: FilterPatterns | undefined) {
  if (filter === undefined) return {};
  return { filter: { include: [...filter.include], exclude: [...filter.exclude] } };
}

/**
 * `--include PATTERN` and `--exclude PATTERN` of `restore`, `ls` and `diff`, as restic's
 * `restore --include/--exclude`: a file is kept when an include matches it (any file, when
 * none is given) and no exclude does. The patterns are the config's `exclude` patterns
 * (gitignore syntax, core/exclude.ts's matcher, letter case ignored, the same checks as
 * config/pattern_check.ts), each option's list read as one gitignore file: matched against
 * a recorded file's path inside its source (the logical path without the source's name in
 * front), a folder pattern (`node_modules/`) taking every file below the folder, a `!`
 * pattern an exception to the patterns of its option before it. So one pattern means the
 * same in the config and on the command line.
 *
 * Also what is said of a pattern that matches no file of what was asked (`PatternHits`,
 * fed each recorded path as the command's own pass reads it): an `--include` that matches
 * none is a problem (the files the others keep are restored all the same, exit 1, as a
 * PATH not found among others; one that matches a path recorded at other moments only, a
 * file deleted since, is told where to look rather than to be corrected: `noteOther`), an
 * `--exclude` that matches none a note (it leaves nothing out), and so is a `!` pattern of
 * either that matches none, or that takes nothing back below a folder a pattern before it
 * matches; and the refusal of a bad pattern. Pure: nothing is read or written here.
 */
import { patternProblem } from "../config/pattern_check.ts";
import { UsageError } from "../engine/errors.ts";
import { createMatcher, excludesRecorded, type Matcher } from "../core/exclude.ts";
import { commandHint } from "../config/selection.ts";

/** The patterns as given, each option's in order. */
export interface FilterPatterns {
  include: readonly string[];
  exclude: readonly string[];
}

export type FilterOption = "--include" | "--exclude";

/** Which recorded files (logical paths: `source/docs/a.txt`) the patterns keep. */
export class PathFilter {
  readonly #include: Matcher | undefined;
  readonly #exclude: Matcher;

  constructor(readonly patterns: FilterPatterns) {
    this.#include = patterns.include.length === 0 ? undefined : matcherOf(patterns.include);
    this.#exclude = matcherOf(patterns.exclude);
  }

  keeps(logical: string): boolean {
    if (this.#include !== undefined && !matches(this.#include, logical)) return false;
    return !matches(this.#exclude, logical);
  }

  /** `--include '*.xlsx' --exclude '~$*'`, as the summaries say it. */
  get text(): string {
    return filterText(this.patterns);
  }
}

/** A filter of the patterns given; undefined for none. */
export function pathFilter(patterns: FilterPatterns): PathFilter | undefined {
  const none = patterns.include.length === 0 && patterns.exclude.length === 0;
  return none ? undefined : new PathFilter(patterns);
}

export function filterText({ include, exclude }: FilterPatterns): string {
  return [
    ...include.map((p) => `--include '${p}'`),
    ...exclude.map((p) => `--exclude '${p}'`),
  ].join(" ");
}

/**
 * Refuses a pattern the config refuses in `exclude` (a UsageError, exit 2, naming the
 * option and the value, with what to write instead), and a `!` pattern first of its
 * option, which makes an exception to nothing (git ignores it): `--exclude '!a'` alone
 * excludes nothing, `--include '!a'` alone includes nothing.
 */
export function checkFilterPatterns(command: string, patterns: FilterPatterns): void {
  const check = (option: FilterOption, list: readonly string[]) => {
    list.forEach((pattern, i) => {
      const why = filterPatternProblem(option, pattern, i === 0);
      if (why !== undefined) {
        throw new UsageError(`Invalid ${option} '${pattern}': ${why}: see '${command} --help'`);
      }
    });
  };
  check("--include", patterns.include);
  check("--exclude", patterns.exclude);
}

/** What is wrong with one pattern (`first` of its option), or undefined. */
export function filterPatternProblem(
  option: FilterOption,
  pattern: string,
  first: boolean,
  os: typeof Deno.build.os = Deno.build.os,
): string | undefined {
  if (pattern.trim() === "") {
    return "it is empty (an unset variable?): give a pattern such as '*.xlsx' or 'node_modules/'";
  }
  if (pattern.startsWith("#")) {
    return "it is a comment in gitignore syntax and matches nothing: write " +
      `'\\${pattern}' to match names starting with '#'`;
  }
  const problem = patternProblem(pattern, os);
  if (problem !== undefined) return `it ${problem}`;
  if (first && pattern.startsWith("!")) {
    const other = option === "--include" ? "--exclude" : "--include";
    const meant = option === "--include" ? "leave out" : "keep only";
    return `it begins with '!', an exception to the ${option} patterns before it, and none ` +
      `is: to ${meant} what '${pattern.slice(1)}' matches, write ${other} ` +
      `'${pattern.slice(1)}' (or '\\${pattern}' for a name that begins with '!')`;
  }
  return undefined;
}

/** One pattern, and the matcher of it alone (a `!` one's without its `!`). */
interface Watched {
  option: FilterOption;
  pattern: string;
  matcher: Matcher;
  /** An include's: a recorded path it matches that is not asked for (`noteOther`). */
  other?: string;
}

/**
 * A `!` pattern of an option: an exception to the patterns before it, which takes a file
 * back only where it is not below a folder one of them matches (gitignore's rule, as the
 * config's exclude has it): `--exclude 'docs/' --exclude '!docs/a.txt'` takes nothing back.
 */
interface Exception {
  option: FilterOption;
  pattern: string;
  /** Its body alone, the option's patterns before it, and those with it. */
  body: Matcher;
  before: Matcher;
  upTo: Matcher;
  /** The patterns before it without `!`, each alone: which folder pattern holds it. */
  earlier: { pattern: string; matcher: Matcher }[];
  /** A pattern before it that matched a file its body matches, where it took none back. */
  blocker?: string;
}

/** A pattern that matched no file asked for. */
export interface Unmatched {
  option: FilterOption;
  pattern: string;
}

/**
 * Which patterns match some file of what was asked (the PATHs, as of the moment), each
 * alone, whatever the other patterns say (an include and an exclude of the same files
 * both match), and whether the filter keeps any: fed each recorded path asked for.
 */
export class PatternHits {
  #left: Watched[];
  readonly #filter: PathFilter;
  /** Whether any path was asked for at all (none: the PATH's own not-found says it). */
  seen = false;
  /** Whether the filter keeps any. */
  kept = false;
  /** The sources' names met, for the hint at a pattern that starts with one. */
  readonly #sources = new Set<string>();
  /** Includes left that match no path noted by `noteOther` yet. */
  #otherless: number;
  /** The `!` patterns that took no file back yet. */
  #exceptions: Exception[];

  constructor(filter: PathFilter) {
    this.#filter = filter;
    const watched = (option: FilterOption) => (pattern: string): Watched => ({
      option,
      pattern,
      matcher: matcherOf([pattern.startsWith("!") ? pattern.slice(1) : pattern]),
    });
    const { include, exclude } = filter.patterns;
    this.#left = [...include.map(watched("--include")), ...exclude.map(watched("--exclude"))];
    this.#otherless = include.filter((p) => !p.startsWith("!")).length;
    this.#exceptions = [
      ...exceptionsOf("--include", include),
      ...exceptionsOf("--exclude", exclude),
    ];
  }

  /**
   * A recorded path under what was asked but not asked for as of the moment (a file deleted
   * since, or backed up later; an older content of a path asked for matches nothing new):
   * an include that matches none asked for but this one is told where to look instead of
   * to be corrected. Matched only while some include left has no such path yet.
   */
  noteOther(logical: string): void {
    if (this.#otherless === 0) return;
    for (const w of this.#left) {
      if (w.option !== "--include" || w.pattern.startsWith("!") || w.other !== undefined) {
        continue;
      }
      if (!matches(w.matcher, logical)) continue;
      w.other = logical;
      this.#otherless--;
    }
  }

  /** A recorded path asked for; whether the filter keeps it. */
  note(logical: string): boolean {
    this.seen = true;
    if (this.#left.length > 0) {
      const slash = logical.indexOf("/");
      if (slash > 0 && this.#sources.size < 100) this.#sources.add(logical.slice(0, slash));
      this.#left = this.#left.filter((w) => {
        if (!matches(w.matcher, logical)) return true;
        const positive = w.option === "--include" && !w.pattern.startsWith("!");
        if (positive && w.other === undefined) this.#otherless--;
        return false;
      });
    }
    if (this.#exceptions.length > 0) this.#noteExceptions(logical);
    const keeps = this.#filter.keeps(logical);
    this.kept ||= keeps;
    return keeps;
  }

  /** The patterns that matched nothing asked for (none where nothing was asked for). */
  get unmatched(): Unmatched[] {
    return this.seen ? this.#left.map(({ option, pattern }) => ({ option, pattern })) : [];
  }

  /** The `--include`s (not `!` ones) that matched nothing: `said`'s first problems, one each. */
  get unmatchedIncludes(): Unmatched[] {
    return this.unmatched.filter((u) => u.option === "--include" && !u.pattern.startsWith("!"));
  }

  /** Each `!` pattern that matches `logical` either takes it back or is blocked by a folder. */
  #noteExceptions(logical: string): void {
    this.#exceptions = this.#exceptions.filter((e) => {
      if (!matches(e.body, logical) || !matches(e.before, logical)) return true;
      if (!matches(e.upTo, logical)) return false; // taken back
      e.blocker ??= e.earlier.find((p) => matches(p.matcher, logical))?.pattern;
      return true;
    });
  }

  /** For `noteOther`: whether an include left has no path of another moment yet. */
  get wantsOthers(): boolean {
    return this.#otherless > 0;
  }

  /**
   * What to say once every path asked for was noted, a line each (without its title).
   * `problems`: each `--include` that matched nothing (the files the others keep are given
   * all the same), first, and, where no file is kept but some include matched (or none is
   * given), that the patterns that matched keep none together. `notes`: each `--exclude` that
   * matched nothing, which leaves nothing out, each `!` pattern that matched nothing (an
   * include's leaves nothing out, an exclude's takes nothing back), and each `!` pattern
   * that takes nothing back for a folder pattern before it. `where`: what was asked, said after "no
   * file" (`under 'docs' as of …`).
   */
  said(where: string): { problems: string[]; notes: string[] } {
    const unmatched = this.unmatched;
    const line = ({ option, pattern }: Unmatched, then: string) =>
      `${option} '${pattern}' matches no file ${where}${then} ` +
      `(${sourceHint(option, pattern, [...this.#sources]) ?? MATCHED_HOW})`;
    // A `!` pattern that matches nothing takes nothing out of (or back into) what its
    // option's patterns before it match: harmless (`--include '!~$*'` without a lock file).
    const exception = (u: Unmatched) => u.pattern.startsWith("!");
    const includes = this.unmatchedIncludes;
    const otherOf = (u: Unmatched) =>
      this.#left.find((w) => w.option === u.option && w.pattern === u.pattern)?.other;
    const problems = includes.map((u) => {
      const other = otherOf(u);
      if (other === undefined) return line(u, "; correct it or leave it out");
      return `${u.option} '${u.pattern}' matches no file ${where}; it matches '${other}', ` +
        "recorded at other moments only (deleted since, or backed up later): " +
        `'${commandHint(`history ${other}`)}' lists them; give --at one of them`;
    });
    const notes = unmatched.filter((u) => u.option === "--exclude" || exception(u))
      .map((u) =>
        line(
          u,
          u.option === "--exclude" && exception(u)
            ? ": it takes nothing back"
            : ": it leaves nothing out",
        )
      );
    for (const e of this.#exceptions) {
      if (e.blocker === undefined) continue;
      const folder = e.blocker.replace(/\/+$/, "");
      notes.push(
        `${e.option} '${e.pattern}' takes no file back ${where}: the files it matches are ` +
          `below a folder '${e.blocker}' matches, and nothing below a folder a pattern ` +
          "matches is taken back (as in the config's exclude): write " +
          `'${folder}/**' instead of '${e.blocker}' to match the folder's files one by one`,
      );
    }
    // Where every include matched nothing, their lines say why nothing is kept.
    const given = this.#filter.patterns.include.filter((p) => !p.startsWith("!")).length;
    if (this.seen && !this.kept && (given === 0 || includes.length < given)) {
      const met = (option: FilterOption) => (pattern: string) =>
        !unmatched.some((u) => u.option === option && u.pattern === pattern);
      const { include, exclude } = this.#filter.patterns;
      const text = filterText({
        include: include.filter(met("--include")),
        exclude: exclude.filter(met("--exclude")),
      });
      problems.push(
        `${text} leave no file ${where}; each matches some, and together they keep none: ` +
          "see 'ls' without them for what there is",
      );
    }
    return { problems, notes };
  }
}

/** The `!` patterns of one option's list, each with what it needs (see `Exception`). */
function exceptionsOf(option: FilterOption, list: readonly string[]): Exception[] {
  return list.flatMap((pattern, i) => {
    if (!pattern.startsWith("!") || i === 0) return [];
    const earlier = list.slice(0, i).filter((p) => !p.startsWith("!"))
      .map((p) => ({ pattern: p, matcher: matcherOf([p]) }));
    return [{
      option,
      pattern,
      body: matcherOf([pattern.slice(1)]),
      before: matcherOf(list.slice(0, i)),
      upTo: matcherOf(list.slice(0, i + 1)),
      earlier,
    }];
  });
}

/** How a pattern is matched, said where one matched nothing. */
const MATCHED_HOW = "it is matched against each file's path inside its source, as the " +
  "config's exclude patterns are, letter case ignored";

/**
 * Where a pattern with a `/` begins with a source's name (`alpha/docs/*.xlsx`), matched
 * inside each source so looking for a folder `alpha` in one: to give that source as a PATH.
 */
export function sourceHint(
  option: FilterOption,
  pattern: string,
  sources: readonly string[],
): string | undefined {
  const body = pattern.replace(/^!/, "").replace(/^\//, "");
  const slash = body.indexOf("/");
  if (slash <= 0 || slash === body.length - 1) return undefined;
  const first = body.slice(0, slash);
  const source = sources.find((s) => s.toLowerCase() === first.toLowerCase());
  if (source === undefined) return undefined;
  const rest = `${pattern.startsWith("!") ? "!" : ""}${body.slice(slash + 1)}`;
  return `it is matched inside each source, and '${source}' is a source's name, not a folder ` +
    `in one: give '${source}' as a PATH, with ${option} '${rest}'`;
}

/**
 * A matcher of patterns composed (NFC), as a keyboard types them, and a recorded path
 * matched composed too: a name written decomposed (as macOS writes it) is matched as it
 * looks on screen, as `find` matches one (find.ts `recordedPathTest`).
 */
function matcherOf(patterns: readonly string[]): Matcher {
  return createMatcher(patterns.map((p) => p.normalize("NFC")));
}

/** Whether `m` matches the recorded path (its part inside its source), read composed. */
function matches(m: Matcher, logical: string): boolean {
  return excludesRecorded(m, ASCII.test(logical) ? logical : logical.normalize("NFC"));
}

// deno-lint-ignore no-control-regex
const ASCII = /^[\x00-\x7f]*$/;

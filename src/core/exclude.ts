/**
 * Exclude patterns in gitignore syntax, matched exactly as the npm package `ignore` v7 matches
 * them (`ignore().add(patterns).ignores(path)`), without loading that CommonJS package (and
 * with it Deno's Node compatibility layer) at start-up.
 *
 * Each pattern is compiled once, by the package's translation rules: it is cut into tokens
 * (`/`, a run of `*`, or a matcher of one character: a literal, `?`, a bracket expression)
 * that become a regular expression testing a whole `/`-separated relative path (`a/b.txt`, or
 * `a/b/` for a folder); consecutive patterns of the same kind share one RegExp. Matching is
 * case-insensitive, the package's default. A path is tested against the patterns from the last
 * to the first, and the first that matches decides (a `!` pattern re-includes). A path below an
 * excluded folder is excluded whatever the patterns say about it, so the parent folder `a/` of
 * `a/b` is decided first (recursively). Folder verdicts are cached, in a cache cleared when it
 * is full; file verdicts are not.
 */

export interface Matcher {
  ignores(path: string): boolean;
}

/** Consecutive patterns of the same kind, as one RegExp: any of them matching gives one verdict. */
interface Rule {
  regex: RegExp;
  negative: boolean;
  /** Tested against the last segment of the path only (see `createMatcher`). */
  basename: boolean;
}

const NOTHING_IGNORED: Matcher = { ignores: () => false };

/**
 * Folder verdicts kept before the cache is cleared. A depth-first walk only asks again about
 * the ancestors of the folder it is in, so clearing costs a few recomputed ancestors, and
 * 8,192 paths of a typical 50-100 characters keep the cache around 1 MB.
 */
const FOLDER_CACHE_LIMIT = 8192;

/**
 * Whether the recorded file at a logical path (`<source>/<path in it>`) is one `matcher`
 * excludes: its path in its source, or a folder it is in, matching.
 */
export function excludesRecorded(matcher: Matcher, path: string): boolean {
  return matcher.ignores(path.slice(path.indexOf("/") + 1));
}

/** A matcher for gitignore-style patterns; with none that can match, one that does no work. */
export function createMatcher(patterns: readonly string[]): Matcher {
  const lines = patterns.map((p, i) => readLine(p, i === 0)).filter((l) => l !== undefined);
  // The package tests a pattern without an inner slash against the last path segment when at
  // least half of the patterns are such, and the full path otherwise: the two agree except on
  // paths with an empty segment (`a//`), where the choice is mirrored to give its answers.
  const useBasename = lines.filter((l) => isBasenameOnly(l.body)).length * 2 >= lines.length;
  const groups: { sources: string[]; negative: boolean; basename: boolean }[] = [];
  for (const { body, negative } of lines) {
    const source = translate(body);
    if (source === undefined) continue; // matches nothing
    const basename = useBasename && isBasenameOnly(body);
    const last = groups.at(-1);
    if (last?.negative === negative && last.basename === basename) last.sources.push(source);
    else groups.push({ sources: [source], negative, basename });
  }
  if (!groups.some((g) => !g.negative)) return NOTHING_IGNORED;
  return new RuleMatcher(groups.map(({ sources, negative, basename }) => {
    const regex = new RegExp(sources.map((s) => `(?:${s})`).join("|"), "i");
    return { regex, negative, basename };
  }));
}

/**
 * Whether a path itself matches any of `patterns`, each read and translated as an exclude
 * pattern is, matched as one is (case-insensitively) against the whole path: one without a
 * `/` (but a final one) names its last segment, one with a `/` the path from its start. For
 * `find`, which asks of recorded paths what they are named, so without what an exclude
 * adds: the folders above a path (`docs` names no file `docs/a.txt`), and `!` (the patterns
 * are OR-ed; a `!` one, a comment or a blank one matches nothing here, the caller's to refuse).
 */
export function createPathTest(patterns: readonly string[]): (path: string) => boolean {
  const sources = patterns.flatMap((p) => {
    const line = readLine(p, false);
    const source = line === undefined || line.negative ? undefined : translate(line.body);
    return source === undefined ? [] : [`(?:${source})`];
  });
  if (sources.length === 0) return () => false;
  const regex = new RegExp(sources.join("|"), "i");
  return (path) => regex.test(path);
}

class RuleMatcher implements Matcher {
  readonly #rules: Rule[];
  readonly #anyBasename: boolean;
  readonly #folders = new Map<string, boolean>();
  /** The folder of the last file asked about, and its verdict: a walk asks folder by folder. */
  #lastFolder = "";
  #lastVerdict = false;

  constructor(rules: Rule[]) {
    this.#rules = rules;
    this.#anyBasename = rules.some((r) => r.basename);
  }

  ignores(path: string): boolean {
    if (path === "") return false; // the package throws
    if (path.endsWith("/")) return this.#folder(path);
    const cut = lastCut(path);
    return (cut >= 0 && this.#inFolder(path, cut)) || this.#test(path, cut);
  }

  /** Whether the folder of the file `path` (cut at its last slash) is excluded. */
  #inFolder(path: string, cut: number): boolean {
    // A hit means `path` is that folder and a name: no parentOf, no hashing of the folder.
    if (cut + 1 !== this.#lastFolder.length || !path.startsWith(this.#lastFolder)) {
      const parent = parentOf(path);
      this.#lastFolder = parent;
      this.#lastVerdict = parent !== "" && this.#folder(parent);
    }
    return this.#lastVerdict;
  }

  /** Whether the folder `dir` (`a/b/`) is excluded, by itself or by an ancestor. */
  #folder(dir: string): boolean {
    let verdict = this.#folders.get(dir);
    if (verdict === undefined) {
      const parent = parentOf(dir);
      verdict = (parent !== "" && this.#folder(parent)) || this.#test(dir, lastCut(dir));
      if (this.#folders.size >= FOLDER_CACHE_LIMIT) this.#folders.clear();
      this.#folders.set(dir, verdict);
    }
    return verdict;
  }

  /** The verdict of the last rule matching `path` itself (its last segment after `cut`). */
  #test(path: string, cut: number): boolean {
    const rules = this.#rules;
    const base = this.#anyBasename && cut >= 0 ? path.slice(cut + 1) : path;
    for (let i = rules.length - 1; i >= 0; i--) {
      const rule = rules[i];
      if (rule.regex.test(rule.basename ? base : path)) return !rule.negative;
    }
    return false;
  }
}

// ---- paths

const SLASH = 47; // "/"

/** Where the last slash before a trailing one is (-1 if none). */
function lastCut(path: string): number {
  const end = path.length - 1;
  return path.lastIndexOf("/", path.charCodeAt(end) === SLASH ? end - 1 : end);
}

/** 'a/b/c' -> 'a/b/'; 'a/b/' -> 'a/'; 'a' -> ''; empty segments dropped: 'a//b' -> 'a/'. */
function parentOf(path: string): string {
  if (path.charCodeAt(0) === SLASH || path.includes("//")) {
    const parts = path.split("/").filter((p) => p !== "");
    parts.pop();
    return parts.length === 0 ? "" : `${parts.join("/")}/`;
  }
  const cut = lastCut(path);
  return cut < 0 ? "" : path.slice(0, cut + 1);
}

// ---- pattern lines

/** A pattern without a leading `!`; `negative` if it had one. */
interface Line {
  body: string;
  negative: boolean;
}

/** A pattern line as the package reads it, or undefined for a blank line or a comment. */
function readLine(pattern: string, first: boolean): Line | undefined {
  let body = first && pattern.startsWith("\uFEFF") ? pattern.slice(1) : pattern; // a BOM
  if (body.startsWith("#")) return undefined;
  const negative = body.startsWith("!");
  if (negative) body = body.slice(1);
  if (/[ \r\n]$/.test(body)) body = trimEnd(body);
  if (body === "" || /(?:^|[^\\])(?:\\\\)*\\$/.test(body)) return undefined; // lone `\` at end
  return { body: body.replace(/^\\([!#])/, "$1"), negative };
}

/**
 * Drops line ends (an LF, and a CR before it or at the end) and trailing spaces; a space
 * escaped by an odd run of backslashes stays, unescaped: 'a  ' -> 'a', 'a\ ' -> 'a '.
 */
function trimEnd(body: string): string {
  let lineEnd = body.length;
  let end = lineEnd;
  for (;;) {
    if (body[lineEnd - 1] === "\r") lineEnd--;
    for (end = lineEnd; body[end - 1] === " "; end--);
    if (body[end - 1] !== "\n") break;
    lineEnd = end - 1;
  }
  if (end === lineEnd) return body.slice(0, lineEnd);
  let backslashes = 0;
  while (body[end - backslashes - 1] === "\\") backslashes++;
  return backslashes % 2 === 1 ? `${body.slice(0, end - 1)} ` : body.slice(0, end);
}

function isBasenameOnly(body: string): boolean {
  const slash = body.indexOf("/");
  return slash < 0 || slash === body.length - 1;
}

// ---- translation

const ANYWHERE = "(?:^|\\/)"; // at the root or after any folder
const SUFFIX = "(?=$|\\/$)"; // a file, or a folder given with its trailing slash
const WILDCARD = "[^\\/]*";

/**
 * The regular expression source of a pattern body, or undefined if it can match nothing.
 * Tokens are `/`, `*` (one star), `**` (a run of two or more) and the source of a regular
 * expression matching one character (`\/` for an escaped slash).
 */
function translate(pattern: string): string | undefined {
  const body = /^\/\*{2,}$/.test(pattern) ? "**" : pattern; // `/**` is `**`
  const tokens = tokenize(body);
  if (tokens === undefined) return undefined;
  const n = tokens.length;
  // A leading slash anchors to the root; leading `**/` matches in every folder; a slash in
  // the middle anchors too; otherwise the pattern may match below any folder.
  let start = tokens[0] === "/" ? 1 : 0;
  let prefix = start === 1 ? "^" : undefined;
  while (isGlobstar(tokens, start) && tokens[start + 1] === "/") {
    start += 2;
    prefix = ANYWHERE;
  }
  // (Any slash but a final one counts, escaped or in brackets too: the package looks at the
  // raw pattern.)
  prefix ??= /\/(?!$)/.test(body) ? "^" : ANYWHERE;
  let source = prefix;
  for (let i = start; i < n; i++) {
    const t = tokens[i];
    if (t === "/" && isGlobstar(tokens, i + 1)) {
      if (i + 2 === n) return `${source}\\/[\\s\\S]`; // `a/**`: anything inside, not `a/`
      // `a/**/b`: zero or more folders between; `a/**/`: at least one folder below `a`
      source += i + 3 === n ? "(?:\\/[^\\/]+)+" : "(?:\\/[^\\/]+)*";
      i++;
    } else if (t === "*" || t === "**") {
      if (i + 1 < n) source += innerWildcard(tokens, i);
      else return source + trailingWildcard(tokens, i, start);
    } else {
      source += t === "/" ? "\\/" : t;
    }
  }
  // A trailing slash matches folders only (given as `a/`).
  return source + (n > start && tokens[n - 1] === "/" ? "$" : SUFFIX);
}

/** A run of stars forming a whole segment: `**`, `a/**`, `**\/b`, `a/**\/b`. */
function isGlobstar(tokens: string[], i: number): boolean {
  return tokens[i] === "**" && (i === 0 || tokens[i - 1] === "/") &&
    (i + 1 === tokens.length || tokens[i + 1] === "/");
}

/**
 * A wildcard with more pattern after it. If another wildcard follows the fixed piece after
 * it, it is pinned to stop where that piece first occurs: the same paths match (the next
 * wildcard takes up the rest), but a run like `*a*a*a*b` no longer backtracks through every
 * way of laying out a long name, which the package guards against the same way.
 */
function innerWildcard(tokens: string[], i: number): string {
  let piece = "";
  for (let j = i + 1; j < tokens.length; j++) {
    const t = tokens[j];
    if (t === "*" || t === "**") return `(?:(?!${piece})[^\\/])*`;
    if (t === "/" && isGlobstar(tokens, j + 1)) break;
    piece += t === "/" ? "\\/" : t;
  }
  return WILDCARD;
}

/** A final star: `a/*` needs a name after the slash, `a*` and `/*` may match nothing. */
function trailingWildcard(tokens: string[], i: number, start: number): string {
  const prev = tokens[i - 1];
  const afterSlash = tokens[i] === "*" && i > start && (prev === "/" || prev === "\\/");
  return `[^/]${afterSlash ? "+" : "*"}${SUFFIX}`;
}

/** The tokens of a pattern body, or undefined if it matches nothing (see `scanBracket`). */
function tokenize(body: string): string[] | undefined {
  const tokens: string[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === "\\") {
      const escaped = body[++i]; // never past the end: see readLine
      // Git drops a final `/` before matching, which leaves a lone `\`: an invalid pattern.
      if (escaped === "/" && i === body.length - 1) return undefined;
      tokens.push(literal(escaped));
    } else if (c === "[") {
      const bracket = scanBracket(body, i);
      if (bracket === undefined) return undefined;
      tokens.push(bracket.source);
      i = bracket.end;
    } else if (c === "*") {
      const last = tokens.length - 1;
      if (tokens[last] === "*" || tokens[last] === "**") tokens[last] = "**";
      else tokens.push("*");
    } else if (c === "?") {
      tokens.push("[^/]");
    } else {
      tokens.push(c === "/" ? c : literal(c));
    }
  }
  return tokens;
}

function literal(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

// ---- bracket expressions, as git's wildmatch.c reads them

/** Git's ASCII-only classes; `/` is left out, a bracket expression never matches it. */
const POSIX_CLASSES = new Map([
  ["alnum", "0-9A-Za-z"],
  ["alpha", "A-Za-z"],
  ["blank", " \\t"],
  ["cntrl", "\\x00-\\x1f\\x7f"],
  ["digit", "0-9"],
  ["graph", "!-.0-~"],
  ["lower", "a-z"],
  ["print", " -.0-~"],
  ["punct", "!-.:-@\\[-`{-~"],
  ["space", " \\t\\n\\r"],
  ["upper", "A-Z"],
  ["xdigit", "0-9A-Fa-f"],
]);

/**
 * The bracket expression starting at `pattern[start] === "["`: its last index and its source,
 * or undefined if it is never closed or names an unknown class (git then gives up on the whole
 * pattern). A `]` right after `[` or `[!` is a member, `\` escapes a member, `[:name:]` is a
 * class, and `*`, `?` and `.` are plain members.
 */
function scanBracket(pattern: string, start: number): { end: number; source: string } | undefined {
  let i = start + 1;
  const negated = pattern[i] === "!" || pattern[i] === "^";
  if (negated) i++;
  let body = "";
  let prev = ""; // the member a `-` can start a range from
  do {
    const c = pattern[i];
    if (c === undefined) return undefined;
    if (c === "\\") {
      prev = pattern[++i];
      body += member(prev);
    } else if (c === "-" && prev !== "" && i + 1 < pattern.length && pattern[i + 1] !== "]") {
      let to = pattern[++i];
      if (to === "\\") to = pattern[++i];
      if (prev <= to) body += `-${member(to)}`; // `[c-a]` keeps only `c`, as git does
      prev = "";
    } else if (c === "[" && pattern[i + 1] === ":") {
      const close = pattern.indexOf("]", i + 2);
      if (close < 0) return undefined;
      if (close > i + 2 && pattern[close - 1] === ":") {
        const members = POSIX_CLASSES.get(pattern.slice(i + 2, close - 1));
        if (members === undefined) return undefined;
        body += members;
        prev = "";
        i = close;
      } else {
        body += "\\[";
        prev = "[";
      }
    } else {
      body += member(c);
      prev = c;
    }
    i++;
  } while (pattern[i] !== "]");
  return { end: i, source: classSource(negated, body) };
}

function member(c: string): string {
  return "\\]^-[".includes(c) ? `\\${c}` : c;
}

/** A class that never matches `/`, even when one of its ranges covers it. */
function classSource(negated: boolean, body: string): string {
  if (negated) return `[^\\/${body}]`;
  const source = `[${body}]`;
  return new RegExp(source).test("/") ? `(?!\\/)${source}` : source;
}

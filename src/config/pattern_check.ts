/**
 * Mistakes in an `exclude` pattern that gitignore syntax (and the `ignore` package that
 * reads it) take without a word, matching nothing or not what was meant: a pattern that
 * names nothing (`/`, `!`), a `.` or `..` part, a `\` that escapes nothing, a `[` no `]`
 * closes, an unknown character class or a collating element, a backwards range, and on
 * Windows a `\` written to separate folders (`AppData\Local\Temp`), which gitignore reads
 * as an escape (`AppDataLocalTemp`). Said as the config's error (exit 2), with the fix.
 * And a pattern that begins with a source's name (`alpha/secret/`, for source `alpha`'s
 * `secret/`), which matches nothing where no source holds a folder of that name: said as a
 * warning, since a folder of that name made later makes it match. Pure.
 */

/** The POSIX character classes gitignore knows. */
const CLASSES = new Set([
  "alnum",
  "alpha",
  "blank",
  "cntrl",
  "digit",
  "graph",
  "lower",
  "print",
  "punct",
  "space",
  "upper",
  "xdigit",
]);

/**
 * What a `\` may usefully escape in a pattern on Windows, whose names hold neither `\` nor
 * `*` or `?`: a bracket, a leading `!` or `#`, a trailing space. Anything else after one is
 * a folder separator written the Windows way (`docs\*.tmp` meant `docs/*.tmp`).
 */
const WINDOWS_ESCAPABLE = new Set(["[", "]", "!", "#", " "]);

/** What is wrong with a pattern, or undefined (`os`: the system whose names it matches). */
export function patternProblem(
  pattern: string,
  os: typeof Deno.build.os = Deno.build.os,
): string | undefined {
  // Trailing spaces go unless escaped (` / ` names a folder called " ").
  if (pattern.replace(/(?<!\\) +$/, "").replace(/^!/, "").replace(/\//g, "") === "") {
    return "names nothing (only '!' and '/'): remove it, or write the name to exclude";
  }
  if (pattern.replace(/^!/, "").split("/").some((part) => part === "." || part === "..")) {
    return "has a '.' or '..' part, which no path in a source has: write the path without it";
  }
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === "\\") {
      if (os === "windows" && !WINDOWS_ESCAPABLE.has(pattern[i + 1])) {
        return "has a '\\', which patterns read as an escape, not as a folder separator " +
          "(Windows names hold no backslash, so it would match nothing meant): separate " +
          "folders with '/' (AppData/Local/Temp/)";
      }
      if (i === pattern.length - 1) {
        return "ends with a '\\' that escapes nothing: remove it, or write '\\\\' for a backslash";
      }
      i++;
    } else if (pattern[i] === "[") {
      const end = bracketEnd(pattern, i);
      if (typeof end === "string") return end;
      i = end;
    }
  }
  return undefined;
}

/** Where the bracket expression opened at `open` closes, or what is wrong with it. */
function bracketEnd(p: string, open: number): number | string {
  let j = open + 1;
  if (p[j] === "!" || p[j] === "^") j++;
  if (p[j] === "]") j++; // a ']' first is one of the characters
  for (; j < p.length && p[j] !== "]"; j++) {
    // `[[.a.]]`, `[[=a=]]`: POSIX collating elements, which gitignore does not take as such
    // (`[[.]` and `[[.a.]` are brackets of the characters they hold).
    const collating = /^\[([.=])[^\]]*?\1\]/.exec(p.slice(j))?.[0];
    if (collating && p.indexOf("]", j + collating.length) >= 0) {
      return `has a collating element '${collating}', which gitignore does not read as one: ` +
        "write the character itself";
    }
    if (p.startsWith("[:", j)) {
      const close = p.indexOf(":]", j + 2);
      if (close < 0) break;
      const name = p.slice(j + 2, close);
      if (!CLASSES.has(name)) {
        return `has an unknown character class '[:${name}:]': use one of ${
          [...CLASSES].join(", ")
        }`;
      }
      j = close + 1;
      continue;
    }
    const [lo, afterLo] = charAt(p, j);
    if (p[afterLo] === "-" && afterLo + 1 < p.length && p[afterLo + 1] !== "]") {
      const [hi, afterHi] = charAt(p, afterLo + 1);
      if (hi < lo) {
        // Matching ignores case: `[a-Z]` meant `a-z`.
        const [a, b] = [lo.toLowerCase(), hi.toLowerCase()];
        const meant = a <= b ? `${a}-${b}` : `${hi}-${lo}`;
        return `has a backwards range '${lo}-${hi}', which stands for '${lo}' alone: write '${meant}'`;
      }
      j = afterHi - 1;
    } else j = afterLo - 1;
  }
  if (j >= p.length) {
    return "has a '[' that no ']' closes, which matches nothing: write '\\[' to match the character itself";
  }
  return j;
}

/** The character at `i` (an escaped one as itself) and where the next begins. */
function charAt(p: string, i: number): [string, number] {
  if (p[i] === "\\" && i + 1 < p.length) return [p[i + 1], i + 2];
  return [p[i], i + 1];
}

/**
 * What is wrong with a pattern anchored at the sources' roots (a `/` before its end) whose
 * first part is a source's name, where no source holds an entry of that name at its root
 * (`rootHolds`, asked without regard to case, as patterns match): patterns are matched
 * inside each source, so `alpha/secret/` looks for `alpha/secret/` there, and matches
 * nothing. Undefined where the pattern is not such a one.
 */
export function sourceNamedProblem(
  pattern: string,
  sourceNames: readonly string[],
  rootHolds: (name: string) => boolean,
): string | undefined {
  const negated = pattern.startsWith("!") ? "!" : "";
  const body = pattern.slice(negated.length).replace(/(?<!\\) +$/, "");
  const anchored = body.startsWith("/");
  const path = anchored ? body.slice(1) : body;
  const slash = path.indexOf("/");
  // `alpha/` (a `/` at the end only) is not anchored: it matches a folder at any depth.
  if (slash <= 0 || (!anchored && slash === path.length - 1)) return undefined;
  const first = path.slice(0, slash);
  if (/[*?[\\]/.test(first)) return undefined; // not a name as written
  const source = sourceNames.find((n) => n.toLowerCase() === first.toLowerCase());
  if (source === undefined || rootHolds(first)) return undefined;
  const head = `matches nothing: patterns are matched inside each source, and '${source}' is a ` +
    "source's name, not a folder at any source's root";
  const rest = path.slice(slash);
  // `alpha/`, or wildcards alone (`alpha/**`, `alpha/*/`): all or nearly all of the source
  // meant, which written without its name (`/**`) every source would leave out.
  if (/^(\/\*{1,2})*\/?$/.test(rest)) {
    return negated
      ? `${head}: remove it (what no pattern excludes is backed up)`
      : `${head}: to stop backing up source '${source}', remove it from 'sources'`;
  }
  return `${head}: write '${negated}${rest}' to match at the root of every source (no pattern ` +
    "applies to one source alone)";
}

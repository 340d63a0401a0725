/**
 * Mistakes in an `exclude` pattern that gitignore syntax (and the `ignore` package that
 * reads it) take without a word, matching nothing or not what was meant: a pattern that
 * names nothing (`/`, `!`), a `.` or `..` part, a `\` that escapes nothing, a `[` no `]`
 * closes, an unknown character class or a collating element, a backwards range. Said as
 * the config's error (exit 2), with the fix. Pure.
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

/** What is wrong with a pattern, or undefined. */
export function patternProblem(pattern: string): string | undefined {
  // Trailing spaces go unless escaped (` / ` names a folder called " ").
  if (pattern.replace(/(?<!\\) +$/, "").replace(/^!/, "").replace(/\//g, "") === "") {
    return "names nothing (only '!' and '/'): remove it, or write the name to exclude";
  }
  if (pattern.replace(/^!/, "").split("/").some((part) => part === "." || part === "..")) {
    return "has a '.' or '..' part, which no path in a source has: write the path without it";
  }
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === "\\") {
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

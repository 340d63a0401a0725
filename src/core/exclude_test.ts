/**
 * The exclude matcher: a table of examples, one per gitignore rule (each also checked against
 * the npm package `ignore`, the reference), and a differential property test (fast-check) that
 * random pattern lists and paths get the package's answers.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import ignore from "ignore";
import { createMatcher, createPathTest } from "./exclude.ts";

type Case = [patterns: string[], path: string, expected: boolean];

const CASES: Case[] = [
  // no patterns, blank lines, comments, escapes
  [[], "a", false],
  [[""], "a", false],
  [["   "], "a", false],
  [["#a"], "#a", false],
  [["\\#a"], "#a", true],
  [["\\!a"], "!a", true],
  [["\\a"], "a", true],
  [["a\\[b]"], "a[b]", true],
  [["\\*"], "*", true],
  [["\\*"], "a", false],
  [["a\\?"], "ab", false],
  // trailing spaces, unless escaped
  [["a  "], "a", true],
  [["a\\ "], "a ", true],
  [["a\\ "], "a", false],
  [["a\\  "], "a ", true],
  // negation, the last matching rule wins
  [["!a"], "a", false],
  [["*.log", "!keep.log"], "keep.log", false],
  [["*.log", "!keep.log"], "x/other.log", true],
  [["!keep.log", "*.log"], "keep.log", true],
  // a leading or middle slash anchors to the source root
  [["/build"], "build", true],
  [["/build"], "build/", true],
  [["/build"], "x/build", false],
  [["build"], "x/build", true],
  [["a/b"], "a/b", true],
  [["a/b"], "x/a/b", false],
  // a trailing slash matches folders only; folders with and without a trailing slash
  [["tmp/"], "tmp/", true],
  [["tmp/"], "tmp", false],
  [["tmp/"], "x/tmp/", true],
  [["tmp"], "tmp", true],
  [["tmp"], "tmp/", true],
  // the parent rule: below an excluded folder, and no re-including there
  [["tmp/"], "tmp/x", true],
  [["tmp/"], "x/tmp/y/z.txt", true],
  [["node_modules/"], "a/node_modules", false],
  [["node_modules/"], "a/node_modules/b", true],
  [["a/", "!a/b"], "a/b", true],
  [["a/", "!a/b/"], "a/b/", true],
  [["a/*", "!a/b"], "a/b", false],
  [["a/*", "!a/b"], "a/b/c", false],
  [["a/*", "!a/b/"], "a/b", true],
  // `*` and `?` stay within a segment
  [["*.tmp"], "a/b.tmp", true],
  [["*.tmp"], "a.tmp/", true],
  [["*.tmp"], "a.tmpx", false],
  [["a*"], "a", true],
  [["*"], "x/y", true],
  [["a/*"], "a/", false],
  [["a/*"], "a/b", true],
  [["a/*.c"], "a/b/c.c", false],
  [["/*.c"], "x.c", true],
  [["/*.c"], "d/x.c", false],
  [["?.c"], "a.c", true],
  [["?.c"], "ab.c", false],
  [["a?b"], "a/b", false],
  // bracket expressions
  [["[ab].c"], "b.c", true],
  [["[ab].c"], "c.c", false],
  [["[a-c]x"], "bx", true],
  [["[a-c]x"], "dx", false],
  [["[!a]x"], "bx", true],
  [["[!a]x"], "ax", false],
  [["[^a]x"], "ax", false],
  [["[]]"], "]", true],
  [["[[:digit:]]x"], "1x", true],
  [["[c-a]"], "c", true],
  [["a[/]b"], "a/b", false],
  [["a[!b]c"], "a/c", false],
  // `**/` leading, `/**` trailing, `/**/` middle, any other `**` as `*`
  [["**/foo"], "foo", true],
  [["**/foo"], "x/y/foo", true],
  [["**/foo/bar"], "x/foo/bar", true],
  [["**/foo/bar"], "foo/x/bar", false],
  [["/**/foo"], "x/foo", true],
  [["a/**"], "a/b/c", true],
  [["a/**"], "a/", false],
  [["a/**"], "a", false],
  [["/**"], "x/y", true],
  [["a/**/b"], "a/b", true],
  [["a/**/b"], "a/x/y/b", true],
  [["a/**/b"], "x/a/b", false],
  [["a/**/"], "a/", false],
  [["a/**/"], "a/b/", true],
  [["a**b"], "axxb", true],
  [["a**b"], "ax/b", false],
  [["**"], "x/y.z", true],
  // odd patterns: unclosed `[`, a trailing backslash, `***`, an escaped final slash
  [["a[b"], "a[b", false],
  [["a[b", "c"], "c", true],
  [["a\\"], "a\\", false],
  [["a\\\\"], "a\\", true],
  [["***"], "x/y", true],
  [["a/***/b"], "a/x/y/b", true],
  [["a\\/"], "a/", false],
  // case-insensitive, as the package is by default
  [["A.TXT"], "a.txt", true],
  [["[A-C]"], "b", true],
  // the typical configuration
  [["*.tmp", "node_modules/", ".cache/", "/build"], "src/.cache/x", true],
  [["*.tmp", "node_modules/", ".cache/", "/build"], "src/build/x", false],
  [["*.tmp", "node_modules/", ".cache/", "/build"], "src/main.ts", false],
];

Deno.test("exclude: examples, one per rule, agree with the package", () => {
  for (const [patterns, path, expected] of CASES) {
    const label = `${JSON.stringify(patterns)} ${JSON.stringify(path)}`;
    assert.equal(createMatcher(patterns).ignores(path), expected, label);
    assert.equal(ignore().add(patterns).ignores(path), expected, `package: ${label}`);
  }
});

Deno.test("exclude: paths the package refuses give an answer, not an exception", () => {
  const matcher = createMatcher(["a", "b/"]);
  for (const path of ["", "/a", "./a", "../a", ".", "..", "a//b", "/"]) matcher.ignores(path);
});

Deno.test("exclude: the folder cache stays correct past its size limit", () => {
  const patterns = ["d1*/", "!d1[05]*/", "*.c"];
  const ours = createMatcher(patterns);
  const ref = ignore().add(patterns);
  for (let i = 0; i < 30_000; i++) {
    for (const path of [`d${i % 200}/`, `d${i % 200}/e${i}/`, `d${i % 200}/e${i}/f.c`]) {
      assert.equal(ours.ignores(path), ref.ignores(path), path);
    }
  }
});

// Pieces chosen to collide: wildcards next to literals and slashes, escapes of all of them,
// ranges and classes, unclosed brackets, comments, negations, trailing spaces and line ends,
// and characters that mean something in a regular expression.
const PATTERN_PIECES = [
  "a",
  "b",
  ".x",
  "A",
  "*",
  "**",
  "***",
  "?",
  "[ab]",
  "[!a]",
  "[^b]",
  "[a-b]",
  "[[:alpha:]]",
  "[",
  "]",
  "/",
  "\\",
  "\\*",
  "\\ ",
  "\\/",
  " ",
  "!",
  "#",
  "$",
  "(",
  "\r",
];
const PATH_PIECES = ["a", "b", ".x", "A", "ab", "*", "?", "[", "]", "!", "#", " ", "\\", "$", "("];

const patternArb = fc
  .tuple(
    fc.boolean(),
    fc.array(fc.constantFrom(...PATTERN_PIECES), { minLength: 1, maxLength: 6 }),
    fc.boolean(),
    fc.constantFrom("", "", " ", "  "),
  )
  .map(([negated, pieces, folder, spaces]) =>
    `${negated ? "!" : ""}${pieces.join("")}${folder ? "/" : ""}${spaces}`
  );

// Never empty, never starting with `/` or `./`, no `..` segment (the package throws on
// those); now and then an empty segment in the middle (`a//b`), which the package accepts.
const segmentArb = fc.oneof(
  {
    arbitrary: fc.array(fc.constantFrom(...PATH_PIECES), { minLength: 1, maxLength: 3 }),
    weight: 12,
  },
  { arbitrary: fc.constant([]), weight: 1 },
).map((pieces) => pieces.join(""));

const pathArb = fc
  .tuple(fc.array(segmentArb, { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([segments, folder]) => `${segments.join("/")}${folder ? "/" : ""}`)
  .filter((p) => p !== "" && p !== "/" && !p.startsWith("/"));

Deno.test("exclude: random patterns and paths get the package's answers", () => {
  fc.assert(
    fc.property(
      fc.array(patternArb, { minLength: 1, maxLength: 5 }),
      fc.array(pathArb, { minLength: 1, maxLength: 6 }),
      (patterns, paths) => {
        // One matcher for all the paths of a case, so cached folder verdicts are used too.
        const ours = createMatcher(patterns);
        const ref = ignore().add(patterns);
        for (const path of paths) {
          const actual = ours.ignores(path); // must never throw
          let expected: boolean;
          try {
            expected = ref.ignores(path);
          } catch {
            continue; // a path the package refuses: there is no answer to compare with
          }
          assert.equal(actual, expected, `${JSON.stringify(patterns)} ${JSON.stringify(path)}`);
        }
      },
    ),
    { seed: 20261201, numRuns: 4000 },
  );
});

Deno.test("createPathTest: a name pattern names the last part, a path one the path from its start, OR-ed", () => {
  const test = createPathTest(["*.DOCX", "src/**/tax*"]);
  assert.equal(test("src/docs/report.docx"), true);
  assert.equal(test("src/docs.docx/a.txt"), false); // no folder above it counts
  assert.equal(test("src/a/b/tax-2024.pdf"), true);
  assert.equal(test("other/a/tax-2024.pdf"), false);
  assert.equal(createPathTest(["docs"])("src/docs/a.txt"), false);
  assert.equal(createPathTest(["!a.txt", "#a.txt"])("src/a.txt"), false);
  assert.equal(createPathTest(["\\#a.txt"])("src/#a.txt"), true);
});

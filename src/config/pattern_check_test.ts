import assert from "node:assert/strict";
import { patternProblem, sourceNamedProblem } from "./pattern_check.ts";

Deno.test("patternProblem: gitignore patterns that work are taken", () => {
  for (
    const p of [
      "*.tmp",
      "node_modules/",
      "/build",
      "!keep.txt",
      "**/cache/**",
      "[abc].txt",
      "[!a-z]*",
      "[]x]",
      "[a\\]]",
      "[[:digit:]]*",
      "\\[abc",
      "a\\\\",
      "x\\ ",
      "[a-a]",
      ".cache/",
      "[[.]",
      "[[.a.]",
      "[[=]",
      " / ",
      "a..b",
      "*.",
    ]
  ) {
    assert.equal(patternProblem(p), undefined, p);
  }
});

Deno.test("patternProblem: what matches nothing, or not what was meant, is named with its fix", () => {
  const cases: [string, RegExp][] = [
    ["/", /names nothing/],
    ["//", /names nothing/],
    ["!", /names nothing/],
    ["!/", /names nothing/],
    ["x\\", /ends with a '\\' that escapes nothing/],
    ["\\", /ends with a '\\'/],
    ["[abc", /has a '\[' that no '\]' closes/],
    ["a[", /no '\]' closes/],
    ["[]", /no '\]' closes/],
    ["[!]", /no '\]' closes/],
    ["[[:foo:]]", /unknown character class '\[:foo:\]'/],
    ["[z-a]", /backwards range 'z-a', which stands for 'z' alone: write 'a-z'/],
    ["[!a-Z]", /backwards range 'a-Z'.*write 'a-z'/],
    ["[a-Z]", /backwards range 'a-Z'.*write 'a-z'/],
    ["z/[[.a.]]", /collating element '\[\.a\.\]'/],
    ["z/[[=a=]]", /collating element '\[=a=\]'/],
    ["z/./a", /has a '\.' or '\.\.' part/],
    ["../z/a", /has a '\.' or '\.\.' part/],
  ];
  for (const [p, why] of cases) assert.match(patternProblem(p) ?? "", why, p);
});

Deno.test("patternProblem: on Windows a backslash written as a folder separator is refused", () => {
  // gitignore reads `\L` as `L`: `AppData\Local\Temp` matched `AppDataLocalTemp`, nothing a
  // Windows source can hold, and the folder meant was backed up without a word.
  for (const p of ["AppData\\Local\\Temp", "build\\", "docs\\*.tmp", "a\\\\b", "x\\.cache"]) {
    assert.match(patternProblem(p, "windows") ?? "", /separate folders with '\/'/, p);
  }
  // What a backslash does escape there (a bracket, a leading `!` or `#`, a trailing
  // space) is taken, as are the same patterns elsewhere.
  for (const p of ["\\[abc", "\\!keep", "\\#x", "x\\ ", "[a\\]]"]) {
    assert.equal(patternProblem(p, "windows"), undefined, p);
  }
  for (const p of ["AppData\\Local\\Temp", "a\\\\b"]) {
    assert.equal(patternProblem(p, "linux"), undefined, p);
    assert.equal(patternProblem(p, "darwin"), undefined, p);
  }
});

Deno.test("sourceNamedProblem: a pattern anchored at a source's name that no source holds is named, with what to write", () => {
  const names = ["alpha", "beta"];
  const none = () => false;
  const cases: [string, RegExp][] = [
    ["alpha/secret/", /write '\/secret\/' to match at the root of every source/],
    ["/alpha/secret/", /write '\/secret\/'/],
    ["Alpha/*.key", /'alpha' is a source's name.*write '\/\*\.key'/],
    ["!beta/keep.txt", /write '!\/keep\.txt'/],
    ["alpha/secret/  ", /write '\/secret\/'/],
    ["/alpha/", /to stop backing up source 'alpha', remove it from 'sources'/],
    // The whole source: not '/**' or '/*', which would leave out every source's every file.
    ["alpha/**", /: to stop backing up source 'alpha', remove it from 'sources'$/],
    ["alpha/*", /: to stop backing up source 'alpha', remove it from 'sources'$/],
    ["/alpha/**/*", /: to stop backing up source 'alpha', remove it from 'sources'$/],
    ["alpha/*/", /: to stop backing up source 'alpha', remove it from 'sources'$/],
    ["!alpha/**", /: remove it \(what no pattern excludes is backed up\)$/],
    ["alpha/**/x", /write '\/\*\*\/x'/],
    ["!/alpha/", /: remove it \(what no pattern excludes is backed up\)$/],
  ];
  for (const [p, expected] of cases) {
    const problem = sourceNamedProblem(p, names, none);
    assert.ok(problem, p);
    assert.match(problem, /^matches nothing: patterns are matched inside each source/, p);
    assert.match(problem, expected, p);
  }
});

Deno.test("sourceNamedProblem: other patterns, or a source that holds such a folder, say nothing", () => {
  const names = ["alpha", "beta"];
  for (
    const p of [
      "secret/",
      "/secret/",
      "alpha",
      "alpha/",
      "!alpha/",
      "gamma/x",
      "al*/x",
      "**/alpha/x",
      "a\\lpha/x",
    ]
  ) {
    assert.equal(sourceNamedProblem(p, names, () => false), undefined, p);
  }
  const asked: string[] = [];
  const holds = (name: string) => (asked.push(name), true);
  assert.equal(sourceNamedProblem("alpha/secret/", names, holds), undefined);
  assert.deepEqual(asked, ["alpha"]);
});

import assert from "node:assert/strict";
import { patternProblem } from "./pattern_check.ts";

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

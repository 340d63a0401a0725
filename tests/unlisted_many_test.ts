/**
 * Folders the walk cannot list are gathered in one list (each named in an ERROR line, and
 * nothing below them taken for deleted). The staging worker and the walk worker hand theirs
 * over when done, and that list was spread into one call (`push(...unreadable)`): past some
 * 125,000 such folders the stack overflowed, and the run failed with "Maximum call stack
 * size exceeded" instead of backing up the rest: a first backup, and with 50,000 tracked
 * files every run after it (shape hunt: 140,000 folders whose names are not valid UTF-8).
 * Making that many folders takes half a minute here, so the CLI runs with a V8 stack of
 * 128 KiB instead of about 1 MiB, where a spread of some 16,000 overflows: 24,000 folders do.
 * Their names are made with bash (Deno cannot hold them), many to one `mkdir` by xargs.
 */
import assert from "node:assert/strict";
import { makeFixture, runOnSmallStack, type Tree } from "./helpers.ts";

const UNLISTED = 24_000;
/** More files than the first backup walks before its staging worker takes over (1,024). */
const FILES = 1_100;

Deno.test("a first backup beside thousands of folders it cannot list names each and stores the rest", () => {
  const tree: Tree = {};
  for (let i = 0; i < FILES; i++) tree[`a/f${i}.txt`] = `file ${i}\n`;
  using fx = makeFixture(tree);
  const made = new Deno.Command("bash", {
    args: ["-c", `mkdir z && cd z && seq 1 ${UNLISTED} | sed 's/^/\\xff/' | xargs mkdir`],
    cwd: fx.source,
  }).outputSync();
  assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
  const { code, stdout, stderr } = runOnSmallStack(fx.config);
  assert.doesNotMatch(stderr, /Backup failed/);
  assert.equal(code, 1, stderr.slice(-500));
  assert.match(stdout, new RegExp(`${FILES} new, .* ${UNLISTED} failed`));
  assert.equal(stderr.match(/not valid UTF-8/g)?.length, UNLISTED);
});

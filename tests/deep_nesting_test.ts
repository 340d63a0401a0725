/**
 * The scanner walked a folder per generator, each delegating to the next (`yield*`), and
 * every step of such a chain runs through all its levels: some 2,000 nested folders (names
 * of one character fit 2,047 of them in Linux's PATH_MAX) overflowed the stack, and every
 * run of that source failed with "Maximum call stack size exceeded", nothing backed up
 * (shape hunt: 2,030 levels of `a/`). The CLI runs here with a V8 stack of 128 KiB instead
 * of about 1 MiB, where 600 levels overflowed the old walk: a small tree shows it.
 */
import assert from "node:assert/strict";
import { makeFixture, runOnSmallStack } from "./helpers.ts";

const LEVELS = 600;

Deno.test("a source 600 folders deep is walked and backed up with a small stack", () => {
  using fx = makeFixture({ "top.txt": "top\n" });
  // Each tenth level holds a file.
  const made = new Deno.Command("bash", {
    args: [
      "-c",
      `for i in $(seq 1 ${LEVELS}); do mkdir a && cd a || exit 1; ` +
      `if (( i % 10 == 0 )); then echo "level $i" > f; fi; done`,
    ],
    cwd: fx.source,
  }).outputSync();
  assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
  const { code, stdout, stderr } = runOnSmallStack(fx.config);
  assert.equal(code, 0, stderr.slice(-500));
  assert.match(stdout, new RegExp(`${LEVELS / 10 + 1} new, .* 0 failed`));
  const deepest = fx.backup + "/a".repeat(LEVELS) + "/f";
  assert.equal(Deno.readTextFileSync(deepest), `level ${LEVELS}\n`);
});

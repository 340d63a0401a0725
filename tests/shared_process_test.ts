/**
 * `deno task test` runs the test files in parallel in one process, so a test file must not
 * change what the process shares: an environment variable set by one (a fault hook, in
 * tests/staging_test.ts, until 2026-12-05) reached the CLI children that a test file
 * running beside it started, and failed them. Such a test runs its subject in a child
 * process with an `env` of its own instead. This looks at every test file's text.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { REPO } from "./helpers.ts";

/** Calls that change the test process's environment for every file running beside. */
const SHARED_CHANGE = /\bDeno\.env\.(set|delete)\s*\(/;

function* testFiles(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) yield* testFiles(path);
    else if (e.isFile && e.name.endsWith("_test.ts")) yield path;
  }
}

Deno.test("no test file changes the environment of the process the test files share", () => {
  const files = [...testFiles(join(REPO, "tests")), ...testFiles(join(REPO, "src"))];
  assert.ok(files.length > 100, `only ${files.length} test files found`);
  const changing = files
    .filter((f) => SHARED_CHANGE.test(Deno.readTextFileSync(f)))
    .map((f) => relative(REPO, f));
  assert.deepEqual(changing, [], "run the subject in a child process with its own env");
});

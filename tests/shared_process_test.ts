/**
 * `deno task test` runs the test files in parallel in one process, so test code must not
 * change what the process shares: an environment variable set by one file (a fault hook,
 * in tests/staging_test.ts, until 2026-12-05) reached the CLI children that a file running
 * beside it started, and failed them; a working folder changed by one moves every other's.
 * Such a test runs its subject in a child process with an `env` (or `cwd`) of its own
 * instead. This looks at the text of every test file and test helper; a child program
 * written in a template literal (`deno eval`) is its own process, and is passed over.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { REPO } from "./helpers.ts";

/** Calls that change the test process's environment or working folder for every file. */
const SHARED_CHANGES = [
  /\bDeno\.env\.(set|delete)\s*\(/,
  /\bprocess\.env(\.\w+|\[[^\]]+\])\s*=[^=]/,
  /\bdelete\s+process\.env\b/,
  /\b(Deno|process)\.chdir\s*\(/,
  /\benv\s*=\s*Deno\.env\b/, // an alias, set through later
];

/** Template literals (child programs among them), left out of what is looked at. */
const TEMPLATE = /`(?:\\[\s\S]|[^`\\])*`/g;

/** Test files and the helpers they import: under tests/, and beside the code in src/. */
function* testCode(dir: string, all: boolean): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) yield* testCode(path, all);
    else if (e.isFile && /\.(ts|js)$/.test(e.name) && (all || /(_test|test_util)\./.test(e.name))) {
      yield path;
    }
  }
}

Deno.test("no test code changes the environment or working folder of the process the test files share", () => {
  const files = [...testCode(join(REPO, "tests"), true), ...testCode(join(REPO, "src"), false)];
  assert.ok(files.length > 100, `only ${files.length} test files found`);
  const changing = files.flatMap((f) => {
    const code = Deno.readTextFileSync(f).replace(TEMPLATE, "``");
    const hit = SHARED_CHANGES.find((re) => re.test(code));
    return hit ? [`${relative(REPO, f)} (${hit.source})`] : [];
  });
  assert.deepEqual(changing, [], "run the subject in a child process with its own env or cwd");
});

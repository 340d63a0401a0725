/**
 * docs/guarantees.md names the test behind each promise (`file_test.ts` → `test name`):
 * each file named is there, and holds the test, its name's words in it (a name written with
 * `…` or `<operation>` where the test builds it: the words around those).
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { REPO } from "./helpers.ts";

/** Every `_test.ts` file of the repository, by its name. */
function testFiles(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(join(REPO, dir))) {
      const path = join(dir, e.name);
      if (e.isDirectory && !e.name.startsWith(".") && e.name !== "node_modules") walk(path);
      else if (e.name.endsWith("_test.ts")) found.set(e.name, [...found.get(e.name) ?? [], path]);
    }
  };
  for (const dir of ["src", "tests", "bench"]) walk(dir);
  return found;
}

Deno.test("docs/guarantees.md: every test it names is in the file it names", () => {
  const doc = Deno.readTextFileSync(join(REPO, "docs", "guarantees.md"));
  const files = testFiles();
  const wrong: string[] = [];
  const named = [...doc.matchAll(/`([\w/]+_test\.ts)` → `([^`]+)`/g)];
  assert.ok(named.length > 50, `only ${named.length} tests named`);
  for (const [, file, name] of named) {
    const paths = files.get(basename(file)) ?? [];
    const text = paths.map((p) => Deno.readTextFileSync(join(REPO, p))).join("\n");
    // The words between what a test fills in: `…`, `<operation>`, quotes, parentheses.
    const words = name.split(/…|<[^>]+>|['"()]|: /).map((w) => w.trim()).filter((w) =>
      w.length >= 3
    );
    if (paths.length === 0 || !words.every((w) => text.includes(w))) {
      wrong.push(`${file} → ${name}`);
    }
  }
  assert.deepEqual(wrong, []);
});

/** Unit tests of how a restore groups the files excluded since they were backed up. */
import assert from "node:assert/strict";
import { excludedRoots } from "./excluded.ts";

Deno.test("excludedRoots: files grouped by their topmost folder whose files are all excluded, each asked once", () => {
  // Tracked: s/a.txt, s/x.tmp (excluded), s/node_modules/** (all excluded), s/lib/m.tmp
  // (excluded) beside s/lib/k.js.
  const allExcluded = new Set(["s/node_modules", "s/node_modules/p", "s/node_modules/q"]);
  const asked: string[] = [];
  const files = [
    "s/lib/m.tmp",
    "s/node_modules/p/1.js",
    "s/node_modules/p/2.js",
    "s/node_modules/q/3.js",
    "s/x.tmp",
  ].map((path, i) => ({ path, validFrom: i }));
  const roots = excludedRoots(files, (f) => (asked.push(f), allExcluded.has(f)));
  assert.deepEqual(roots, [
    { path: "s/lib/m.tmp", folder: false, files: 1, latest: 0 },
    { path: "s/node_modules", folder: true, files: 3, latest: 3 },
    { path: "s/x.tmp", folder: false, files: 1, latest: 4 },
  ]);
  assert.deepEqual(asked, ["s", "s/lib", "s/node_modules"]);
});

Deno.test("excludedRoots: a folder whose name another's starts with is not taken for it", () => {
  const files = ["s/b.c/x", "s/b.c/y", "s/b/v", "s/b/w"].map((path) => ({ path, validFrom: 1 }));
  const roots = excludedRoots(files, (f) => f === "s/b" || f === "s/b.c");
  assert.deepEqual(roots.map((r) => [r.path, r.files]), [["s/b.c", 2], ["s/b", 2]]);
});

Deno.test("excludedRoots: one file restored of a folder all excluded is named itself, not the folder", () => {
  const files = [{ path: "s/node_modules/q/3.js", validFrom: 1 }];
  const roots = excludedRoots(files, (f) => f.startsWith("s/node_modules"));
  assert.deepEqual(roots, [{ path: "s/node_modules/q/3.js", folder: false, files: 1, latest: 1 }]);
});

Deno.test("excludedRoots: a folder's files whose exclusion ended since are counted, beside those excluded still", () => {
  const span = (from: number, to: number) => ({ from, to, by: "followed" as const });
  const files = [
    { path: "s/c/1", validFrom: 1, span: span(2, 5) },
    { path: "s/c/2", validFrom: 1 },
    { path: "s/c/3", validFrom: 1, span: span(3, 4) },
  ];
  const [root] = excludedRoots(files, (f) => f === "s/c");
  assert.deepEqual(root.ended, { files: 2, from: 2, to: 5, by: "followed" });
  assert.equal(root.files, 3);
});

/** Tests of the layout's pure rules: escaping reserved names and allocating free paths. */
import assert from "node:assert/strict";
import {
  allocatePath,
  assignPrefixes,
  escapeTopName,
  mirrorPath,
  parentOf,
  unescapeTopName,
  withSuffix,
} from "./layout.ts";

Deno.test("layout: reserved top-level names gain one '~', others are untouched", () => {
  const table: [string, string][] = [
    ["versions", "versions~"],
    ["versions~", "versions~~"],
    ["Versions", "Versions~"],
    ["_deleted", "_deleted~"],
    ["_duplicates", "_duplicates~"],
    ["_sources", "_sources~"],
    [".backup-tool", ".backup-tool~"],
    ["version", "version"],
    ["versions.txt", "versions.txt"],
    ["~versions", "~versions"],
  ];
  for (const [name, stored] of table) {
    assert.equal(escapeTopName(name), stored, name);
    assert.equal(unescapeTopName(stored), name, stored);
  }
});

Deno.test("layout: a path's folder, none for a name at the top", () => {
  assert.equal(parentOf("src/a/b.txt"), "src/a");
  assert.equal(parentOf("src/b.txt"), "src");
  assert.equal(parentOf("b.txt"), "");
});

Deno.test("layout: mirror paths per source prefix", () => {
  const prefixes = new Map([["main", ""], ["photos", "_sources/photos"]]);
  assert.equal(mirrorPath("main/a/b.txt", prefixes), "a/b.txt");
  assert.equal(mirrorPath("main/versions/x", prefixes), "versions~/x");
  assert.equal(mirrorPath("photos/versions/x", prefixes), "_sources/photos/versions/x");
});

Deno.test("layout: allocatePath never returns a taken path", () => {
  const files = new Set(["a", "d/x", "d/x.~2", "v/f"]);
  const occ = {
    isFile: (p: string) => files.has(p),
    isDir: (p: string) => [...files].some((f) => f.startsWith(`${p}/`)),
  };
  assert.equal(allocatePath("b", occ), "b");
  assert.equal(allocatePath("a", occ), "a.~2");
  assert.equal(allocatePath("d/x", occ), "d/x.~3");
  assert.equal(allocatePath("a/y", occ), "a.~2/y");
  assert.equal(allocatePath("v", occ), "v.~2");
  assert.equal(allocatePath("v/f/g", occ), "v/f.~2/g");
});

Deno.test("layout: allocatePath finds the next .~K in a few looks, the first free one where none is freed", () => {
  for (let n = 0; n <= 70; n++) {
    // `x`, `x.~2` … `x.~n` taken, as repeated deletions of one path leave them.
    const files = new Set(["d/x", ...Array.from({ length: n - 1 }, (_, i) => `d/x.~${i + 2}`)]);
    const occ = { isFile: (p: string) => files.has(p), isDir: () => false };
    assert.equal(allocatePath("d/x", occ), `d/x.~${Math.max(n + 1, 2)}`, `${n} taken`);
  }
  const looked: string[] = [];
  const occ = {
    isFile: (p: string) => {
      looked.push(p);
      return p === "x" || Number(p.match(/^x\.~(\d+)$/)?.[1]) <= 2000;
    },
    isDir: () => false,
  };
  assert.equal(allocatePath("x", occ), "x.~2001");
  assert.ok(looked.length < 30, `${looked.length} looks`);
  // With names freed in between (removed by hand), a free one all the same.
  const gaps = new Set(["x", "x.~2", "x.~3", "x.~5", "x.~6", "x.~7", "x.~8", "x.~9"]);
  const got = allocatePath("x", { isFile: (p) => gaps.has(p), isDir: () => false });
  assert.ok(!gaps.has(got) && /^x\.~\d+$/.test(got), got);
});

Deno.test("layout: a suffixed name still fits in 255 bytes", () => {
  const long = "é".repeat(127) + "x"; // 255 bytes
  const occ = { isFile: (p: string) => p === `d/${long}`, isDir: () => false };
  const got = allocatePath(`d/${long}`, occ).slice(2);
  assert.ok(new TextEncoder().encode(got).length <= 255);
  assert.ok(got.endsWith(".~2"));
  assert.equal(withSuffix("short", ".~3"), "short.~3");
});

Deno.test("layout: the root layout goes only to the first and only source; known ones keep theirs", () => {
  assert.deepEqual([...assignPrefixes(new Map(), ["main"])], [["main", ""]]);
  assert.deepEqual([...assignPrefixes(new Map(), ["a", "b"])], [
    ["a", "_sources/a"],
    ["b", "_sources/b"],
  ]);
  assert.deepEqual([...assignPrefixes(new Map([["main", ""]]), ["main", "photos"])], [
    ["main", ""],
    ["photos", "_sources/photos"],
  ]);
});

import assert from "node:assert/strict";
import { coveredFolders, keeping } from "./folder_spans.ts";

const rules = {
  scope: ["src"],
  unreadable: ["src/locked"],
  leftOut: new Set(["src/cache"]),
  exclude: ["node_modules/", "*.tmp"],
};

Deno.test("a folder the walks did not see is gone where they looked, at any depth", () => {
  const rule = coveredFolders(rules);
  assert.equal(rule.isGone("src/a"), true);
  assert.equal(rule.isGone("src/a/b/c"), true);
  assert.equal(rule.isGone("src/x.tmp"), false); // `*.tmp` names folders too, as the walk reads it
  assert.equal(rule.isGone("src/logs"), true);
});

Deno.test("a folder the walks could not list, left out, or excluded, or below one, is not gone", () => {
  const rule = coveredFolders(rules);
  for (const path of ["src/locked", "src/locked/in", "src/cache", "src/cache/x"]) {
    assert.equal(rule.isGone(path), false, path);
  }
  assert.equal(rule.isGone("src/node_modules"), false);
  assert.equal(rule.isGone("src/a/node_modules/pkg"), false);
  // Only the same name: `src/locked2` is not below `src/locked`.
  assert.equal(rule.isGone("src/locked2"), true);
});

Deno.test("an excluded or left-out folder gone from its source is gone; one still there is not", () => {
  const there = new Set(["src/node_modules", "src/cache/x"]);
  const rule = coveredFolders({ ...rules, folderThere: (path) => there.has(path) });
  assert.equal(rule.isGone("src/node_modules"), false);
  assert.equal(rule.isGone("src/a/node_modules"), true);
  assert.equal(rule.isGone("src/cache/x"), false);
  assert.equal(rule.isGone("src/cache/y"), true);
  assert.equal(rule.isGone("src/locked/in"), false); // unreadable: not looked at
});

Deno.test("outside the pass's scope, and a source's own folder, nothing is gone", () => {
  const scoped = coveredFolders({ ...rules, scope: ["src/a/b"] });
  assert.equal(scoped.isGone("src/a"), false); // its parent, not walked
  assert.equal(scoped.isGone("src/a/c"), false); // a sibling, not walked
  assert.equal(scoped.isGone("src/a/b"), true); // the scoped path itself, gone
  assert.equal(scoped.isGone("src/a/b/d"), true);
  assert.equal(scoped.isGone("other/a"), false); // another source
  assert.equal(coveredFolders(rules).isGone("src"), false);
});

Deno.test("a kept folder (a mount point with nothing mounted) and those below it are not gone", () => {
  const rule = keeping(coveredFolders(rules), new Set(["src/disk"]));
  assert.equal(rule.isGone("src/disk"), false);
  assert.equal(rule.isGone("src/disk/a"), false);
  assert.equal(rule.isGone("src/a"), true);
  assert.deepEqual(rule.scope, ["src"]);
});

import assert from "node:assert/strict";
import { changedFolders, pathsChanged } from "./changed_folders.ts";
import { backupAction, fileEntry } from "../state/test_util.ts";
import type { Action } from "./types.ts";

const modified: Action = {
  type: "modified",
  path: "docs/a.txt",
  seq: 2,
  target: "docs/a.txt",
  content: { hash: "h2", algo: "sha256", entry: fileEntry("docs/a.txt") },
  archive: { from: "docs/a.txt", to: "versions/docs/a.txt/v1.bak", seq: 1, copyId: 3 },
};
const deleted: Action = {
  type: "delete",
  path: "old/b.txt",
  copyId: 7,
  from: "old/b.txt",
  to: "_deleted/old/b.txt",
};

Deno.test("pathsChanged: every name a copy is linked at, moved from or removed at", () => {
  assert.deepEqual(pathsChanged(backupAction("x/y.txt", "h")), ["x/y.txt"]);
  assert.deepEqual(pathsChanged(modified), [
    "versions/docs/a.txt/v1.bak",
    "docs/a.txt",
    "docs/a.txt",
  ]);
  assert.deepEqual(pathsChanged(deleted), ["old/b.txt", "_deleted/old/b.txt"]);
  assert.deepEqual(
    pathsChanged({ type: "prune", path: "p", copyId: 1, seq: 1, storedAt: "versions/p/v1.bak" }),
    ["versions/p/v1.bak"],
  );
  const refresh = { entry: fileEntry("s.txt"), storedAt: "s.txt" };
  assert.deepEqual(pathsChanged({ type: "skip", path: "s.txt" }), []);
  // A copy's mode or time brought up to date changes no name; one made again does, and an
  // interrupted run's refresh may have made it.
  assert.deepEqual(pathsChanged({ type: "skip", path: "s.txt", refresh }), []);
  assert.deepEqual(pathsChanged({ type: "skip", path: "s.txt", refresh }, false), ["s.txt"]);
  assert.deepEqual(
    pathsChanged({ type: "skip", path: "s.txt", refresh: { ...refresh, recopied: true } }),
    ["s.txt"],
  );
  assert.deepEqual(
    pathsChanged({ type: "skip", path: "s.txt", refresh: { ...refresh, recordOnly: true } }),
    [],
  );
  assert.deepEqual(
    pathsChanged({ type: "skip", path: "s.txt", refresh: { ...refresh, relocatedTo: "s.txt.~2" } }),
    ["s.txt.~2"],
  );
  assert.deepEqual(pathsChanged({ type: "exclude", path: "e", storedAt: "e" }), []);
});

Deno.test("changedFolders: each changed name's folder and every folder above it, the root too", () => {
  assert.deepEqual(
    [...changedFolders([modified, deleted, backupAction("top.txt", "h")])].sort(),
    [
      "",
      "_deleted",
      "_deleted/old",
      "docs",
      "old",
      "versions",
      "versions/docs",
      "versions/docs/a.txt",
    ],
  );
  assert.deepEqual([...changedFolders([])], []);
});

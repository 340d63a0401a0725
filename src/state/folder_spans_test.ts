import assert from "node:assert/strict";
import { withStore } from "./test_util.ts";
import { coveredFolders } from "../core/folder_spans.ts";
import type { FolderMeta } from "../core/types.ts";

const META: FolderMeta = { mode: 0o40755, mtimeMs: 1 };
const seen = (...paths: string[]) => new Map(paths.map((p) => [p, META]));
const rule = (scope: string[], unreadable: string[] = []) =>
  coveredFolders({ scope, unreadable, leftOut: new Set(), exclude: [] });

Deno.test("folder spans: a folder not seen where the walk looked ends at its time, comes back with a new span, and each moment gives the folders then", () =>
  withStore((store) => {
    store.recordFolders(seen("s", "s/a", "s/a/b", "s/c"), 10, rule(["s"]));
    assert.deepEqual(store.foldersStanding(""), ["s", "s/a", "s/a/b", "s/c"]);
    // s/a (and s/a/b below it) gone at 20; s/c is below an unreadable folder: kept.
    store.recordFolders(seen("s"), 20, rule(["s"], ["s/c"]));
    assert.deepEqual(store.foldersStanding("s"), ["s/c"]);
    store.recordFolders(seen("s", "s/a", "s/c"), 30, rule(["s"]));
    assert.deepEqual(store.foldersStanding("s"), ["s/a", "s/c"]);
    assert.deepEqual(store.foldersStanding("s", 9), []);
    assert.deepEqual(store.foldersStanding("s", 10), ["s/a", "s/a/b", "s/c"]);
    assert.deepEqual(store.foldersStanding("s", 19), ["s/a", "s/a/b", "s/c"]);
    assert.deepEqual(store.foldersStanding("s", 20), ["s/c"]);
    assert.deepEqual(store.foldersStanding("s", 30), ["s/a", "s/c"]);
    assert.deepEqual(store.foldersStanding("s/a", 15), ["s/a/b"]);
    assert.equal(store.folderStood("s/a/b", 15), true);
    assert.equal(store.folderStood("s/a/b"), false);
    assert.equal(store.folderStood("s/a", 25), false);
    assert.equal(store.folderStood("s/a"), true);
  }));

Deno.test("folder spans: a scoped pass ends only what lies in its scope; none without a rule", () =>
  withStore((store) => {
    store.recordFolders(seen("s", "s/a", "s/a/x", "s/b"), 10, rule(["s"]));
    store.recordFolders(seen(), 20, rule(["s/a/x"]));
    assert.deepEqual(store.foldersStanding("s"), ["s/a", "s/b"]);
    store.recordFolders(seen("s"), 30); // no rule: a pass cut short, or a partial view
    assert.deepEqual(store.foldersStanding("s"), ["s/a", "s/b"]);
  }));

Deno.test("folder spans: read a page at a time, everything too, a source's name sorting before '/' included", () =>
  withStore((store) => {
    store.recordFolders(seen("-s", "-s/a", "s", "s/a", "s/b", "s/c"), 10, rule(["s", "-s"]));
    assert.deepEqual(store.foldersStanding("", undefined, "", 2), ["-s", "-s/a"]);
    assert.deepEqual(store.foldersStanding("", undefined, "-s/a", 2), ["s", "s/a"]);
    assert.deepEqual(store.foldersStanding("s", 10, "s/a", 1), ["s/b"]);
    assert.deepEqual(store.foldersStanding("s", 10, "s/c", 1), []);
  }));

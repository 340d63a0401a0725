/**
 * Unit tests of watch_count.ts: the folders to follow, counted as the watchers' plan walks
 * them, and the kernel's watches of a real recursive watch (Linux).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Listing } from "./coverage.ts";
import { foldersToFollow, inotifyWatches, unwatchedFolders } from "./watch_count.ts";

Deno.test("watch count: every folder that can be listed is one to follow, an unreadable one not", () => {
  const tree: Record<string, string[] | "denied"> = {
    "/s": ["/s/a", "/s/b"],
    "/s/a": ["/s/a/x"],
    "/s/a/x": [],
    "/s/b": "denied",
  };
  const list = (dir: string): Listing | Error => {
    const entry = tree[dir];
    if (entry === "denied") return new Deno.errors.PermissionDenied("Permission denied");
    return { folders: entry ?? [], linked: [] };
  };
  assert.equal(foldersToFollow(["/s"], list), 3);
});

Deno.test({
  name: "watch count: a recursive watch holds one kernel watch per folder, and none is missing",
  ignore: Deno.build.os !== "linux",
  fn() {
    const dir = Deno.makeTempDirSync();
    for (const sub of ["a/x", "a/y", "b"]) Deno.mkdirSync(join(dir, sub), { recursive: true });
    const before = inotifyWatches() ?? 0;
    const watcher = Deno.watchFs(dir, { recursive: true });
    try {
      assert.equal(foldersToFollow([dir]), 5);
      assert.equal(inotifyWatches(), before + 5);
      assert.equal(unwatchedFolders([dir]), 0);
    } finally {
      watcher.close();
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test("watch count: a folder the plan leaves out (the backup root in a source) is not one to follow, nor anything below it", () => {
  const tree: Record<string, string[]> = {
    "/s": ["/s/a", "/s/backup"],
    "/s/a": [],
    "/s/backup": ["/s/backup/versions"],
    "/s/backup/versions": [],
  };
  const list = (dir: string): Listing => ({ folders: tree[dir] ?? [], linked: [] });
  assert.equal(foldersToFollow(["/s"], list), 4);
  assert.equal(foldersToFollow(["/s"], list, new Set(["/s/backup"])), 2);
});

/**
 * Unit tests of watch_count.ts: the folders to follow, counted as the watchers' plan walks
 * them, and the kernel's watches of a real recursive watch (Linux).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Listing } from "./coverage.ts";
import { poll } from "../../tests/helpers.ts";
import { foldersToFollow, inotifyWatches, unwatchedFolders, watchedInodes } from "./watch_count.ts";

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
  assert.deepEqual(foldersToFollow(["/s"], list), ["/s", "/s/a", "/s/a/x"]);
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
      assert.equal(foldersToFollow([dir]).length, 5);
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
  assert.equal(foldersToFollow(["/s"], list).length, 4);
  assert.deepEqual(foldersToFollow(["/s"], list, new Set(["/s/backup"])), ["/s", "/s/a"]);
});

Deno.test({
  name:
    "watch count: watches of folders outside the sources (one moved out stays followed) hide none missing in them",
  ignore: Deno.build.os !== "linux",
  fn() {
    const dir = Deno.makeTempDirSync();
    const [source, out] = [join(dir, "source"), join(dir, "moved-out")];
    for (const sub of ["a", "b", "c"]) Deno.mkdirSync(join(source, sub), { recursive: true });
    for (const sub of ["p/q", "r/s"]) Deno.mkdirSync(join(out, sub), { recursive: true });
    const elsewhere = Deno.watchFs(out, { recursive: true }); // 5 watches
    const flat = Deno.watchFs(source, { recursive: false }); // a, b and c followed by none
    try {
      assert.equal(unwatchedFolders([source]), 3);
    } finally {
      flat.close();
      elsewhere.close();
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

/** Runs `command` with `args`; false where it failed (a mount where this user may not). */
function run(command: string, ...args: string[]): boolean {
  const { success } = new Deno.Command(command, { args, stdout: "null", stderr: "null" })
    .outputSync();
  return success;
}

Deno.test({
  name: "watch count: a folder bind-mounted twice in a source is one kernel watch, none missing",
  ignore: Deno.build.os !== "linux",
  fn() {
    const dir = Deno.makeTempDirSync();
    for (const sub of ["a/x", "b"]) Deno.mkdirSync(join(dir, sub), { recursive: true });
    if (!run("mount", "--bind", join(dir, "a"), join(dir, "b"))) {
      Deno.removeSync(dir, { recursive: true });
      return console.log("(skipped: no bind mount without root)");
    }
    const watcher = Deno.watchFs(dir, { recursive: true });
    try {
      assert.equal(unwatchedFolders([dir]), 0);
    } finally {
      watcher.close();
      run("umount", join(dir, "b"));
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "watch count: a source whose own folder matches no watch (inodes numbered otherwise) counts none",
  ignore: Deno.build.os !== "linux",
  fn() {
    const dir = Deno.makeTempDirSync();
    Deno.mkdirSync(join(dir, "a"));
    try {
      assert.equal(unwatchedFolders([dir]), 0); // no watch of it at all
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "watch count: only the folders given (and those below them) are counted, none in or below a folder left out",
  ignore: Deno.build.os !== "linux",
  fn() {
    const dir = Deno.makeTempDirSync();
    for (const sub of ["a/x", "b", "backup/versions"]) {
      Deno.mkdirSync(join(dir, sub), { recursive: true });
    }
    const flat = Deno.watchFs(dir, { recursive: false }); // nothing below it followed
    try {
      assert.equal(unwatchedFolders([dir]), 5);
      const given = ["a", "a/x", "backup/versions"].map((p) => join(dir, p));
      assert.equal(unwatchedFolders([dir], new Set(), given), 3); // a, a/x, backup/versions
      assert.equal(unwatchedFolders([dir], new Set([join(dir, "backup")]), given), 2);
      // The source's own folder followed by no watch: inodes not matched, none counted.
      assert.equal(unwatchedFolders([join(dir, "b")], new Set(), [join(dir, "b")]), 0);
    } finally {
      flat.close();
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "watch count: a folder whose watch was added after the watches were read (made as they were) is not counted",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const dir = Deno.makeTempDirSync();
    const watcher = Deno.watchFs(dir, { recursive: true });
    try {
      const before = watchedInodes();
      const made = join(dir, "new");
      Deno.mkdirSync(made);
      const { ino } = Deno.statSync(made);
      await poll("the folder made watched", () => watchedInodes()?.has(ino!), 30_000);
      // The first read is the snapshot taken before its watch was added; later ones are live.
      const reads = [before];
      const readWatched = () => reads.shift() ?? watchedInodes();
      assert.equal(unwatchedFolders([dir], new Set(), [made], readWatched), 0);
    } finally {
      watcher.close();
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "watch count: a source followed by no watch (unreadable: planned around) leaves the folders made in another counted",
  ignore: Deno.build.os !== "linux",
  fn() {
    const dir = Deno.makeTempDirSync();
    const [followed, unfollowed] = [join(dir, "followed"), join(dir, "unreadable")];
    Deno.mkdirSync(join(followed, "new"), { recursive: true });
    Deno.mkdirSync(unfollowed);
    // The first source followed for its own entries only: the folder made in it has no watch;
    // the second has none at all, as a source that cannot be read is gone around.
    const flat = Deno.watchFs(followed, { recursive: false });
    try {
      const roots = [unfollowed, followed];
      assert.equal(unwatchedFolders(roots, new Set(), [join(followed, "new")]), 1);
    } finally {
      flat.close();
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

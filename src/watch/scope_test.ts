/** Unit tests of event filtering (backup root, run logs, excludes) and scope grouping. */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  eventFilter,
  isWithin,
  sourceOf,
  toScope,
  withoutExcluded,
  withTagFolders,
} from "./scope.ts";

const SOURCES = [{ name: "docs", path: "/h/docs" }, { name: "pics", path: "/h/pics" }];

Deno.test("scope: isWithin compares whole path components", () => {
  assert.ok(isWithin("/h/docs", "/h/docs"));
  assert.ok(isWithin("/h/docs/a", "/h/docs"));
  assert.ok(!isWithin("/h/docs-old/a", "/h/docs"));
  assert.ok(isWithin("/a", "/"));
  assert.ok(isWithin("C:\\h\\docs\\a", "C:\\h\\docs", "\\"));
});

const SOURCES_CONFIG = { sources: SOURCES, backupRoot: "/h/backup", logDir: "/h/logs" };

Deno.test("scope: sourceOf finds the source holding a path", () => {
  assert.equal(sourceOf("/h/pics/x.jpg", SOURCES)?.name, "pics");
  assert.equal(sourceOf("/h/docs", SOURCES)?.name, "docs");
  assert.equal(sourceOf("/h/other/x", SOURCES), undefined);
});

Deno.test("scope: the filter drops the backup root, the run logs and excluded paths", () => {
  // Run logs as their first lines would say: another's file of such a name is not one.
  const notRunLogs = new Set(["/h/docs/logs/2021-01-01T00-00-00.000Z-notes.log"]);
  const keep = eventFilter({
    sources: SOURCES,
    backupRoot: "/h/docs/backup",
    logDir: "/h/docs/logs",
    exclude: ["*.tmp", "node_modules/", "/build"],
  }, (path) => !notRunLogs.has(path));
  const cases: [string, boolean][] = [
    ["/h/docs/a.txt", true],
    ["/h/docs", true],
    ["/h/docs/backup", false],
    ["/h/docs/backup/.backup-tool/state.db-wal", false],
    ["/h/docs/backup-notes.txt", true],
    ["/h/docs/logs/2026-12-01T19-45-47.431Z-run.log", false],
    ["/h/docs/logs/2026-12-01T19-45-47.431Z-watch-2.log", false],
    ["/h/docs/logs/2024.log", true], // not a run log: someone else's file
    ["/h/docs/logs/2021-01-01T00-00-00.000Z-notes.log", true], // named as one, but is not
    ["/h/docs/logs/sub/2026-12-01T19-45-47.431Z-run.log", true],
    ["/h/docs/draft.tmp", false],
    ["/h/docs/app/node_modules/x/index.js", false],
    ["/h/docs/build/out.o", false],
    ["/h/docs/src/build/out.o", true],
    ["/h/pics/x.jpg", true],
    ["/h/elsewhere/x", false],
  ];
  for (const [path, expected] of cases) assert.equal(keep(path), expected, path);
});

Deno.test("scope: a path a folder-only pattern re-includes is kept, not knowing it is a folder", () => {
  // "Only .txt files": every name is excluded, then folders and .txt files taken back.
  const keep = eventFilter({
    sources: SOURCES,
    backupRoot: "/h/backup",
    logDir: "/h/logs",
    exclude: ["*", "!*/", "!*.txt"],
  }, () => true);
  assert.equal(keep("/h/docs/moved-in"), true, "a folder moved in (or a file: the pass decides)");
  assert.equal(keep("/h/docs/moved-in/a.txt"), true);
  assert.equal(keep("/h/docs/moved-in/renamed"), true);
  const plain = eventFilter({ ...SOURCES_CONFIG, exclude: ["*.tmp"] }, () => true);
  assert.equal(plain("/h/docs/x.tmp"), false, "excluded as a file and as a folder");
});

Deno.test("scope: an excluded path the state tracks, gone, is kept: run archives it too", () => {
  const asked: string[] = [];
  const keep = eventFilter(
    { ...SOURCES_CONFIG, exclude: ["*.key", "cache/"] },
    () => true,
    (path, logical) => {
      asked.push(logical);
      return path === "/h/docs/z.key";
    },
  );
  assert.equal(keep("/h/docs/z.key"), true, "a tracked excluded file removed");
  assert.equal(keep("/h/pics/cache"), true, "kept as it may be a file (the pass decides)");
  assert.equal(keep("/h/docs/new.key"), false, "an excluded file made, or never tracked");
  assert.equal(keep("/h/docs/a.txt"), true);
  assert.deepEqual(asked, ["docs/z.key", "docs/new.key"]); // excluded ones only
});

Deno.test("scope: paths are grouped per source, nested ones dropped", () => {
  const scope = toScope(
    [
      "/h/docs/dir/f",
      "/h/docs/dir",
      "/h/docs/dir-x",
      "/h/docs/dir/sub/g",
      "/h/pics/a.jpg",
      "/h/docs/dir",
      "/h/other/x",
    ],
    SOURCES,
  );
  assert.deepEqual([...scope], [
    ["docs", ["/h/docs/dir", "/h/docs/dir-x"]],
    ["pics", ["/h/pics/a.jpg"]],
  ]);
});

Deno.test("scope: a source root event scopes the whole source", () => {
  const scope = toScope(["/h/docs/a", "/h/docs"], SOURCES);
  assert.deepEqual([...scope], [["docs", ["/h/docs"]]]);
});

Deno.test("scope: a path below a tracked file stands for that file (a file replaced by a folder)", () => {
  const asked: string[] = [];
  const tracked = (logical: string) => {
    asked.push(logical);
    return logical === "docs/x" || logical === "docs/x/y";
  };
  const scope = toScope(
    ["/h/docs/x/y/z", "/h/docs/x/w", "/h/docs/a/b", "/h/pics/p"],
    SOURCES,
    tracked,
  );
  assert.deepEqual([...scope], [
    ["docs", ["/h/docs/a/b", "/h/docs/x"]],
    ["pics", ["/h/pics/p"]],
  ]);
  // The folders above each path, outermost first, up to the first tracked file.
  assert.deepEqual(asked, ["docs/x", "docs/x", "docs/a"]);
});

Deno.test("scope: an excluded path is left out where a pass has nothing to do", () => {
  const config = { sources: SOURCES, exclude: ["node_modules/", "*.tmp", "/only/*", "!/only/*/"] };
  const files = new Set([
    "/h/docs/file/node_modules",
    "/h/docs/x.tmp",
    "/h/docs/only/f",
    "/h/docs/only/e",
    "/h/docs/only/c",
  ]);
  const gone = new Set([
    "/h/docs/gone/node_modules",
    "/h/docs/only/g",
    "/h/docs/gone.txt",
    "/h/docs/only/h",
  ]);
  const kind = (path: string) =>
    path === "/h/docs/locked/node_modules"
      ? undefined
      : files.has(path)
      ? "file"
      : gone.has(path)
      ? "none"
      : "folder";
  const trackedFiles = new Map<string, "current" | "excluded">([
    ["docs/was-file/node_modules", "current"],
    ["docs/t", "current"],
    ["docs/only/e", "excluded"], // recorded as excluded, still a file: kept as it is
    ["docs/only/c", "current"], // backed up before the pattern: to mark excluded
    ["docs/only/h", "excluded"], // recorded as excluded, gone: to archive
    ["docs/ex/node_modules", "excluded"], // recorded as excluded, a folder now: to archive
  ]);
  const trackedBelow = new Set(["docs/kept/node_modules"]);
  const kept = withoutExcluded(
    [
      "/h/docs/node_modules", // a folder made: left out
      "/h/docs/app/node_modules",
      "/h/docs/node_modules/pkg",
      "/h/docs/gone/node_modules", // removed, nothing of it tracked
      "/h/docs/x.tmp", // a file excluded
      "/h/docs/only/f", // a file excluded, where folders are taken back
      "/h/docs/only/g", // gone: either kind could be excluded
      "/h/docs/only/d", // a folder taken back
      "/h/docs/only/e",
      "/h/docs/only/c",
      "/h/docs/only/h",
      "/h/docs/ex/node_modules",
      "/h/docs/file/node_modules", // a file of that name: followed
      "/h/docs/was-file/node_modules", // a tracked file replaced by the folder
      "/h/docs/t/node_modules", // below a tracked file (replaced by a folder)
      "/h/docs/kept/node_modules", // files backed up before the pattern, to archive if gone
      "/h/docs/locked/node_modules", // cannot be looked at: the pass looks
      "/h/docs/gone.txt", // not excluded: the pass looks
      "/h/docs/src",
      "/h/docs",
      "/h/other/node_modules",
    ],
    config,
    kind,
    (logical) => trackedFiles.get(logical),
    (logical) => trackedBelow.has(logical),
  );
  assert.deepEqual(kept, [
    "/h/docs/only/d",
    "/h/docs/only/c",
    "/h/docs/only/h",
    "/h/docs/ex/node_modules",
    "/h/docs/file/node_modules",
    "/h/docs/was-file/node_modules",
    "/h/docs/t/node_modules",
    "/h/docs/kept/node_modules",
    "/h/docs/locked/node_modules",
    "/h/docs/gone.txt",
    "/h/docs/src",
    "/h/docs",
    "/h/other/node_modules",
  ]);
});

Deno.test("scope: a tag made or removed scopes the pass to the folder holding it", () => {
  const config = { sources: SOURCES, excludeCaches: true, excludeIfPresent: [".nobackup"] };
  const paths = [
    "/h/docs/target/CACHEDIR.TAG",
    "/h/docs/vm/.nobackup",
    "/h/docs/a/CACHEDIR.TAG.bak",
    "/h/pics/x.jpg",
    "/h/docs/CACHEDIR.TAG", // the source's root is tagged: the whole source
    "/h/other/CACHEDIR.TAG", // in no source: left to the filter
  ];
  assert.deepEqual(withTagFolders(paths, config), [
    "/h/docs/target",
    "/h/docs/vm",
    "/h/docs/a/CACHEDIR.TAG.bak",
    "/h/pics/x.jpg",
    "/h/docs",
    "/h/other/CACHEDIR.TAG",
  ]);
  // Without the keys, nothing is a tag.
  assert.deepEqual(withTagFolders(paths, { sources: SOURCES }), paths);
  assert.deepEqual(
    withTagFolders(["C:\\h\\docs\\t\\.nobackup"], {
      sources: [{ name: "docs", path: "C:\\h\\docs" }],
      excludeIfPresent: [".nobackup"],
    }, "\\"),
    ["C:\\h\\docs\\t"],
  );
});

Deno.test("scope: a file over exclude_larger_than runs no pass once recorded as excluded; grown, new, or small, it does", () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-scope-large-" });
  try {
    const sizes: [string, number][] = [["big", 2048], ["grown", 2048], ["new", 2048], [
      "small",
      10,
    ]];
    for (const [name, size] of sizes) Deno.writeFileSync(join(dir, name), new Uint8Array(size));
    Deno.symlinkSync("big", join(dir, "link"));
    const config = {
      sources: [{ name: "s", path: dir }],
      exclude: [],
      excludeLargerThan: 1024,
    };
    const status = new Map<string, "current" | "excluded">([
      ["s/big", "excluded"], // said when a pass marked it: nothing to do
      ["s/grown", "current"], // to mark excluded
      ["s/small", "excluded"], // shrunk back: to follow again
      ["s/link", "excluded"], // a symlink is no file: the pass looks
    ]);
    const paths = ["big", "grown", "new", "small", "link"].map((n) => join(dir, n));
    const kept = withoutExcluded(
      paths,
      config,
      (path) => Deno.lstatSync(path).isDirectory ? "folder" : "file",
      (logical) => status.get(logical),
      () => false,
    );
    assert.deepEqual(kept, paths.slice(1));
    // Not tracked, and said by a pass of this session already: its saves run no pass.
    const said = withoutExcluded(
      paths,
      config,
      (path) => Deno.lstatSync(path).isDirectory ? "folder" : "file",
      (logical) => status.get(logical),
      () => false,
      new Set(["s/new", "s/grown"]),
    );
    assert.deepEqual(said, [paths[1], paths[3], paths[4]], "s/grown is tracked: marked");
    // Given the lstat itself (as the watch gives it), the same, and no lstat of its own.
    const lstat = Deno.lstatSync;
    let lstats = 0;
    const given = paths.map((path) => [path, lstat(path)] as const);
    try {
      Deno.lstatSync = (path) => (lstats++, lstat(path));
      const once = withoutExcluded(
        paths,
        config,
        (path) => new Map(given).get(path),
        (logical) => status.get(logical),
        () => false,
      );
      assert.deepEqual(once, paths.slice(1));
    } finally {
      Deno.lstatSync = lstat;
    }
    assert.equal(lstats, 0, "the size taken from the lstat given");
    // No limit: every path kept.
    const none = withoutExcluded(paths, { ...config, excludeLargerThan: null }, () => "file", (
      logical,
    ) => status.get(logical), () => false);
    assert.deepEqual(none, paths);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

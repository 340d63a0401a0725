/** Unit tests of PATH resolution (restore destinations: destination_test.ts). */
import assert from "node:assert/strict";
import { join } from "node:path";
import { UsageError } from "../engine/errors.ts";
import { PathResolver, recordedSet } from "./paths.ts";
import type { Source } from "../config/sources.ts";

/** A resolver over a list of recorded paths. */
const resolver = (
  names: string[],
  sources: Source[],
  paths: string[],
  os?: typeof Deno.build.os,
) => new PathResolver(names, sources, recordedSet(paths), os);

const ONE = resolver(["src"], [{ name: "src", path: "/data/src" }], [
  "src/one.txt",
  "src/docs/a.txt",
  "src/src/inner.txt",
]);
const TWO = resolver(
  ["a", "b"],
  [{ name: "a", path: "/data/a" }, { name: "b", path: "/data/b" }],
  ["a/x.txt", "b/y/z.txt"],
);

Deno.test("toLogical: ./ and ../ from a folder inside a source start from that folder", () => {
  assert.equal(ONE.toLogical("./a.txt", "/data/src/docs"), "src/docs/a.txt");
  assert.equal(ONE.toLogical("../one.txt", "/data/src/docs"), "src/one.txt");
  assert.equal(ONE.toLogical(".", "/data/src/docs"), "src/docs");
  assert.equal(TWO.toLogical("./z.txt", "/data/b/y"), "b/y/z.txt");
  // From outside every source, the source root as before.
  assert.equal(ONE.toLogical("./docs/", "/home/me"), "src/docs");
  // A folder whose name starts with two dots is inside the source all the same.
  assert.equal(ONE.toLogical("./b.txt", "/data/src/..cfg"), "src/..cfg/b.txt");
  assert.equal(ONE.toLogical("/data/src/...", "/"), "src/...");
  // Leaving the sources from inside one is refused, like such an absolute path.
  assert.throws(() => ONE.toLogical("../../etc", "/data/src/docs"), UsageError);
});

Deno.test("toLogical: one source accepts paths with and without its name", () => {
  assert.equal(ONE.toLogical("one.txt"), "src/one.txt");
  assert.equal(ONE.toLogical("src/one.txt"), "src/one.txt");
  assert.equal(ONE.toLogical("./docs/"), "src/docs");
  assert.equal(ONE.toLogical("docs"), "src/docs");
  assert.equal(ONE.toLogical("."), "src");
  assert.throws(() => ONE.toLogical("src"), UsageError); // the source, or its folder `src`?
  assert.equal(ONE.toLogical("src/inner.txt"), "src/src/inner.txt");
  assert.equal(ONE.toLogical("/data/src/docs/a.txt"), "src/docs/a.txt");
  assert.equal(ONE.toLogical("new.txt"), "src/new.txt");
});

Deno.test("toLogical: a source's own folder given with a trailing separator is that source", () => {
  // Was "not inside a configured source": the root itself was told by an exact string
  // match, which `C:\data\src\` (and, on Windows, `c:\Data\src`) never made.
  assert.equal(ONE.toLogical("/data/src/", "/"), "src");
  assert.equal(TWO.toLogical("/data/b/", "/"), "b");
  assert.equal(ONE.toLogical("/data/src/docs/", "/"), "src/docs");
});

Deno.test("toLogical: an absolute path below a source written through a symlink, either way", () => {
  // The config names `/home/u/docs`, a symlink to `/mnt/disk/docs` (macOS: `/tmp`).
  const linked = resolver(
    ["docs"],
    [{ name: "docs", path: "/mnt/disk/docs", written: "/home/u/docs" }],
    ["docs/report.txt"],
  );
  assert.equal(linked.toLogical("/home/u/docs/report.txt"), "docs/report.txt");
  assert.equal(linked.toLogical("/mnt/disk/docs/report.txt"), "docs/report.txt");
  assert.equal(linked.toLogical("/home/u/docs"), "docs");
  assert.throws(() => linked.toLogical("/home/u/other.txt"), /not inside a configured source/);
});

Deno.test("toLogical: a path that names two recorded things in one source is refused, naming both ways", () => {
  // The source `src` holds `a.txt` and a folder `src` holding another `a.txt`.
  const both = resolver(["src"], [{ name: "src", path: "/data/src" }], [
    "src/a.txt",
    "src/src/a.txt",
    "src/b.txt",
  ]);
  assert.throws(
    () => both.toLogical("src/a.txt"),
    (e: Error) =>
      e instanceof UsageError &&
      e.message === "Cannot tell which 'src/a.txt' is meant: the source 'src' holds both " +
          "'a.txt' and 'src/a.txt': give 'a.txt' for the first or 'src/src/a.txt' for the second",
  );
  assert.equal(both.toLogical("a.txt"), "src/a.txt");
  assert.equal(both.toLogical("src/src/a.txt"), "src/src/a.txt");
  assert.equal(both.toLogical("src/b.txt"), "src/b.txt"); // no `src/src/b.txt`: one meaning
  assert.throws(() => both.toLogical("src"), /give no PATH for the first or 'src\/src'/);
  assert.equal(both.toLogical("/data/src/src/a.txt"), "src/src/a.txt");
  assert.equal(both.toLogical("/data/src/a.txt"), "src/a.txt");
  assert.equal(both.toLogical("/data/src"), "src");
});

Deno.test("toLogical: several sources need the source name", () => {
  assert.equal(TWO.toLogical("a/x.txt"), "a/x.txt");
  assert.equal(TWO.toLogical("b"), "b");
  assert.equal(TWO.toLogical("."), "");
  assert.throws(() => TWO.toLogical("x.txt"), UsageError);
  assert.throws(() => TWO.toLogical("/elsewhere/x.txt"), UsageError);
  assert.throws(() => ONE.toLogical("docs/../../etc"), UsageError);
});

Deno.test("toLogical: one source configured, another known only to the state: plain paths are the configured one's", () => {
  const left = resolver(["old", "src"], [{ name: "src", path: "/data/src" }], [
    "old/x.txt",
    "src/one.txt",
  ]);
  assert.equal(left.toLogical("one.txt"), "src/one.txt");
  assert.equal(left.toLogical("old/x.txt"), "old/x.txt"); // the other by its name
  assert.equal(left.toLogical("src/one.txt"), "src/one.txt");
});

Deno.test("leftReading: the same path under a source the config no longer names, where one recorded it", () => {
  const left = resolver(["new", "old", "src"], [
    { name: "new", path: "/data/new" },
    { name: "src", path: "/data/src" },
  ], ["old/a.txt", "old/d/b.txt", "new/c.txt", "src/a.txt"]);
  assert.equal(left.leftReading("new/a.txt"), "old/a.txt");
  assert.equal(left.leftReading("new/d"), "old/d"); // a folder
  assert.equal(left.leftReading("new/c.txt"), undefined); // the old source has none
  assert.equal(left.leftReading("src/a.txt"), "old/a.txt"); // asked only where none is
  assert.equal(left.leftReading("old/a.txt"), undefined); // not under a configured source
  assert.equal(left.leftReading("new"), undefined);
  assert.equal(ONE.leftReading("src/x.txt"), undefined);
});

Deno.test("toLogical: a path under the configured source that starts with a dropped source's name", () => {
  const left = resolver(["beta", "one"], [{ name: "one", path: "/data/one" }], [
    "beta/x.txt",
    "beta/only-beta.txt",
    "one/beta/x.txt",
    "one/beta/z.txt",
  ]);
  // Only the configured source holds it: its path, not "not in the backup".
  assert.equal(left.toLogical("beta/z.txt"), "one/beta/z.txt");
  // Only the dropped source holds it: the dropped source's, by its name.
  assert.equal(left.toLogical("beta/only-beta.txt"), "beta/only-beta.txt");
  // Both: neither is taken without a word; the message gives the way to each.
  for (const [given, rest] of [["beta/x.txt", "x.txt"], ["beta", "."]]) {
    assert.throws(
      () => left.toLogical(given),
      (e) =>
        e instanceof UsageError &&
        e.message ===
          `Cannot tell which '${given}' is meant: the source 'one' holds '${given}', and ` +
            `'beta', a source the config no longer names, holds '${rest}': give ` +
            `'one/${given}' for the first; for the second, restore with a config that names ` +
            "'beta' too",
    );
  }
  assert.equal(left.toLogical("one/beta/x.txt"), "one/beta/x.txt");
});

Deno.test("isFile / isFolder", () => {
  assert.ok(ONE.isFile("src/docs/a.txt"));
  assert.ok(!ONE.isFile("src/docs"));
  assert.ok(ONE.isFolder("src/docs"));
  assert.ok(ONE.isFolder("src"));
  assert.ok(!ONE.isFolder("src/one.txt"));
});

Deno.test("destination: told from the resolver's sources and system (destination.ts)", () => {
  assert.deepEqual(ONE.destination("src/docs/a.txt", "/out"), {
    dest: join("/out", "docs", "a.txt"),
    base: "/out",
    toDir: true,
  });
  assert.equal(TWO.destination("b/y/z.txt", "/out").dest, join("/out", "b", "y", "z.txt"));
  const win = resolver(["a"], [{ name: "a", path: "/data/a" }], [], "windows");
  assert.throws(() => win.destination("a/aux.txt", undefined), /on Windows/);
});

Deno.test("paths: a PATH from outside the backup root names its place there only in the backup's own folders", () => {
  const stored = new Map([
    ["pics/x.jpg", { path: "docs/pics/x.jpg", seq: 1, location: "latest" }],
    ["a.txt", { path: "docs/a.txt", seq: 3, location: "latest" }],
    ["versions/a.txt/v2.bak", { path: "docs/a.txt", seq: 2, location: "version" }],
  ]);
  const r = new PathResolver(
    ["docs", "pics"],
    [{ name: "docs", path: "/data/docs" }, { name: "pics", path: "/data/pics" }],
    recordedSet([]),
    "linux",
    new Map(),
    { root: "/backup", copyAt: (storage) => stored.get(storage) },
  );
  const at = (input: string, cwd: string) => r.storedCopyAt(input, cwd)?.storage;
  // A source's path, as given from outside the backup root: the first source's root layout
  // keeps another file's copy at that place, which it does not name.
  assert.equal(at("pics/x.jpg", "/home"), undefined);
  assert.equal(at("./a.txt", "/data/docs/sub"), undefined);
  assert.equal(at("./versions/a.txt/v2.bak", "/home"), undefined);
  // Into the backup's own folders from anywhere; anything from inside the backup root.
  assert.equal(at("versions/a.txt/v2.bak", "/home"), "versions/a.txt/v2.bak");
  assert.equal(at("/backup/pics/x.jpg", "/home"), "pics/x.jpg");
  assert.equal(at("x.jpg", "/backup/pics"), "pics/x.jpg");
  assert.equal(at("./v2.bak", "/backup/versions/a.txt"), "versions/a.txt/v2.bak");
});

/** A Windows user's one source, read by Windows' path rules (node:path's win32) anywhere. */
const WIN = new PathResolver(
  ["docs"],
  [{ name: "docs", path: "C:\\Users\\robert\\Documents" }],
  recordedSet(["docs/Notes/a.txt", "docs/report.txt"]),
  "windows",
  new Map(),
  {
    root: "E:\\backup",
    copyAt: (s) =>
      s === "versions/report.txt/v2.bak"
        ? WIN_COPY
        : s === "report.txt"
        ? { ...WIN_COPY, seq: 3, location: "latest" }
        : undefined,
  },
);
const WIN_COPY = { path: "docs/report.txt", seq: 2, location: "version" };

Deno.test("toLogical: a Windows PATH is read as Windows reads it: backslashes, a drive, another letter case in the source's folder", () => {
  const at = (input: string, cwd = "C:\\") => WIN.toLogical(input, cwd);
  for (
    const input of [
      "C:\\Users\\robert\\Documents\\Notes\\a.txt",
      "c:\\users\\ROBERT\\documents\\Notes\\a.txt",
      "C:/Users/robert/Documents/Notes/a.txt",
      "Notes\\a.txt",
      "docs\\Notes\\a.txt",
      ".\\Notes\\a.txt",
    ]
  ) assert.equal(at(input), "docs/Notes/a.txt", input);
  // From a folder inside the source, in any letter case.
  assert.equal(at(".\\a.txt", "C:\\Users\\robert\\Documents\\Notes"), "docs/Notes/a.txt");
  assert.equal(at("..\\report.txt", "c:\\users\\robert\\documents\\notes"), "docs/report.txt");
  // The source's folder itself, with a trailing backslash too.
  assert.equal(at("C:\\Users\\robert\\Documents\\"), "docs");
  // Below the source's folder, a name's letter case is the PATH's own: the state's names
  // tell case apart, and a PATH in another case is said not found, with the recorded one.
  assert.equal(at("C:\\Users\\robert\\Documents\\notes\\a.txt"), "docs/notes/a.txt");
  for (const outside of ["D:\\Documents\\a.txt", "C:\\Users\\robert\\Documents2\\a.txt"]) {
    assert.throws(() => at(outside), /not inside a configured source/, outside);
  }
  assert.throws(() => at("Notes\\..\\..\\x"), /'\.\.' is not allowed/);
});

Deno.test("toLogical: on macOS the source's folder is found in another letter case or Unicode form, and only there", () => {
  // "Müsik" written with a combining diaeresis (NFD, as Finder may give it) in the config.
  const mac = resolver(
    ["notes"],
    [{ name: "notes", path: "/Users/me/Mu\u0308sik/Notes" }],
    ["notes/Plan/a.txt"],
    "darwin",
  );
  const at = (input: string, cwd = "/") => mac.toLogical(input, cwd);
  for (
    const input of [
      "/Users/me/Mu\u0308sik/Notes/Plan/a.txt",
      "/users/ME/m\u00fcsik/notes/Plan/a.txt",
      "/USERS//me/M\u00dcSIK/Notes/./Plan/a.txt",
    ]
  ) assert.equal(at(input), "notes/Plan/a.txt", input);
  assert.equal(at("/users/me/m\u00fcsik/notes/"), "notes");
  // From a folder inside the source entered in another case.
  assert.equal(at("./a.txt", "/users/me/m\u00fcsik/notes/Plan"), "notes/Plan/a.txt");
  // Below the source's folder a name keeps the PATH's case, as on Windows.
  assert.equal(at("/Users/me/Mu\u0308sik/Notes/plan/a.txt"), "notes/plan/a.txt");
  for (const outside of ["/Users/me/Musik/Notes/a.txt", "/Users/me/Mu\u0308sik/Notes2/a.txt"]) {
    assert.throws(() => at(outside), /not inside a configured source/, outside);
  }
  // Linux's file systems tell case apart: there the same PATH is outside.
  const linux = resolver(["notes"], mac.sources as Source[], ["notes/Plan/a.txt"], "linux");
  assert.throws(
    () => linux.toLogical("/users/me/m\u00fcsik/notes/Plan/a.txt", "/"),
    /not inside a configured source/,
  );
});

Deno.test("storedCopyAt: a Windows PATH into the backup root names whose copy it holds", () => {
  const at = (input: string, cwd: string) => WIN.storedCopyAt(input, cwd)?.storage;
  assert.equal(
    at("E:\\Backup\\versions\\report.txt\\v2.bak", "C:\\"),
    "versions/report.txt/v2.bak",
  );
  assert.equal(at("v2.bak", "e:\\backup\\versions\\report.txt"), "versions/report.txt/v2.bak");
  assert.equal(at("versions\\report.txt\\v2.bak", "C:\\"), "versions/report.txt/v2.bak");
  assert.throws(
    () => WIN.toLogical("E:\\backup\\versions\\report.txt\\v2.bak"),
    /content number 2 of 'docs\/report.txt'/,
  );
  // Given from the backup root itself, entered in another letter case: a copy there.
  assert.equal(at("report.txt", "e:\\BACKUP"), "report.txt");
  assert.equal(at("report.txt", "C:\\"), undefined);
});

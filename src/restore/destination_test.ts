/** Unit tests of restore destinations: in place or under --to, and names Windows refuses. */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Source } from "../config/sources.ts";
import { restoreDestination, type RestorePlaces, windowsNameProblem } from "./destination.ts";

/** Where paths are restored to, on Linux: `several` where more than one source is known. */
const places = (several: boolean, sources: Source[]): RestorePlaces => ({
  several,
  sources,
  os: "linux",
  lastPaths: new Map(),
});

const ONE = places(false, [{ name: "src", path: "/data/src" }]);
const TWO = places(true, [{ name: "a", path: "/data/a" }, { name: "b", path: "/data/b" }]);

Deno.test("destination: in place, or under --to keeping the relative path", () => {
  const cases: [RestorePlaces, string, string | undefined, string, string][] = [
    [ONE, "src/docs/a.txt", undefined, join("/data/src", "docs", "a.txt"), "/data/src"],
    [ONE, "src/docs/a.txt", "/out", join("/out", "docs", "a.txt"), "/out"],
    [TWO, "b/y/z.txt", "/out", join("/out", "b", "y", "z.txt"), "/out"],
    [TWO, "b/y/z.txt", undefined, join("/data/b", "y", "z.txt"), "/data/b"],
  ];
  for (const [from, path, to, dest, base] of cases) {
    assert.deepEqual(restoreDestination(from, path, to), { dest, base, toDir: to !== undefined });
  }
  const gone = places(true, [{ name: "a", path: "/data/a" }]);
  assert.throws(
    () => restoreDestination(gone, "old/f.txt", undefined),
    /no longer in the config: use --to/,
  );
});

Deno.test("destination: on Windows, a name Windows would take for something else is refused", () => {
  const win = { ...TWO, os: "windows" as const };
  for (
    const name of ["notes:v2.txt", "aux.txt", "CON", "com1.log", "dot.", "space ", "a\\b", "q?"]
  ) {
    assert.throws(
      () => restoreDestination(win, `a/dir/${name}`, undefined),
      new RegExp(`^Error: Cannot restore 'a/dir/.*' on Windows: the name '.*' `),
      name,
    );
    assert.throws(() => restoreDestination(win, `a/${name}/f.txt`, "/out"), /on Windows/, name);
  }
  for (const name of ["console.txt", "auxiliary", "com10", ".hidden", "a.b.c", "Ärger~.txt"]) {
    assert.equal(restoreDestination(win, `a/${name}`, undefined).dest, join("/data/a", name), name);
  }
  // Elsewhere such names are written as they are.
  assert.equal(
    restoreDestination(TWO, "a/notes:v2.txt", undefined).dest,
    join("/data/a", "notes:v2.txt"),
  );
});

Deno.test("windowsNameProblem: Windows' device names, with or without an extension, and no others", () => {
  for (const name of ["aux", "CON.txt", "com0", "LPT9.tar.gz", "COM\u00b2", "CONIN$", "conout$"]) {
    assert.equal(windowsNameProblem(name), "is a device name on Windows", name);
  }
  for (const name of ["console", "auxiliary.txt", "com10", "nul-device", "conin"]) {
    assert.equal(windowsNameProblem(name), undefined, name);
  }
});

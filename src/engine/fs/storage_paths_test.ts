/** nativePath and relPath take shortcuts on the paths this tool builds; they must give what
 * node:path's join and relative give, and fall back to those for anything else. */
import assert from "node:assert/strict";
import { join, relative, sep } from "node:path";
import { nativePath } from "./fsops.ts";
import { relPath } from "../rel_path.ts";

const ROOTS = [join(sep, "backup"), join(sep, "backup", "root") + sep, sep];

Deno.test("nativePath gives what join gives for storage paths", () => {
  for (const root of ROOTS) {
    for (const storage of ["a", "a/b.txt", "versions/a/b c/v1.bak", ".backup-tool/tmp/x-1.tmp"]) {
      assert.equal(nativePath(root, storage), join(root, ...storage.split("/")));
    }
  }
});

Deno.test("relPath gives what relative gives, with / as separator", () => {
  for (const root of ROOTS) {
    const cases = [
      join(root, "a"),
      join(root, "a", "b.txt"),
      join(root, ".backup-tool", "tmp", "x-1.tmp"),
      root,
      // Not built by this tool: the general path must handle them.
      `${join(root, "a")}${sep}..${sep}b`,
      `${join(root, "a")}${sep}.${sep}b`,
      `${join(root, "a")}${sep}${sep}b`,
      join(sep, "elsewhere", "x"),
      `${join(root, "a")}${sep}`,
    ];
    for (const abs of cases) {
      assert.equal(relPath(root, abs), relative(root, abs).split(sep).join("/"), abs);
    }
  }
});

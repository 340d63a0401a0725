/** Unit tests of renameNoReplace: a rename that never replaces what is at its target. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { renameNoReplace } from "./rename_noreplace.ts";

Deno.test("renameNoReplace: renames to a free name, and leaves both files where the name is taken", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const [a, b, c] = ["a", "b", "c"].map((n) => join(dir, n));
    Deno.writeTextFileSync(a, "A");
    Deno.writeTextFileSync(c, "C");
    const renamed = renameNoReplace(a, b);
    if (renamed === "unsupported") return; // not Linux with glibc, or no flag here: link instead
    assert.equal(renamed, "renamed");
    assert.equal(Deno.readTextFileSync(b), "A");
    assert.throws(() => Deno.lstatSync(a), Deno.errors.NotFound);
    assert.equal(renameNoReplace(b, c), "taken");
    assert.equal(Deno.readTextFileSync(b), "A");
    assert.equal(Deno.readTextFileSync(c), "C");
    assert.throws(() => renameNoReplace(join(dir, "none"), join(dir, "d")), Deno.errors.NotFound);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

/**
 * Unit tests of missing_roots.ts on real temporary folders: a source missing is looked for
 * again after the first pause, and the watchers' reopening asked for once it can be listed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withDir } from "../engine/test_util.ts";
import { canList, MissingRoots } from "./missing_roots.ts";
import { REOPEN_MAX_MS } from "./reopening.ts";

Deno.test(
  "missing roots: a folder can be listed; a file or a missing path cannot",
  withDir((dir) => {
    Deno.writeTextFileSync(join(dir, "f"), "x");
    assert.equal(canList(dir), true);
    assert.equal(canList(join(dir, "f")), false);
    assert.equal(canList(join(dir, "gone")), false);
  }),
);

/** Resolves once `listable` has been called, or rejects after a generous deadline. */
function calledOrLate(): { onListable: () => void; called: Promise<void>; stop: () => void } {
  const called = Promise.withResolvers<void>();
  const late = setTimeout(called.reject, REOPEN_MAX_MS, new Error("never said listable"));
  return { onListable: called.resolve, called: called.promise, stop: () => clearTimeout(late) };
}

Deno.test(
  "missing roots: a source made after the first look is found by a later one",
  withDir(async (dir) => {
    const root = join(dir, "source");
    const { onListable, called, stop } = calledOrLate();
    let looks = 0;
    const roots = new MissingRoots(onListable, () => {
      if (++looks === 2) Deno.mkdirSync(root); // missing at the first look, there at the second
      return true;
    });
    try {
      roots.lookFor([root]);
      await called;
      assert.ok(looks >= 2, "found at a look after the first");
    } finally {
      stop();
      roots.close();
    }
  }),
);

Deno.test(
  "missing roots: no source to look for, or a follower closed: nothing is said",
  withDir(async (dir) => {
    let said = 0;
    const looked = Promise.withResolvers<void>();
    const roots = new MissingRoots(() => said++, () => {
      looked.resolve();
      return false; // closed: the look does nothing
    });
    try {
      roots.lookFor([dir]);
      await looked.promise;
      roots.lookFor([]); // nothing to look for: no timer left
      assert.equal(said, 0);
    } finally {
      roots.close();
    }
  }),
);

/**
 * Moves that never replace anything: a taken target is never taken for the move done; a
 * stored copy's move is done or not begun; a staged copy is in place once linked.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { moveOnce, placeStaged } from "./move.ts";
import { withDir } from "../test_util.ts";

Deno.test(
  "moveOnce: a target already taken by another file is never treated as the move done",
  withDir(async (dir) => {
    const [from, to] = [join(dir, "staged.tmp"), join(dir, "copy")];
    Deno.writeTextFileSync(from, "new");
    Deno.writeTextFileSync(to, "old");
    await assert.rejects(() => moveOnce(from, to), /the target already exists/);
    assert.equal(Deno.readTextFileSync(from), "new");
    assert.equal(Deno.readTextFileSync(to), "old");
  }),
);

const isRoot = Deno.uid?.() === 0;

Deno.test({
  name: "moveOnce: a removal refused after the link undoes the link and says why",
  // An append-only folder (chattr +a, root only) lets the link in and the old name not out,
  // as a file held open does on Windows.
  ignore: Deno.build.os !== "linux" || !isRoot,
  fn: withDir(async (dir) => {
    const from = join(dir, "held", "copy");
    const to = join(dir, "versions", "v1.bak");
    Deno.mkdirSync(join(dir, "held"));
    Deno.writeTextFileSync(from, "content");
    const chattr = (flag: string) =>
      new Deno.Command("chattr", { args: [flag, join(dir, "held")] }).output();
    if (!(await chattr("+a")).success) return; // a file system without attributes
    try {
      await assert.rejects(
        () => moveOnce(from, to),
        // No "close the program" remedy: on Linux a refusal is no program's hold.
        /^Error: Cannot move '.*copy' to '.*v1\.bak': the old name cannot be removed: Operation not permitted[^:]*: remove '[^']*copy'$/,
      );
      // Not begun: the content at its old name only, the new name free for a rollback.
      assert.equal(Deno.readTextFileSync(from), "content");
      assert.throws(() => Deno.lstatSync(to), Deno.errors.NotFound);
    } finally {
      await chattr("-a");
    }
    // Run again once the removal is allowed: it moves.
    assert.equal(await moveOnce(from, to), true);
    assert.throws(() => Deno.lstatSync(from), Deno.errors.NotFound);
    assert.equal(Deno.readTextFileSync(to), "content");
  }),
});

Deno.test({
  name: "placeStaged: a staged copy is in place once linked, its temporary name left if need be",
  ignore: Deno.build.os !== "linux" || !isRoot,
  fn: withDir(async (dir) => {
    const tmp = join(dir, "tmp", "1-1.tmp");
    const to = join(dir, "a.txt");
    Deno.mkdirSync(join(dir, "tmp"));
    Deno.writeTextFileSync(tmp, "new content");
    const chattr = (flag: string) =>
      new Deno.Command("chattr", { args: [flag, join(dir, "tmp")] }).output();
    if (!(await chattr("+a")).success) return; // a file system without attributes
    try {
      assert.equal(await placeStaged(tmp, to), true);
    } finally {
      await chattr("-a");
    }
    assert.equal(Deno.readTextFileSync(to), "new content");
    assert.equal(Deno.readTextFileSync(tmp), "new content"); // the cleanup's, later
    assert.equal(await placeStaged(join(dir, "tmp", "gone.tmp"), join(dir, "b.txt")), false);
  }),
});

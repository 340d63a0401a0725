import assert from "node:assert/strict";
import { join } from "node:path";
import { removeCopy, updateCopyMeta } from "./copy_in_place.ts";
import { withDir } from "./test_util.ts";

const HAS_PROC = Deno.build.os === "linux";
const meta = (mode: number) => ({ mode, mtimeMs: Date.UTC(2020, 0, 1) });

/** A backup root holding `home/user/secret` as a stored copy, and a file of that name elsewhere. */
function layout(dir: string) {
  const root = join(dir, "root");
  const outside = join(dir, "etc");
  Deno.mkdirSync(join(root, "home", "user"), { recursive: true });
  Deno.mkdirSync(outside);
  Deno.writeTextFileSync(join(root, "home", "user", "secret"), "copy\n", { mode: 0o600 });
  Deno.writeTextFileSync(join(outside, "secret"), "system's\n", { mode: 0o600 });
  Deno.chmodSync(join(outside, "secret"), 0o600);
  const seen = Deno.lstatSync(join(root, "home", "user", "secret"));
  return { root, outside, seen };
}

Deno.test(
  "updateCopyMeta: the copy gets the recorded bits and time",
  withDir((dir) => {
    const { root, seen } = layout(dir);
    updateCopyMeta(root, "home/user/secret", seen, meta(0o640));
    const now = Deno.statSync(join(root, "home", "user", "secret"));
    assert.equal(now.mode! & 0o7777, 0o640);
    assert.equal(now.mtime!.getTime(), Date.UTC(2020, 0, 1));
  }),
);

Deno.test({
  name: "updateCopyMeta: a folder on the way swapped for a symlink leads nothing elsewhere",
  ignore: !HAS_PROC, // elsewhere by path after storedEntry's check: a narrower race
  fn: withDir((dir) => {
    const { root, outside, seen } = layout(dir);
    // Swapped after the copy was looked at: another file at the end of the way.
    Deno.renameSync(join(root, "home", "user"), join(root, "home", "moved"));
    Deno.symlinkSync(outside, join(root, "home", "user"));
    assert.throws(
      () => updateCopyMeta(root, "home/user/secret", seen, meta(0o666)),
      /Cannot update the stored copy 'home\/user\/secret': it, or a folder on its way, was replaced/,
    );
    // Swapped before it was looked at: the file seen is the one elsewhere, reached
    // through the symlink; its real path gives it away.
    const seenThrough = Deno.lstatSync(join(root, "home", "user", "secret"));
    assert.throws(
      () => updateCopyMeta(root, "home/user/secret", seenThrough, meta(0o666)),
      /was replaced/,
    );
    const there = Deno.statSync(join(outside, "secret"));
    assert.equal(there.mode! & 0o7777, 0o600, "the file elsewhere was changed");
    assert.notEqual(there.mtime!.getTime(), Date.UTC(2020, 0, 1));
  }),
});

Deno.test({
  name: "updateCopyMeta: a backup root reached through a symlink is its real path",
  ignore: !HAS_PROC,
  fn: withDir((dir) => {
    const { root, seen } = layout(dir);
    Deno.symlinkSync(root, join(dir, "via"));
    updateCopyMeta(join(dir, "via"), "home/user/secret", seen, meta(0o604));
    assert.equal(Deno.statSync(join(root, "home", "user", "secret")).mode! & 0o7777, 0o604);
  }),
});

Deno.test(
  "removeCopy: a stored file or symlink is removed, at the root's top too",
  withDir((dir) => {
    const { root } = layout(dir);
    Deno.symlinkSync("secret", join(root, "home", "user", "link"));
    Deno.writeTextFileSync(join(root, "top"), "x");
    removeCopy(root, "home/user/secret");
    removeCopy(root, "home/user/link");
    removeCopy(root, "top");
    assert.deepEqual([...Deno.readDirSync(join(root, "home", "user"))], []);
    assert.throws(() => Deno.lstatSync(join(root, "top")), Deno.errors.NotFound);
  }),
);

Deno.test({
  name: "removeCopy: a folder on the way swapped for a symlink removes nothing elsewhere",
  ignore: !HAS_PROC,
  fn: withDir((dir) => {
    const { root, outside } = layout(dir);
    Deno.renameSync(join(root, "home"), join(root, "moved"));
    Deno.mkdirSync(join(root, "home"));
    Deno.symlinkSync(outside, join(root, "home", "user"));
    assert.throws(
      () => removeCopy(root, "home/user/secret"),
      /Cannot remove the stored copy 'home\/user\/secret': it, or a folder on its way, was replaced/,
    );
    assert.equal(Deno.readTextFileSync(join(outside, "secret")), "system's\n");
  }),
});

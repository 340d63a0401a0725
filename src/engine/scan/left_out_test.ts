import assert from "node:assert/strict";
import { join } from "node:path";
import {
  leftOutAbove,
  leftOutConfigured,
  newLeftOutCache,
  onOtherDevice,
  otherDeviceAbove,
} from "./left_out.ts";
import { CACHEDIR_SIGNATURE } from "./tags.ts";

Deno.test("left out: a folder's device against its root's, a device not told never differs", () => {
  assert.equal(onOtherDevice(undefined, 5), false, "one_file_system off: no root device");
  assert.equal(onOtherDevice(5, 5), false);
  assert.equal(onOtherDevice(5, 6), true);
  assert.equal(onOtherDevice(5, 0), false, "0: Deno gave none");
  assert.equal(leftOutConfigured({}), false);
  assert.equal(leftOutConfigured({ oneFileSystem: true }), true);
  assert.equal(leftOutConfigured({ excludeIfPresent: [".nobackup"] }), true);
});

Deno.test("left out: the outermost folder on another device on the way, each folder looked at once", () => {
  const dir = Deno.realPathSync(Deno.makeTempDirSync());
  try {
    Deno.mkdirSync(join(dir, "a/b/c"), { recursive: true });
    Deno.writeTextFileSync(join(dir, "a/b/c/f.txt"), "f");
    const devs = new Map<string, number | undefined>();
    // One disk: nothing, the root's device stat'ed once and kept.
    assert.equal(otherDeviceAbove(dir, join(dir, "a/b/c/f.txt"), devs), undefined);
    assert.deepEqual([...devs.keys()].sort(), [
      dir,
      join(dir, "a"),
      join(dir, "a/b"),
      join(dir, "a/b/c"),
    ]);
    // The root said to be on another device than the folders below it: the outermost.
    const other = Deno.statSync(dir).dev! + 1;
    assert.equal(otherDeviceAbove(dir, join(dir, "a/b/c/f.txt"), devs, other), join(dir, "a"));
    // The folder itself is not on the way to it; the root has none above.
    assert.equal(otherDeviceAbove(dir, join(dir, "a"), devs, other), undefined);
    assert.equal(otherDeviceAbove(dir, dir, devs, other), undefined);
    // Gone: cannot be told, not left out.
    assert.equal(otherDeviceAbove(dir, join(dir, "gone/x/y"), new Map(), other), undefined);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("left out: of a tagged folder and one on another device, the outer one is said", () => {
  const dir = Deno.realPathSync(Deno.makeTempDirSync());
  try {
    Deno.mkdirSync(join(dir, "a/t/deep"), { recursive: true });
    Deno.writeTextFileSync(join(dir, "a/t/CACHEDIR.TAG"), CACHEDIR_SIGNATURE);
    const file = join(dir, "a/t/deep/x");
    const rules = { excludeCaches: true, oneFileSystem: true };
    // One disk: the tagged folder.
    assert.equal(leftOutAbove(rules, dir, file, newLeftOutCache()), join(dir, "a/t"));
    // Another device from `a` on: `a`, outside the tagged folder.
    const other = Deno.statSync(dir).dev! + 1;
    assert.equal(leftOutAbove(rules, dir, file, newLeftOutCache(), other), join(dir, "a"));
    // one_file_system off: the tag alone counts; the tag itself is kept.
    const tagsOnly = { excludeCaches: true };
    assert.equal(leftOutAbove(tagsOnly, dir, file, newLeftOutCache(), other), join(dir, "a/t"));
    assert.equal(
      leftOutAbove(tagsOnly, dir, join(dir, "a/t/CACHEDIR.TAG"), newLeftOutCache()),
      undefined,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

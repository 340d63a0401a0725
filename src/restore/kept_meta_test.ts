import assert from "node:assert/strict";
import { join } from "node:path";
import { ALL_KEPT, KeptMeta } from "./kept_meta.ts";
import type { Reached } from "./pinned.ts";
import { withDir } from "../engine/test_util.ts";
import { applyXattrs, XATTRS_KEPT } from "../engine/xattrs.ts";
import { encodeXattrs } from "../engine/xattr_codec.ts";

/** Whether files in `dir` take a user.* attribute from this process (a scratch file asked). */
function takesXattrs(dir: string): boolean {
  const scratch = join(dir, "scratch");
  Deno.writeTextFileSync(scratch, "");
  try {
    const set = encodeXattrs([{
      name: new TextEncoder().encode("user.t"),
      value: new Uint8Array(),
    }]);
    return XATTRS_KEPT && applyXattrs({ path: scratch }, set, false).length === 0;
  } finally {
    Deno.removeSync(scratch);
  }
}

function reached(dir: string): Reached {
  return {
    path: dir,
    id: `${Deno.statSync(dir).dev}:${Deno.statSync(dir).ino}`,
    made: undefined,
    at: (n) => join(dir, n),
    release() {},
  };
}

Deno.test(
  "KeptMeta: a disk that keeps modes, owners, exact times and extended attributes is found so once, without a trace or a note",
  withDir((dir) => {
    const kept = new KeptMeta();
    const folder = reached(dir);
    const all = { ...ALL_KEPT, xattrs: takesXattrs(dir) };
    assert.deepEqual(kept.of(folder, ".probe-1.tmp"), all);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    // Asked once per disk: a second folder on it is not probed.
    Deno.mkdirSync(join(dir, "sub"));
    const sub: Reached = {
      ...reached(join(dir, "sub")),
      at: () => assert.fail("probed again"),
    };
    assert.deepEqual(kept.of(sub, ".probe-2.tmp"), all);
    assert.deepEqual(kept.notes, []);
  }),
);

Deno.test(
  "KeptMeta: a folder where no probe can be made tells nothing: everything is compared",
  withDir((dir) => {
    const gone = join(dir, "gone");
    const folder: Reached = {
      ...reached(dir),
      id: "999999:1",
      path: gone,
      at: (n) => join(gone, n),
    };
    assert.deepEqual(new KeptMeta().of(folder, ".probe.tmp"), ALL_KEPT);
  }),
);

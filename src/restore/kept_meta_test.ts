import assert from "node:assert/strict";
import { join } from "node:path";
import { ALL_KEPT, KeptMeta } from "./kept_meta.ts";
import type { Reached } from "./pinned.ts";
import { withDir } from "../engine/test_util.ts";

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
  "KeptMeta: a disk that keeps modes, owners and exact times is found so once, without a trace or a note",
  withDir((dir) => {
    const kept = new KeptMeta();
    const folder = reached(dir);
    assert.deepEqual(kept.of(folder, ".probe-1.tmp"), ALL_KEPT);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    // Asked once per disk: a second folder on it is not probed.
    Deno.mkdirSync(join(dir, "sub"));
    const sub: Reached = {
      ...reached(join(dir, "sub")),
      at: () => assert.fail("probed again"),
    };
    assert.deepEqual(kept.of(sub, ".probe-2.tmp"), ALL_KEPT);
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

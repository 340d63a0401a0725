import assert from "node:assert/strict";
import { join } from "node:path";
import { ALL_KEPT, KeptMeta, timeStepOf } from "./kept_meta.ts";
import type { Reached } from "./pinned.ts";
import { withDir } from "../engine/test_util.ts";
import { applyXattrs, XATTRS_KEPT } from "../engine/fs/xattrs.ts";
import { encodeXattrs } from "../core/xattr_codec.ts";
import { GIVES_OWNERS } from "../engine/fs/owner.ts";

/** Whether files in `dir` take such an attribute from this process (a scratch file asked). */
function takesXattr(dir: string, name: string, value = new Uint8Array()): boolean {
  const scratch = join(dir, "scratch");
  Deno.writeTextFileSync(scratch, "");
  try {
    const set = encodeXattrs([{ name: new TextEncoder().encode(name), value }]);
    return XATTRS_KEPT && applyXattrs({ path: scratch }, set, false).length === 0;
  } finally {
    Deno.removeSync(scratch);
  }
}

/** What a restore compares in `dir` besides modes, owners and times, asked as `setfacl` would. */
function attributesKept(dir: string) {
  // An ACL of mode 0600's bits: user::rw-, group::---, other::---.
  const acl = new Uint8Array([
    ...[2, 0, 0, 0],
    ...[1, 0, 6, 0, 255, 255, 255, 255],
    ...[4, 0, 0, 0, 255, 255, 255, 255],
    ...[32, 0, 0, 0, 255, 255, 255, 255],
  ]);
  return {
    xattrs: takesXattr(dir, "user.t"),
    acls: takesXattr(dir, "system.posix_acl_access", acl),
    rootXattrs: GIVES_OWNERS && takesXattr(dir, "trusted.t"),
  };
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
    const all = { ...ALL_KEPT, ...attributesKept(dir) };
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

Deno.test("timeStepOf: a disk's step is told whether it cuts times down, rounds them or rounds them up (Windows' FAT)", () => {
  const probe = 1_700_000_001_455; // PROBE_TIME_MS
  const down = (step: number) => Math.floor(probe / step) * step;
  const up = (step: number) => Math.ceil(probe / step) * step;
  const nearest = (step: number) => Math.round(probe / step) * step;
  assert.equal(timeStepOf(probe), 1);
  for (const step of [10, 100, 1000, 2000]) {
    for (const [how, kept] of [["down", down(step)], ["nearest", nearest(step)]] as const) {
      assert.equal(timeStepOf(kept), step, `${how} to ${step} ms`);
    }
    // Rounded up: a 1 s step rounding up cannot be told from FAT's 2 s (the coarser taken).
    assert.equal(timeStepOf(up(step)), step === 1000 ? 2000 : step, `up to ${step} ms`);
  }
  // Any time a disk keeps is within the step told of the one asked for.
  for (const kept of [down(2000), up(2000), down(10), up(10)]) {
    assert.ok(Math.abs(kept - probe) < timeStepOf(kept));
  }
  // A time the disk did not take (set to now instead) tells nothing: compared exactly.
  assert.equal(timeStepOf(probe + 86_400_000 + 7), 1);
});

import assert from "node:assert/strict";
import type { Config } from "../config/config.ts";
import type { StateStore } from "../state/store.ts";
import { join } from "node:path";
import { Batch } from "./batch.ts";
import { STATE_DIR } from "../core/layout.ts";
import { emptyResult, type PassOptions } from "./pass_types.ts";
import { withDir } from "./test_util.ts";
import type { Action } from "../core/types.ts";

/**
 * Every deletion of a pass goes into one batch (vanished.ts), so after a mass deletion
 * passed with `--force` a batch can hold hundreds of thousands of actions. Spreading them
 * into one call (`push(...effectful)`) overflowed the stack past some 125,000: a 300,000-
 * file folder emptied but for 1,000 files made `run --force` fail with "Maximum call stack
 * size exceeded", its moves done but not committed. Deletions planned as blocked (recorded
 * as lost, nothing moved) keep the test fast: the batch's bookkeeping is what is under test.
 */
Deno.test(
  "a batch of 150,000 deletions is applied and committed without overflowing the stack",
  withDir(async (root) => {
    const n = 150_000;
    Deno.mkdirSync(join(root, STATE_DIR));
    const committed: Action[] = [];
    const store = {
      reserveUsed: false,
      writeIntent: () => 1,
      commitBatch: (done: Action[]) => {
        for (const a of done) committed.push(a);
      },
    } as unknown as StateStore;
    const ctx = {
      config: {} as Config,
      root,
      rootName: "backup",
      tmpDir: root,
      store,
      prefixes: new Map([["src", ""]]),
      runId: 1,
    };
    const result = emptyResult();
    const failed: string[] = [];
    const fail = (path: string, message: string) => failed.push(`${path}: ${message}`);
    const batch = new Batch(ctx, {}, result, () => {}, fail, { clock: 0, recorded: 0 });
    for (let i = 0; i < n; i++) {
      batch.add({
        type: "delete",
        path: `src/f${i}`,
        copyId: i + 1,
        from: `f${i}`,
        to: `_deleted/f${i}`,
        blocked: true,
      });
    }
    await batch.flush();
    await batch.settle();
    assert.deepEqual(failed.slice(0, 3), []);
    assert.equal(result.counts.delete, n);
    assert.equal(committed.length, n);
  }),
);

/**
 * What the actions archive is kept, by path, for the pass's retention where it reads it: a
 * plan (which predicts prunes from it) and a scoped pass (which looks at those files). A
 * full run's retention reads the state, so its batch keeps nothing: a run that archived a
 * million files would otherwise hold some 300 MB of them to its end.
 */
Deno.test("a batch keeps the versions archived for a plan's and a scoped pass's retention only", () => {
  const ctx = {
    config: {} as Config,
    root: "/nonexistent",
    rootName: "backup",
    tmpDir: "/nonexistent",
    prefixes: new Map([["src", ""]]),
    runId: 1,
  };
  const archive = { copyId: 1, from: "f", to: "versions/f/v1.bak", seq: 1 };
  const kept = (opts: PassOptions) => {
    const batch = new Batch(ctx, opts, emptyResult(), () => {}, () => {}, {
      clock: 0,
      recorded: 0,
    });
    // Its content is not read: `add` only files the action.
    batch.add({ type: "modified", path: "src/f", seq: 2, target: "f", archive } as Action);
    return [...batch.archived.keys()];
  };
  assert.deepEqual(kept({}), []);
  assert.deepEqual(kept({ dryRun: true }), ["src/f"]);
  assert.deepEqual(kept({ scope: new Map([["src", ["/src/f"]]]) }), ["src/f"]);
});

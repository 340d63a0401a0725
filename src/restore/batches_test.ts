/** Unit tests of restoreAll: real files in a temporary backup root and --to folder. */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { StoredCopy } from "../state/store.ts";
import { restoreAll } from "./batches.ts";
import { storedCopy } from "./test_copies.ts";
import type { RestoreResult } from "./restore_item.ts";

function recorded(storedAt: string, text: string): StoredCopy {
  return storedCopy(storedAt, text, "sha256", { id: 1, path: "source/b.txt" });
}

Deno.test("a copy read where a run going on moved it is its own, however the run goes on before it is placed", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const root = join(dir, "backup");
    const to = join(dir, "to");
    Deno.mkdirSync(join(root, "versions", "b.txt"), { recursive: true });
    Deno.mkdirSync(to);
    const moved = "versions/b.txt/v1.bak";
    Deno.writeTextFileSync(join(root, moved), "B1\n"); // its own copy, moved from latest/
    const copy = recorded("b.txt", "B1\n");
    // The run's journal says where it went, then that run commits, and a later one prunes it:
    // asked again, neither the journal nor the state names that place any more.
    let asked = 0;
    const results: RestoreResult[] = [];
    await restoreAll(root, [{ copy, dest: join(to, "b.txt"), base: to, toDir: true }], {
      overwrite: false,
      movedOf: () => asked++ === 0 ? [moved] : [],
      prunedOf: () => undefined,
      recordedNow: (c) => ({ ...c, location: "pruned", storedAt: null }),
      onResult: (r) => results.push(r),
    });
    assert.equal(results.length, 1);
    assert.equal(results[0].outcome, "restored", results[0].reason);
    assert.equal(results[0].note, undefined);
    assert.equal(Deno.readTextFileSync(join(to, "b.txt")), "B1\n");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

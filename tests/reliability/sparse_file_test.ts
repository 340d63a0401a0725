/**
 * A 1 GiB sparse file (one data block at the end, holes elsewhere): the run completes
 * within a generous deadline and stores all 1 GiB byte for byte (its digest is checked
 * against the stored copy and the state), as a copy that keeps its holes (where the source
 * has them: its file system makes holes); the duration and the space the copy occupies are
 * printed. Skipped, with a message, when the temp filesystem has less than 4 GiB free.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture } from "../helpers.ts";
import { digestPath, readState, runTool, sh, tmpLeftovers } from "./util.ts";

const SIZE = 1 << 30;

Deno.test("a 1 GiB sparse file is backed up exactly within a deadline", async () => {
  using fx = makeFixture({ "small.txt": "small" });
  const free = Number((await sh(`df --output=avail -B1 '${fx.dir}' | tail -1`)).trim());
  if (!(free > 4 * SIZE)) {
    console.log(`SKIP sparse file test: only ${free} bytes free in ${fx.dir}`);
    return;
  }
  const path = join(fx.source, "sparse.img");
  {
    using f = Deno.openSync(path, { write: true, create: true });
    f.truncateSync(SIZE);
    f.seekSync(SIZE - 5, Deno.SeekMode.Start);
    f.writeSync(new TextEncoder().encode("tail\n"));
  }
  const allocated = (Deno.statSync(path).blocks ?? 0) * 512;
  const t = performance.now();
  const r = await runTool(["run", "--config", fx.config], { timeoutMs: 180_000 });
  const ms = Math.round(performance.now() - t);
  assert.equal(r.code, 0, r.stderr);
  const copy = join(fx.backup, "sparse.img");
  assert.equal(Deno.statSync(copy).size, SIZE);
  const state = readState(fx.backup);
  const recorded = state.copies.find((c) => c.stored_at === "sparse.img")?.hash;
  const digest = digestPath(copy);
  assert.equal(digest, recorded, "the recorded digest is the stored bytes' digest");
  assert.equal(digest, digestPath(path), "the stored bytes are the source's");
  assert.equal(state.intents, 0);
  assert.deepEqual(tmpLeftovers(fx.backup), []);
  const stored = (Deno.statSync(copy).blocks ?? 0) * 512;
  if (Deno.build.os === "linux" && allocated < SIZE) {
    assert.ok(stored <= allocated + (1 << 20), `the copy keeps the holes: ${stored} bytes`);
  }
  console.log(
    `  1 GiB sparse file (${allocated} bytes allocated): backed up in ${ms} ms; ` +
      `the copy occupies ${stored} bytes`,
  );
});

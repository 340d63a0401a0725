import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import {
  type BarrierSteps,
  flushWithBarrier,
  plainFsync,
  WRITE_OUT_HERE,
} from "./barrier_flush.ts";
import { withDir } from "../test_util.ts";

/**
 * glibc's fsync stands in for macOS's: the same call, bound the same way (here, outside the
 * tests: the library is held for the process, as the tool holds it).
 */
const glibcFsync = Deno.build.os === "linux" ? plainFsync("linux") : undefined;

/** Steps that record what is done, in order, around real files and a real plain fsync. */
function recording(writeOut: BarrierSteps["writeOut"]) {
  const done: string[] = [];
  const opened = new Map<number, string>();
  const steps: BarrierSteps = {
    writeOut: async (fd) => {
      // The descriptor node:fs gives is the system's own, the file's (Deno 1 gave its own
      // resource ids: fsync would then have flushed some other file, or failed).
      if (Deno.build.os === "linux") {
        assert.equal(Deno.readLinkSync(`/proc/self/fd/${fd}`), Deno.realPathSync(opened.get(fd)!));
      }
      const r = await writeOut(fd);
      done.push(`out:${r}`);
      return r;
    },
    open: async (p) => {
      const handle = await fs.promises.open(p, "r");
      opened.set(handle.fd, p);
      return handle;
    },
    full: (p) => {
      done.push(`full:${p.split("/").pop()}`);
      return Promise.resolve();
    },
    failure: (p, e) => new Error(`Cannot flush '${p}': ${(e as Error).message}`),
  };
  return { done, steps };
}

Deno.test({
  name:
    "flushWithBarrier: each file written out, then one full flush of the last, after them all " +
    "(one a disk)",
  ignore: Deno.build.os !== "linux",
  fn: withDir(async (dir) => {
    const writeOut = glibcFsync;
    assert.ok(writeOut, "fsync binds from glibc with FFI permitted");
    const paths = ["a", "b", "c", "d", "e"].map((n) => join(dir, n));
    for (const p of paths) Deno.writeTextFileSync(p, p);
    const { done, steps } = recording(writeOut);
    await flushWithBarrier(paths, 2, steps);
    assert.deepEqual(done, ["out:0", "out:0", "out:0", "out:0", "out:0", "full:e"]);
    const none = recording(writeOut);
    await flushWithBarrier([], 2, none.steps);
    assert.deepEqual(none.done, []);
    // Files on two disks (this folder's and /dev/shm's, where it is another): one each.
    const shm = "/dev/shm";
    if (Deno.statSync(shm).dev !== Deno.statSync(dir).dev) {
      const other = Deno.makeTempFileSync({ dir: shm });
      try {
        const two = recording(writeOut);
        await flushWithBarrier([paths[0], other, paths[1]], 2, two.steps);
        const fulls = ["full:b", `full:${other.split("/").pop()}`].sort();
        assert.deepEqual(two.done.slice(3).sort(), fulls);
      } finally {
        Deno.removeSync(other);
      }
    }
  }),
});

Deno.test(
  "flushWithBarrier: a file whose plain fsync fails, or that cannot be opened, fails the batch, named",
  withDir(async (dir) => {
    const paths = ["a", "b"].map((n) => join(dir, n));
    for (const p of paths) Deno.writeTextFileSync(p, p);
    // A full flush after a failed one may succeed with the data lost (a write-back error is
    // told once): it is asked for the cause only, and the batch fails all the same.
    const { done, steps } = recording(() => Promise.resolve(-1));
    await assert.rejects(
      flushWithBarrier(paths, 4, steps),
      /Cannot flush '.*a': fsync failed \(the system gave no reason\)/,
    );
    assert.deepEqual(done.sort(), ["full:a", "full:b", "out:-1", "out:-1"]);
    const failing = recording(() => Promise.resolve(-1));
    failing.steps.full = (p) => Promise.reject(new Error(`EIO: i/o error, fsync '${p}'`));
    await assert.rejects(flushWithBarrier(paths, 4, failing.steps), /Cannot flush '.*a': EIO/);
    const gone = recording(() => Promise.resolve(0));
    await assert.rejects(
      flushWithBarrier([join(dir, "missing")], 4, gone.steps),
      /Cannot flush '.*missing': ENOENT/,
    );
    assert.deepEqual(gone.done, []); // no full flush after a batch that failed
  }),
);

Deno.test("plainFsync: bound only on the system it is asked for", () => {
  const other = Deno.build.os === "darwin" ? "linux" : "darwin";
  assert.equal(plainFsync(other), undefined);
  assert.equal(plainFsync("windows"), undefined);
});

Deno.test(
  "WRITE_OUT_HERE: bound before any test, so that a test's first flush loads no library " +
    "(macOS; elsewhere there is none)",
  () => {
    assert.equal(WRITE_OUT_HERE !== undefined, Deno.build.os === "darwin" && ffiGranted());
  },
);

function ffiGranted(): boolean {
  return Deno.permissions.querySync({ name: "ffi" }).state === "granted";
}

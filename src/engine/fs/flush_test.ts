import assert from "node:assert/strict";
import { fullFlushRefused, inWaves, shownOpenFilesLimit } from "./flush.ts";

Deno.test("fullFlushRefused: only macOS's full flush an SMB mount refuses (ENOTSUP) is let pass", () => {
  const notSupported = new Error("Operation not supported (os error 45)");
  assert.ok(fullFlushRefused(notSupported, "darwin"));
  assert.ok(!fullFlushRefused(notSupported, "linux"));
  assert.ok(!fullFlushRefused(new Error("Input/output error (os error 5)"), "darwin"));
});

Deno.test("inWaves: a flush the system had no resources for a moment (EAGAIN) is tried again", async () => {
  const eagain = () => new Error("Resource temporarily unavailable (os error 11)");
  const calls = new Map<string, number>();
  // Each path fails twice, then is flushed: in a wave of four, then one at a time.
  const flush = (path: string) => {
    const n = (calls.get(path) ?? 0) + 1;
    calls.set(path, n);
    return n <= 2 ? Promise.reject(eagain()) : Promise.resolve();
  };
  const failure = (path: string, e: unknown) => new Error(`${path}: ${e}`);
  await inWaves(["a", "b", "c"], 4, flush, failure);
  assert.deepEqual([...calls.values()], [3, 3, 3]);
  // One that never goes through fails, after its tries; another error at once.
  const never = () => Promise.reject(eagain());
  await assert.rejects(inWaves(["x"], 1, never, failure), /x: .*os error 11/);
  const broken = () => Promise.reject(new Error("Input/output error (os error 5)"));
  await assert.rejects(inWaves(["y"], 4, broken, failure), /y: .*os error 5/);
});

Deno.test("shownOpenFilesLimit: none off Linux, where the limit is not read (256 is a guess)", () => {
  assert.equal(shownOpenFilesLimit("darwin"), undefined);
  assert.equal(shownOpenFilesLimit("windows"), undefined);
  if (Deno.build.os === "linux") assert.ok((shownOpenFilesLimit("linux") ?? 0) > 0);
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { freeBytesAt, keepReserve, RESERVE_BYTES } from "./reserve.ts";
import { withDir } from "../test_util.ts";

Deno.test(
  "keepReserve: made in full, kept, cut to size when longer",
  withDir(async (dir) => {
    assert.equal(await keepReserve(dir), true);
    assert.equal(Deno.statSync(join(dir, "reserve")).size, RESERVE_BYTES);
    Deno.writeFileSync(join(dir, "reserve"), new Uint8Array(RESERVE_BYTES + 100));
    assert.equal(await keepReserve(dir), true);
    assert.equal(Deno.statSync(join(dir, "reserve")).size, RESERVE_BYTES);
  }),
);

Deno.test({
  name: "keepReserve: a symlink in its place, dangling or not, is never written through",
  ignore: Deno.build.os === "windows", // symlinks need a privilege there
  fn: withDir(async (dir) => {
    const target = join(dir, "someone's file");
    Deno.symlinkSync(target, join(dir, "reserve"));
    assert.equal(await keepReserve(dir), false);
    assert.throws(() => Deno.lstatSync(target), Deno.errors.NotFound);
    Deno.writeTextFileSync(target, "precious\n");
    await keepReserve(dir);
    assert.equal(Deno.readTextFileSync(target), "precious\n");
  }),
});

Deno.test(
  "keepReserve: a disk without room for it is not written to, a partial one removed",
  withDir(async (dir) => {
    const path = join(dir, "reserve");
    Deno.writeFileSync(path, new Uint8Array(RESERVE_BYTES / 2));
    // Room for the half that is missing, less one byte: nothing written, the half removed.
    assert.equal(await keepReserve(dir, () => Promise.resolve(RESERVE_BYTES / 2 - 1)), false);
    assert.throws(() => Deno.lstatSync(path), Deno.errors.NotFound);
    assert.equal(await keepReserve(dir, () => Promise.resolve(RESERVE_BYTES - 1)), false);
    assert.throws(() => Deno.lstatSync(path), Deno.errors.NotFound);
    // Room enough, or a system that does not say: made.
    assert.equal(await keepReserve(dir, () => Promise.resolve(RESERVE_BYTES)), true);
    assert.equal(Deno.statSync(path).size, RESERVE_BYTES);
    Deno.removeSync(path);
    assert.equal(await keepReserve(dir, () => Promise.resolve(undefined)), true);
    assert.equal(Deno.statSync(path).size, RESERVE_BYTES);
  }),
);

Deno.test("freeBytesAt: the free space of the disk holding a folder", async () => {
  const free = await freeBytesAt(Deno.cwd());
  if (Deno.build.os === "linux") assert.ok(free !== undefined && free > 0);
  assert.equal(await freeBytesAt(join(Deno.cwd(), "no such folder")), undefined);
});

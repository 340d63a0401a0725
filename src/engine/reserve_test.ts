import assert from "node:assert/strict";
import { join } from "node:path";
import { keepReserve, RESERVE_BYTES } from "./reserve.ts";
import { withDir } from "./test_util.ts";

Deno.test(
  "keepReserve: made in full, kept, cut to size when longer",
  withDir((dir) => {
    assert.equal(keepReserve(dir), true);
    assert.equal(Deno.statSync(join(dir, "reserve")).size, RESERVE_BYTES);
    Deno.writeFileSync(join(dir, "reserve"), new Uint8Array(RESERVE_BYTES + 100));
    assert.equal(keepReserve(dir), true);
    assert.equal(Deno.statSync(join(dir, "reserve")).size, RESERVE_BYTES);
  }),
);

Deno.test({
  name: "keepReserve: a symlink in its place, dangling or not, is never written through",
  ignore: Deno.build.os === "windows", // symlinks need a privilege there
  fn: withDir((dir) => {
    const target = join(dir, "someone's file");
    Deno.symlinkSync(target, join(dir, "reserve"));
    assert.equal(keepReserve(dir), false);
    assert.throws(() => Deno.lstatSync(target), Deno.errors.NotFound);
    Deno.writeTextFileSync(target, "precious\n");
    keepReserve(dir);
    assert.equal(Deno.readTextFileSync(target), "precious\n");
  }),
});

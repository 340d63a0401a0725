import assert from "node:assert/strict";
import { join } from "node:path";
import { NotOwnFileError, openOwnFile } from "./own_file.ts";
import { withDir } from "../test_util.ts";

Deno.test(
  "openOwnFile: made where missing, opened where a file of its own is",
  withDir((dir) => {
    const path = join(dir, "lock");
    openOwnFile(path).close();
    assert.equal(Deno.statSync(path).size, 0);
    Deno.writeTextFileSync(path, "record\n");
    using f = openOwnFile(path);
    assert.equal(f.statSync().size, 7);
  }),
);

Deno.test({
  name: "openOwnFile: a symlink (dangling or not), a FIFO or a hard link is refused, nothing made",
  ignore: Deno.build.os === "windows", // symlinks need a privilege there; no FIFOs
  fn: withDir(async (dir) => {
    const target = join(dir, "elsewhere");
    Deno.symlinkSync(target, join(dir, "dangling"));
    assert.throws(() => openOwnFile(join(dir, "dangling")), NotOwnFileError);
    assert.throws(() => Deno.lstatSync(target), Deno.errors.NotFound, "made at the target");
    Deno.writeTextFileSync(target, "precious\n");
    Deno.symlinkSync(target, join(dir, "link"));
    assert.throws(() => openOwnFile(join(dir, "link")), NotOwnFileError);
    Deno.linkSync(target, join(dir, "hard"));
    assert.throws(() => openOwnFile(join(dir, "hard")), NotOwnFileError);
    assert.equal(Deno.readTextFileSync(target), "precious\n");
    const fifo = await new Deno.Command("mkfifo", { args: [join(dir, "fifo")] }).output();
    assert.ok(fifo.success);
    assert.throws(() => openOwnFile(join(dir, "fifo")), NotOwnFileError); // never a hang
  }),
});

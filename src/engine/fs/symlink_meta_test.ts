import assert from "node:assert/strict";
import { join } from "node:path";
import { finishSymlink } from "./symlink_meta.ts";
import { GIVES_OWNERS } from "./owner.ts";

/** The link's own time and owner are set only through FFI on Linux (symlink_meta.ts). */
const IGNORE = Deno.build.os !== "linux";
const WHEN = -1500; // 1969-12-31T23:59:58.500Z: before 1970, with a fraction

Deno.test({
  name:
    "finishSymlink: gives the link itself its recorded time (and owner as root), not its target",
  ignore: IGNORE,
  fn: () => {
    const dir = Deno.makeTempDirSync();
    try {
      const target = join(dir, "t.txt");
      Deno.writeTextFileSync(target, "t");
      const before = Deno.statSync(target);
      const link = join(dir, "l");
      Deno.symlinkSync("t.txt", link);
      finishSymlink(link, "t.txt", { uid: 1234, gid: 5678, mtimeMs: WHEN });
      const info = Deno.lstatSync(link);
      assert.equal(info.mtime!.getTime(), WHEN);
      if (GIVES_OWNERS) assert.deepEqual([info.uid, info.gid], [1234, 5678]);
      const after = Deno.statSync(target);
      assert.equal(after.mtime!.getTime(), before.mtime!.getTime());
      assert.equal(after.uid, before.uid);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "finishSymlink: a file, or a link to another target, swapped in at its name is left alone",
  ignore: IGNORE,
  fn: () => {
    const dir = Deno.makeTempDirSync();
    try {
      const file = join(dir, "swapped");
      Deno.writeTextFileSync(file, "someone else's");
      const other = join(dir, "other");
      Deno.symlinkSync("elsewhere", other);
      const seen = [Deno.lstatSync(file), Deno.lstatSync(other)];
      for (const path of [file, other]) {
        finishSymlink(path, "t.txt", { uid: 1234, gid: 5678, mtimeMs: WHEN });
      }
      for (const [i, path] of [file, other].entries()) {
        const now = Deno.lstatSync(path);
        assert.equal(now.mtime!.getTime(), seen[i].mtime!.getTime(), path);
        assert.deepEqual([now.uid, now.gid], [seen[i].uid, seen[i].gid], path);
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

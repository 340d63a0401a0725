import assert from "node:assert/strict";
import { join } from "node:path";
import { narrowOpened, narrowOwnModes } from "./own_modes.ts";
import { withDir } from "../test_util.ts";

const modeOf = (path: string) => Deno.lstatSync(path).mode! & 0o7777;

Deno.test({
  name: "narrowOwnModes: the tool's own entries lose write by group and others, nothing else",
  ignore: Deno.build.os === "windows", // no such bits there
  fn: withDir(async (root) => {
    const dir = join(root, ".backup-tool");
    Deno.mkdirSync(join(dir, "tmp"), { recursive: true });
    Deno.writeTextFileSync(join(dir, "tmp", "staged.tmp"), "");
    for (const name of ["lock", "reserve", "state.db"]) Deno.writeTextFileSync(join(dir, name), "");
    Deno.writeTextFileSync(join(root, "a.txt"), ""); // a copy in the mirror
    for (const p of [dir, join(dir, "tmp"), root]) Deno.chmodSync(p, 0o777);
    for (const name of ["tmp/staged.tmp", "lock", "reserve"]) {
      Deno.chmodSync(join(dir, name), 0o666);
    }
    Deno.chmodSync(join(dir, "state.db"), 0o664);
    Deno.chmodSync(join(root, "a.txt"), 0o666);
    const lines = await narrowOwnModes(root, dir);
    assert.deepEqual(
      [dir, join(dir, "tmp"), join(dir, "lock"), join(dir, "reserve"), join(dir, "state.db")]
        .map(modeOf),
      [0o755, 0o755, 0o644, 0o644, 0o644],
    );
    assert.equal(lines.length, 5, lines.join("\n"));
    assert.equal(
      lines[2],
      `MODE: narrowed '${join(root, ".backup-tool", "lock")}' from 0666 to 0644: group or ` +
        "others could write it (older versions made it so under a umask such as 000)",
    );
    // What they hold, and the mirror, are the user's: left as they are.
    assert.equal(modeOf(join(dir, "tmp", "staged.tmp")), 0o666);
    assert.equal(modeOf(join(root, "a.txt")), 0o666);
    assert.equal(modeOf(root), 0o777);
    // Narrowed already: nothing to say.
    assert.deepEqual(await narrowOwnModes(root, dir), []);
  }),
});

Deno.test({
  name: "narrowOwnModes: a symlink or a hard link in an entry's place is never followed",
  ignore: Deno.build.os === "windows",
  fn: withDir(async (root) => {
    const dir = join(root, ".backup-tool");
    Deno.mkdirSync(dir, { mode: 0o755 });
    Deno.chmodSync(dir, 0o755);
    const outside = join(root, "someone's file");
    Deno.writeTextFileSync(outside, "");
    Deno.chmodSync(outside, 0o666);
    Deno.symlinkSync(outside, join(dir, "lock"));
    Deno.linkSync(outside, join(dir, "reserve"));
    const elsewhere = join(root, "elsewhere");
    Deno.mkdirSync(elsewhere);
    Deno.chmodSync(elsewhere, 0o777);
    Deno.symlinkSync(elsewhere, join(dir, "tmp"));
    assert.deepEqual(await narrowOwnModes(root, dir), []);
    // Swapped in after the lstat that found an entry to narrow: what is open decides.
    assert.equal(await narrowOpened(join(dir, "lock"), "file"), undefined);
    assert.equal(await narrowOpened(join(dir, "reserve"), "file"), undefined);
    assert.equal(await narrowOpened(join(dir, "tmp"), "folder"), undefined);
    assert.equal(await narrowOpened(outside, "folder"), undefined);
    assert.equal(modeOf(outside), 0o666);
    assert.equal(modeOf(elsewhere), 0o777);
  }),
});

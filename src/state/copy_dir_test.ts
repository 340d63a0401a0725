import assert from "node:assert/strict";
import { join } from "node:path";
import { removeLeftCopies } from "./copy_dir.ts";
import { withDir } from "../engine/test_util.ts";

Deno.test({
  name: "removeLeftCopies: a dead process's copy folder goes; a live one's and others stay",
  ignore: Deno.build.os !== "linux",
  fn: withDir((tmp) => {
    const names = [
      "backup-tool-state-111-abc123", // dead
      "backup-tool-state-222-def456", // running
      "backup-tool-state-a1b2c3", // an older tool's name: no pid, left
      "something-else-333-x",
    ];
    for (const n of names) Deno.mkdirSync(join(tmp, n));
    Deno.writeTextFileSync(join(tmp, names[0], "state.db"), "copy");
    Deno.writeTextFileSync(join(tmp, "backup-tool-state-444-file"), "a file, not a folder");
    removeLeftCopies(tmp, (pid) => pid === 222);
    const left = [...Deno.readDirSync(tmp)].map((e) => e.name).sort();
    assert.deepEqual(left, [
      "backup-tool-state-222-def456",
      "backup-tool-state-444-file",
      "backup-tool-state-a1b2c3",
      "something-else-333-x",
    ]);
  }),
});

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { tempFlushFailure } from "./dest_file.ts";
import { withDir } from "../engine/test_util.ts";

Deno.test(
  "tempFlushFailure: a temporary file gone with its folder is not blamed on the disk",
  withDir(async (dir) => {
    let gone: unknown;
    try {
      await fs.promises.open(join(dir, "moved-away", "x.tmp"), fs.constants.O_RDONLY);
    } catch (e) {
      gone = e;
    }
    assert.match(
      tempFlushFailure("/r/x.tmp", gone).message,
      /^Cannot flush '\/r\/x\.tmp' to disk: ENOENT: no such file or directory: its folder was moved or removed while the restore ran: restore it again$/,
    );
    const failing = Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });
    assert.match(
      tempFlushFailure("/r/x.tmp", failing).message,
      /: EIO: i\/o error: check the disk$/,
    );
  }),
);

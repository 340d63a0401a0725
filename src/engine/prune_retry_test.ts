/**
 * Retention's removal of an old version is retried when refused for a moment, as moves
 * are: on Windows an indexer or a virus scanner holding the file open refuses it (EBUSY).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { finishAction } from "./execute.ts";
import { withDir } from "./test_util.ts";

Deno.test(
  "prune: a removal refused for a moment (a file held open on Windows) is retried",
  withDir(async (root) => {
    Deno.mkdirSync(join(root, "versions", "a.txt"), { recursive: true });
    const old = join(root, "versions", "a.txt", "v1.bak");
    Deno.writeTextFileSync(old, "old content");
    const remove = Deno.removeSync;
    let refused = 0;
    Deno.removeSync = (path, opts) => {
      if (String(path).endsWith("v1.bak") && refused++ === 0) {
        throw new Deno.errors.Busy("The process cannot access the file (os error 32)");
      }
      remove(path, opts);
    };
    try {
      await finishAction(root, {
        type: "prune",
        path: "src/a.txt",
        copyId: 1,
        seq: 1,
        storedAt: "versions/a.txt/v1.bak",
      });
    } finally {
      Deno.removeSync = remove;
    }
    assert.equal(refused, 2);
    assert.throws(() => Deno.lstatSync(old), Deno.errors.NotFound);
  }),
);

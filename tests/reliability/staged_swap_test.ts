/**
 * Whoever can write the backup root swaps the state folder while root's run reads a file
 * of theirs (a long read: they decide its length), and puts a symlink at the staged copy's
 * name, which they can see. The staged copy's owner and bits are set through its held
 * descriptor, never through that name: the file the symlink points to keeps its own.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, poll } from "../helpers.ts";
import { exists, isRoot, runTool } from "./util.ts";

Deno.test({
  name: "a state folder swapped while a file is read never leads root's chown and chmod outside",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    if (!isRoot()) return console.log("SKIP staged swap test: not root (gives files owners)");
    using fx = makeFixture({ "mine.txt": "x".repeat(300_000) });
    Deno.chownSync(join(fx.source, "mine.txt"), 1234, 1234);
    Deno.chmodSync(join(fx.source, "mine.txt"), 0o666);
    const victim = join(fx.dir, "shadow");
    Deno.writeTextFileSync(victim, "root:secret\n");
    Deno.chmodSync(victim, 0o600);
    const pause = join(fx.dir, "pause");
    const run = runTool(["run", "--config", fx.config], {
      env: { BACKUP_TOOL_PAUSE: `reading:1:${pause}` },
    });
    await poll("the read to pause", () => exists(pause));
    const state = join(fx.backup, ".backup-tool");
    const staged = [...Deno.readDirSync(join(state, "tmp"))].map((e) => e.name);
    assert.ok(staged.length > 0);
    Deno.renameSync(state, join(fx.backup, "moved"));
    Deno.mkdirSync(join(state, "tmp"), { recursive: true });
    for (const name of staged) Deno.symlinkSync(victim, join(state, "tmp", name));
    Deno.removeSync(pause);
    const r = await run;
    assert.notEqual(r.code, 0, "the run went on as if nothing happened");
    const after = Deno.statSync(victim);
    assert.equal(after.uid, 0, "root's file was given to the file's owner");
    assert.equal(after.mode! & 0o7777, 0o600, "root's file had its bits changed");
    assert.equal(Deno.readTextFileSync(victim), "root:secret\n");
  },
});

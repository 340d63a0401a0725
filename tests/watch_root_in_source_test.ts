/**
 * A watch whose backup root is inside a source, with readers of its state beside it
 * (restore, history, verify): the session keeps the locks SQLite holds on its state. Deno's
 * watcher thread opens (and closes) each path an event names, and a close of any descriptor
 * of a file drops every POSIX lock the process holds on it: once it followed the state's
 * files, a reader's close of the state's shared memory (-shm) made it drop the session's
 * lock there, and the next reader, finding the file unused, truncated it under the
 * session's mapping (SIGBUS, seen in tests/reliability/watch_model_test.ts). Linux only
 * (/proc/locks).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, writeTree } from "./helpers.ts";
import { backedUp, filler, WatchProcess } from "./watch_helpers.ts";

const WATCH = { watch: { debounce_ms: 50, rescan_interval: 0 } };

/** Whether process `pid` holds a POSIX lock on the file at `path` (/proc/locks). */
function holdsLock(pid: number, path: string): boolean {
  const ino = Deno.statSync(path).ino!;
  return Deno.readTextFileSync("/proc/locks").split("\n").some((line) => {
    const f = line.split(/\s+/);
    return f[1] === "POSIX" && Number(f[4]) === pid && Number(f[5]?.split(":")[2]) === ino;
  });
}

Deno.test({
  name: "watch: a backup root inside the source keeps its state's locks while readers come and go",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    using fx = makeFixture({ ...filler(), "a.txt": "a\n" }, {
      ...WATCH,
      backup_root: "./source/backup",
    });
    const backup = join(fx.source, "backup");
    const shm = join(backup, ".backup-tool", "state.db-shm");
    await using w = new WatchProcess(fx);
    await w.ready();
    assert.ok(holdsLock(w.pid, shm), "the session holds a lock on its state's -shm");
    for (let i = 0; i < 3; i++) {
      const history = await fx.cli("history", "a.txt");
      assert.equal(history.code, 0, history.stderr);
      // Deno's watcher reads events in order: once this is backed up, the reader's are read.
      writeTree(fx.source, { [`n${i}.txt`]: `${i}\n` });
      await backedUp(backup, `n${i}.txt`, `${i}\n`);
      assert.ok(holdsLock(w.pid, shm), `the session lost its -shm lock after reader ${i + 1}`);
    }
    const exit = await w.stop("SIGINT");
    assert.equal(exit.code, 0, exit.stderr);
  },
});

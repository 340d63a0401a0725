/**
 * `watch` with its log_dir's disk full (a small tmpfs of its own: root on Linux only,
 * ignored elsewhere), filled while the watch runs: the pass that cannot write its lines
 * fails before it commits anything, as a run does, and is said as the log's problem with
 * the log's remedy, never as the backup disk's; the watch goes on (the retry's full rescan
 * catches up once there is room), and a stop then ends it as any stop does: no stack
 * trace, its lock released, its log closed and made of whole lines.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, poll } from "./helpers.ts";
import { DEADLINE_MS, WatchProcess } from "./watch_helpers.ts";
import { canMountTmpfs, withTmpfs } from "./tmpfs.ts";

const TMPFS = await canMountTmpfs();
const WATCH = { watch: { debounce_ms: 100, rescan_interval: 0 } };

/** Fills the disk holding `dir` to its last byte. */
function fill(dir: string): void {
  using f = Deno.openSync(join(dir, "filler"), { write: true, createNew: true });
  const piece = new Uint8Array(4096);
  try {
    while (true) f.writeSync(piece);
  } catch { /* full */ }
}

Deno.test({
  name: "watch: a pass whose log lines do not fit is said as the log's disk full; the watch " +
    "goes on, and stops cleanly",
  ignore: !TMPFS,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" }, WATCH);
    await withTmpfs(fx.logs, "size=64k", async () => {
      await using w = new WatchProcess(fx);
      await w.ready();
      fill(fx.logs);
      for (let i = 0; i < 300; i++) {
        Deno.writeTextFileSync(join(fx.source, `file-${i}.txt`), `${i}\n`);
      }
      await poll("a pass to fail", () => w.stderr.includes("Backup pass failed"), DEADLINE_MS);
      assert.match(w.stderr, /Backup pass failed: Cannot write the log .*its disk is full/);
      assert.doesNotMatch(w.stderr, /backup disk is full/);
      // Still watching, a moment later: the failure is no crash.
      await new Promise((r) => setTimeout(r, 1000));
      assert.doesNotMatch(w.stderr, /Uncaught|^\s+at /m, w.stderr);
      Deno.removeSync(join(fx.logs, "filler"));
      const exit = await w.stop();
      assert.doesNotMatch(exit.stderr, /Uncaught|^\s+at /m, exit.stderr);
      assert.equal(exit.code, 0, exit.stderr); // stopped by a signal, as any watch
      assert.equal(Deno.readTextFileSync(join(fx.backup, ".backup-tool", "lock")), "");
      const log = fx.lastLog();
      assert.match(log[log.length - 1], /^Watch stopped/, log.slice(-3).join("\n"));
      // Whole lines only: the one the disk cut short is not left for the next to end.
      const file = [...Deno.readDirSync(fx.logs)].find((e) => e.name.endsWith("-watch.log"));
      const raw = Deno.readTextFileSync(join(fx.logs, file!.name)).split("\n").slice(0, -1);
      assert.deepEqual(raw.filter((l) => !/^\d{4}-\d\d-\d\dT\S+Z [A-Z]/.test(l)), []);
    });
  },
});

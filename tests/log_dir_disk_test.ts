/**
 * A log_dir on a disk of its own (a small tmpfs: root on Linux only, ignored elsewhere).
 * Filling up while a run runs: the run fails naming the log (exit 1), and ends as a failed
 * run does, its lock released and its state closed, so the next run, with room again, does
 * not take it for a run that was killed. Full from the start: run and watch fail naming
 * the log's disk, not the backup's. Mounted read-only: the run is refused (exit 2)
 * with that disk's remedy, not told to check permissions no chmod would change. Every
 * mount is undone by the test that made it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture } from "./helpers.ts";
import { canMountTmpfs, withTmpfs } from "./tmpfs.ts";
import { LogError, RunLog } from "../src/log/runlog.ts";

const TMPFS = await canMountTmpfs();

Deno.test({
  name:
    "log_dir full during a run: the run fails naming the log, and the next is not told it was killed",
  ignore: !TMPFS,
  fn: async () => {
    // About 3,000 log lines (150 KB): more than the log's 64 KiB disk holds.
    const tree = Object.fromEntries(
      Array.from({ length: 3000 }, (_, i) => [`d/file-${String(i).padStart(4, "0")}.txt`, `${i}`]),
    );
    using fx = makeFixture(tree);
    await withTmpfs(fx.logs, "size=64k", async () => {
      const full = await fx.cli("run");
      assert.equal(full.code, 1, full.stderr);
      assert.match(full.stderr, /Cannot write the log .*its disk is full/);
      assert.equal(Deno.readTextFileSync(join(fx.backup, ".backup-tool", "lock")), "");
    });
    const next = await fx.cli("run");
    assert.equal(next.code, 0, next.stderr);
    assert.doesNotMatch(next.stderr, /did not finish|killed/, next.stderr);
  },
});

Deno.test({
  name: "log_dir on a disk mounted read-only: the run is refused naming it, with that remedy",
  ignore: !TMPFS,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" });
    await withTmpfs(fx.logs, "ro,size=64k", async () => {
      const r = await fx.cli("run");
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        /^Cannot write a log file in log_dir '.*logs': Read-only file system .*: its disk is mounted read-only: mount it read-write, or set log_dir to a folder on another disk\n$/,
      );
    });
  },
});

Deno.test({
  name: "log_dir full from the start: run and watch say the log's disk is full, not the backup's",
  ignore: !TMPFS,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" });
    await withTmpfs(fx.logs, "size=16k", async () => {
      const filler = Deno.openSync(join(fx.logs, "filler"), { write: true, createNew: true });
      try {
        while (true) filler.writeSync(new Uint8Array(4096));
      } catch {
        /* full */
      } finally {
        filler.close();
      }
      for (const command of ["run", "watch"]) {
        const r = await fx.cli(command);
        assert.equal(r.code, 1, r.stderr);
        assert.match(
          r.stderr,
          /^(Backup|Watch) failed: Cannot write the log '.*': No space left on device .*: its disk is full: free space there, or set log_dir to a folder on another disk\n$/,
        );
      }
      // Recorded as failed, as said: not as interrupted (killed, or the machine stopped).
      const history = await fx.cli("history");
      assert.match(history.stdout, /^1 +run +\S+ +\S+ +failed /m, history.stdout);
      assert.match(history.stdout, /^2 +watch +\S+ +\S+ +failed /m, history.stdout);
    });
  },
});

Deno.test({
  name:
    "log_dir full: a batch's lines a warning's flush could not write fail that batch's sync, not dropped unsaid",
  ignore: !TMPFS,
  fn: async () => {
    // A watch's warning (said on stderr, dropped from a full log: RunLog.said) flushed the
    // lines of the batch in progress with it: those were lost, and the batch's sync before
    // its commit found nothing left to write, so it committed moves no log named.
    using fx = makeFixture({});
    await withTmpfs(fx.logs, "size=16k", (dir) => {
      const log = RunLog.open(dir, "watch");
      log.line("Run started: watch");
      log.sync();
      const filler = join(dir, "filler");
      try {
        using f = Deno.openSync(filler, { write: true, createNew: true });
        while (true) f.writeSync(new Uint8Array(4096));
      } catch { /* full */ }
      log.line(`BACKUP: source/a.txt → backup/a.txt ${"x".repeat(8192)}`); // the batch's
      log.said("WARNING: an event named a path that is not valid UTF-8"); // dropped quietly
      assert.throws(() => log.sync(), LogError); // the batch fails before its commit
      Deno.removeSync(filler);
      log.line("BACKUP: source/a.txt → backup/a.txt"); // the retry's, with room again
      log.sync();
      log.close();
      const text = Deno.readTextFileSync(log.path);
      assert.match(text, /Run started: watch\n.*BACKUP: source\/a\.txt → backup\/a\.txt\n/);
    });
  },
});

/**
 * `watch` with its backup disk full: the backup root is a small tmpfs (root on Linux only;
 * ignored elsewhere), filled by a file beside the backup while the watch runs. Passes then
 * fail as a whole; the failure is said once, with run's remedy, and later event batches
 * wait for the retry's full rescan instead of each failing again.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { exists } from "../src/engine/fs/fsops.ts";
import { type Fixture, makeFixture, poll } from "./helpers.ts";
import { backedUp, DEADLINE_MS, readOrUndefined, WatchProcess } from "./watch_helpers.ts";
import { canMountTmpfs, withTmpfs } from "./tmpfs.ts";

const WATCH = { watch: { debounce_ms: 100, rescan_interval: 0 } };
const canMount = await canMountTmpfs();
if (!canMount) console.log("SKIP watch disk full tests: need root on Linux to mount a tmpfs");

/** Runs `body` with the fixture's backup root on a tmpfs of `size`, unmounted after. */
function onSmallDisk(fx: Fixture, size: string, body: () => Promise<void>): Promise<void> {
  return withTmpfs(fx.backup, `size=${size}`, body);
}

/** Fills the backup disk, then makes a file for a pass to store: that pass fails. */
async function failAPass(fx: Fixture, w: WatchProcess): Promise<void> {
  fill(fx.backup);
  Deno.writeTextFileSync(join(fx.source, "e.txt"), "");
  await poll("a pass to fail", () => w.stderr.includes("Backup pass failed"), DEADLINE_MS);
}

/** Fills the disk holding `dir` to its last byte, leaving `leave` bytes (about). */
function fill(dir: string, leave = 0, name = "filler"): void {
  using f = Deno.openSync(join(dir, name), { write: true, createNew: true });
  const piece = new Uint8Array(4096);
  try {
    while (true) f.writeSync(piece);
  } catch { /* full */ }
  if (leave > 0) f.truncateSync(Math.max(0, f.statSync().size - leave));
}

Deno.test({
  name: "watch: passes failing on a full backup disk are said once, with run's remedy, and " +
    "event batches wait for the retry",
  ignore: !canMount,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" }, WATCH);
    await onSmallDisk(fx, "10m", async () => {
      await using w = new WatchProcess(fx);
      await w.ready();
      fill(fx.backup);
      // One change at a time, each its own batch: each pass fails (the state has no room
      // once the reserve is used up).
      for (let i = 0; i < 12; i++) {
        Deno.writeTextFileSync(join(fx.source, `e${i}.txt`), "");
        await new Promise((r) => setTimeout(r, 300)); // a pace, not a wait for a result
      }
      const failures = () => fx.lastLog().filter((l) => l.includes("Backup pass failed"));
      await poll("two passes to fail", () => failures().length >= 2, DEADLINE_MS);
      const exit = await w.stop();
      const said = exit.stderr.split("\n").filter((l) => l.includes("Backup pass failed"));
      assert.equal(said.length, 1, exit.stderr);
      assert.match(
        said[0],
        /the backup disk is full \(.*\): free space on the disk of '.*backup'.*a full rescan follows in 30 s/,
      );
      // The passes that failed: the first two in a row; the batches after them waited.
      assert.equal(failures().length, 2, fx.lastLog().join("\n"));
    });
  },
});

Deno.test({
  name: "watch and run: a backup disk too full to open the state is said full, with the remedy",
  ignore: !canMount,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" }, WATCH);
    await onSmallDisk(fx, "10m", async () => {
      assert.equal((await fx.cli("run", "-q")).code, 0);
      // About 12 KB left: SQLite cannot make the WAL's index, and says "disk I/O error".
      fill(fx.backup, 12 << 10);
      const full = /the backup disk is full \(.*\): free space on the disk of '.*backup'/;
      const watch = await fx.cli("watch", "-q");
      assert.equal(watch.code, 1, watch.stderr);
      assert.match(watch.stderr, /^Watch failed: /);
      assert.match(watch.stderr, full);
      assert.match(watch.stderr, /then start the watch again/);
      const run = await fx.cli("run", "-q");
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, full);
      assert.match(run.stderr, /then run again/);
    });
  },
});

Deno.test({
  name: "watch: a session with problems whose end a full disk keeps from being recorded " +
    "says so and exits 1",
  ignore: !canMount,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" }, WATCH);
    await onSmallDisk(fx, "10m", async () => {
      await using w = new WatchProcess(fx);
      await w.ready();
      await failAPass(fx, w);
      // The room the reserve gave, taken too: nothing is left for the session's end.
      fill(fx.backup, 0, "filler2");
      const exit = await w.stop();
      assert.equal(exit.code, 1, exit.stderr);
      assert.match(
        exit.stderr,
        /Cannot record the end of the watch session \(run \d+\): .*: 'history' shows it as interrupted, though it finished with problems: the backup disk is full/,
      );
      const history = await fx.cli("history", "--json");
      const runs = JSON.parse(history.stdout).runs;
      assert.match(runs[runs.length - 1].outcome, /^interrupted/);
    });
  },
});

Deno.test({
  name: "watch: once space is freed, the retry's full rescan says backups work again, having " +
    "caught up a change made while passes failed",
  ignore: !canMount,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a1\n" }, WATCH);
    await onSmallDisk(fx, "10m", async () => {
      await using w = new WatchProcess(fx);
      await w.ready();
      fill(fx.backup);
      // New empty files, one batch each, until two passes failed (the state has no room):
      // the changes after them wait for the retry.
      const failures = () => fx.lastLog().filter((l) => l.includes("Backup pass failed"));
      let made = 0;
      for (; failures().length < 2; made++) {
        assert.ok(made < 100, `two passes to fail: ${fx.lastLog().join("\n")}`);
        Deno.writeTextFileSync(join(fx.source, `e${made}.txt`), "");
        await new Promise((r) => setTimeout(r, 300)); // a pace, not a wait for a result
      }
      Deno.writeTextFileSync(join(fx.source, "a.txt"), "a2, written while passes failed\n");
      const again = () => fx.lastLog().filter((l) => l.includes("Backups work again"));
      assert.deepEqual(again(), []);
      assert.equal(readOrUndefined(join(fx.backup, "a.txt")), "a1\n");
      Deno.removeSync(join(fx.backup, "filler"));
      // The retry comes 30 s after the first failure.
      await poll("backups to work again", () => again().length > 0, 30_000 + DEADLINE_MS)
        .catch((e) => assert.fail(`${e}: ${fx.lastLog().join("\n")}`));
      assert.equal(
        readOrUndefined(join(fx.backup, "a.txt")),
        "a2, written while passes failed\n",
        fx.lastLog().join("\n"),
      );
      for (let i = 0; i < made; i++) {
        assert.equal(readOrUndefined(join(fx.backup, `e${i}.txt`)), "", `e${i}.txt`);
      }
      const line = "NOTE: Backups work again: a full rescan went through after 2 failed passes " +
        "and caught up the changes made meanwhile";
      assert.deepEqual(again(), [line]);
      // Said once: a pass after it is no news.
      Deno.writeTextFileSync(join(fx.source, "b.txt"), "b\n");
      await backedUp(fx.backup, "b.txt", "b\n");
      const exit = await w.stop();
      assert.equal(exit.code, 0, exit.stderr);
      const said = exit.stderr.split("\n").filter((l) => l.includes("Backups work again"));
      assert.deepEqual(said, [line]);
      assert.equal(again().length, 1);
    });
  },
});

Deno.test({
  name: "watch: a pass that had nothing to record, the disk still full, does not say backups " +
    "work again",
  ignore: !canMount,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" }, WATCH);
    await onSmallDisk(fx, "10m", async () => {
      await using w = new WatchProcess(fx, ["--json"]);
      await w.ready();
      await failAPass(fx, w);
      // A file made and removed at once (an editor's): its pass finds nothing to record, so
      // it goes through though the state still has no room (the reserve is not made again).
      const passes = () => w.stdout.split("\n").filter((l) => l.startsWith("{")).length;
      const before = passes();
      Deno.writeTextFileSync(join(fx.source, "t.tmp"), "t\n");
      Deno.removeSync(join(fx.source, "t.tmp"));
      await poll("a pass to go through", () => passes() > before, DEADLINE_MS);
      const exit = await w.stop();
      assert.equal(exit.code, 0, exit.stderr);
      assert.ok(!exit.stderr.includes("Backups work again"), exit.stderr);
      assert.ok(
        !fx.lastLog().some((l) => l.includes("Backups work again")),
        fx.lastLog().join("\n"),
      );
    });
  },
});

Deno.test({
  name: "watch: an event batch that says backups work again after the retry's rescan found " +
    "no room for a file is followed by the full rescan it says catches up",
  ignore: !canMount,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" }, WATCH);
    await onSmallDisk(fx, "12m", async () => {
      await using w = new WatchProcess(fx);
      await w.ready();
      await failAPass(fx, w);
      // Room for the state's 8 MiB again, but not for big.bin: its passes go through, the
      // file failing for want of room (no line that backups work again), the retry's too.
      Deno.removeSync(join(fx.backup, "filler"));
      fill(fx.backup, (8 << 20) + (256 << 10));
      Deno.writeFileSync(join(fx.source, "big.bin"), new Uint8Array(1 << 20).fill(7));
      const rescans = () => fx.lastLog().filter((l) => l.startsWith("RESCAN done"));
      await poll("the retry's rescan", () => rescans().length > 0, 30_000 + DEADLINE_MS);
      assert.match(w.stderr, /ERROR: .*big\.bin: .*No space left on device/);
      assert.ok(!w.stderr.includes("Backups work again"), w.stderr);
      // Room for all: the next event batch says backups work again, and a full rescan
      // within 30 s catches up; big.bin changed no more, so only that rescan stores it.
      Deno.removeSync(join(fx.backup, "filler"));
      Deno.writeTextFileSync(join(fx.source, "b.txt"), "b\n");
      await poll(
        "backups to work again",
        () => w.stderr.includes("Backups work again"),
        DEADLINE_MS,
      );
      assert.match(w.stderr, /a pass went through after 1 failed pass; a full rescan within 30 s/);
      await poll(
        "big.bin in the backup",
        () => exists(join(fx.backup, "big.bin")),
        30_000 + DEADLINE_MS,
      )
        .catch((e) => assert.fail(`${e}: ${fx.lastLog().join("\n")}`));
      const exit = await w.stop();
      assert.equal(exit.code, 0, exit.stderr);
    });
  },
});

Deno.test({
  name: "watch: a session started without room for the 8 MiB kept for the state makes them " +
    "once the disk has room, and they record what fitted when it fills again",
  ignore: !canMount,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" }, WATCH);
    await onSmallDisk(fx, "12m", async () => {
      assert.equal((await fx.cli("run", "-q")).code, 0);
      const reserve = join(fx.backup, ".backup-tool", "reserve");
      Deno.removeSync(reserve);
      fill(fx.backup, 2 << 20); // room for the state's writes, not for the 8 MiB
      await using w = new WatchProcess(fx);
      await w.ready();
      assert.ok(!exists(reserve));
      Deno.writeTextFileSync(join(fx.source, "b.txt"), "b\n");
      await backedUp(fx.backup, "b.txt", "b\n");
      assert.ok(!exists(reserve), "made on a disk without room for it");
      // Space freed: the next pass makes the 8 MiB first.
      Deno.removeSync(join(fx.backup, "filler"));
      Deno.writeTextFileSync(join(fx.source, "c.txt"), "c\n");
      await backedUp(fx.backup, "c.txt", "c\n");
      assert.equal(Deno.statSync(reserve).size, 8 << 20, fx.lastLog().join("\n"));
      // The disk full again: the 8 MiB are given up to record an empty file stored.
      await failAPass(fx, w);
      assert.match(w.stderr, /the room kept for the state was used to record what this run/);
      const exit = await w.stop();
      assert.equal(exit.code, 0, exit.stderr);
      assert.ok(!exists(reserve));
      Deno.removeSync(join(fx.backup, "filler"));
      const history = await fx.cli("history", "e.txt");
      assert.equal(history.code, 0, history.stderr + history.stdout);
    });
  },
});

/** How `history` says the last session ended. */
async function lastOutcome(fx: Fixture): Promise<string> {
  const history = await fx.cli("history", "--json");
  const runs = JSON.parse(history.stdout).runs;
  return runs[runs.length - 1].outcome;
}

Deno.test({
  name: "watch: a session with problems ending on a full disk records its end in the 8 MiB " +
    "kept for the state",
  ignore: !canMount,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" }, WATCH);
    await onSmallDisk(fx, "12m", async () => {
      await using w = new WatchProcess(fx);
      await w.ready();
      fill(fx.backup);
      // A file that does not fit: a problem, nothing to record.
      Deno.writeFileSync(join(fx.source, "big.bin"), new Uint8Array(256 << 10).fill(7));
      await poll("big.bin to fail", () => /ERROR: .*big\.bin/.test(w.stderr), DEADLINE_MS);
      const exit = await w.stop();
      assert.equal(exit.code, 0, exit.stderr);
      assert.ok(!exit.stderr.includes("Cannot record the end"), exit.stderr);
      Deno.removeSync(join(fx.backup, "filler"));
      assert.equal(await lastOutcome(fx), "finished with problems");
    });
  },
});

Deno.test({
  name: "watch: a first pass ending on a full disk records that it is done in the 8 MiB kept " +
    "for the state",
  ignore: !canMount,
  fn: async () => {
    // No file: one just written would be read again (its change time too recent to trust).
    using fx = makeFixture({}, WATCH);
    await onSmallDisk(fx, "12m", async () => {
      assert.equal((await fx.cli("run", "-q")).code, 0);
      // The first pass held as it enters the source, the disk filled meanwhile: it has
      // nothing to store, and only its being done to record.
      const marker = join(fx.dir, "paused");
      await using w = new WatchProcess(fx, [], { BACKUP_TOOL_PAUSE: `folder:1:${marker}` });
      await poll("the first pass to be held", () => exists(marker), DEADLINE_MS);
      fill(fx.backup);
      Deno.removeSync(marker);
      await w.ready();
      const exit = await w.stop();
      assert.equal(exit.code, 0, exit.stderr);
      assert.ok(!exit.stderr.includes("Cannot record"), exit.stderr);
      Deno.removeSync(join(fx.backup, "filler"));
      assert.equal(await lastOutcome(fx), "finished", exit.stderr + fx.lastLog().join("\n"));
    });
  },
});

/**
 * The staging folder (`.backup-tool/tmp`, where new copies are written before they are
 * moved into place) immutable or append-only (`chattr +i`, `+a`, as root): a run, a watch
 * or `verify --repair` stops once, with the folder and the remedy, never failing each file;
 * before the session starts (exit 2, nothing changed), or when the flag is set meanwhile
 * (the pass held at a pause point: exit 1, the lock released). The next run after
 * `chattr -i` converges. Skipped, with a message, where chattr cannot set these flags.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, poll } from "../helpers.ts";
import { DEADLINE_MS, WatchProcess } from "../watch_helpers.ts";
import { listDir, pausedRun, sh } from "./util.ts";
import { whyNoChattr, withFlag } from "./chattr.ts";
import { changeAll, FILES, runStoppedOnce } from "./staging_files.ts";

const NO_CHATTR = await whyNoChattr();
if (NO_CHATTR) console.log(`SKIP chattr tests: ${NO_CHATTR}`);
const ignore = NO_CHATTR !== undefined || Deno.build.os !== "linux";

/** The refusal, with `then` (what to do once the flag is off) after the remedy. */
function refusal(then: string): RegExp {
  return new RegExp(
    String
      .raw`Cannot write new copies in the staging folder '.*\.backup-tool/tmp' \(Operation not permitted \(os error 1\): .*\): the folder is immutable or append-only \('lsattr -d' shows i or a\): take the flag off with 'chattr -i' or 'chattr -a'` +
      then,
  );
}

Deno.test({
  name: "a staging folder immutable or append-only at the start: refused once, nothing changed",
  ignore,
  fn: async () => {
    using fx = makeFixture(FILES);
    assert.equal((await fx.cli("run")).code, 0);
    changeAll(fx.source);
    const tmp = join(fx.backup, ".backup-tool", "tmp");
    const logs = listDir(fx.logs);
    for (const flag of ["+i", "+a"] as const) {
      const r = await withFlag(flag, [tmp], () => fx.cli("run"));
      // Before: exit 1 and an ERROR line for each file (+i), or each run's staged names
      // left in the folder for good (+a).
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, refusal(", then run again; nothing was changed\n$"));
      assert.equal(r.stderr.split("\n").length, 2, r.stderr);
      assert.equal(Deno.readTextFileSync(join(fx.backup, ".backup-tool", "lock")), "");
      assert.deepEqual(listDir(fx.logs), logs);
      const watch = await withFlag(flag, [tmp], () => fx.cli("watch"));
      assert.equal(watch.code, 2, watch.stderr);
      assert.match(watch.stderr, refusal(", then start the watch again; nothing was changed"));
      Deno.writeTextFileSync(join(fx.backup, "f0"), "damaged\n");
      const repair = await withFlag(flag, [tmp], () => fx.cli("verify", "--repair"));
      assert.equal(repair.code, 2, repair.stderr);
      assert.match(
        repair.stderr,
        refusal(String.raw`, then run 'verify --repair --config \S+' again; nothing was`),
      );
      Deno.writeTextFileSync(join(fx.backup, "f0"), "0\n");
    }
    // The probes an append-only folder kept are removed by the next run, and nothing else is.
    assert.ok(listDir(tmp).every((n) => /^probe-.*\.probe$/.test(n)), listDir(tmp).join());
    const next = await fx.cli("run");
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(listDir(tmp), []);
    assert.ok(!fx.lastLog().some((l) => l.startsWith("CLEANUP")), fx.lastLog().join("\n"));
    assert.equal(Deno.readTextFileSync(join(fx.backup, "f3")), "f3 new\n");
    assert.equal((await fx.cli("verify")).code, 0);
    // restore writes nothing there: it goes through with the flag on.
    Deno.removeSync(join(fx.source, "f1"));
    const restore = await withFlag("+i", [tmp], () => fx.cli("restore", "f1"));
    assert.equal(restore.code, 0, restore.stderr);
    assert.equal(Deno.readTextFileSync(join(fx.source, "f1")), "f1 new\n");
  },
});

Deno.test({
  name: "a staging folder made immutable during a run: the run stops once, then converges",
  ignore,
  fn: async () => {
    using fx = makeFixture(FILES);
    assert.equal((await fx.cli("run")).code, 0);
    changeAll(fx.source);
    const tmp = join(fx.backup, ".backup-tool", "tmp");
    // Held at the first file's read, its staged copy made: the flag set, the run goes on.
    await using run = await pausedRun(["run", "--config", fx.config], "reading:1", fx.dir);
    const out = await withFlag("+i", [tmp], async () => {
      run.resume();
      return await run.child.output();
    });
    const stderr = new TextDecoder().decode(out.stderr);
    // Before: exit 1 with an ERROR line for each of the 19 other files.
    assert.equal(out.code, 1, stderr);
    assert.match(stderr, runStoppedOnce(refusal));
    assert.equal(Deno.readTextFileSync(join(fx.backup, ".backup-tool", "lock")), "");
    assert.match(fx.lastLog().at(-1)!, /^Run failed: Cannot write new copies in the staging/);
    const next = await fx.cli("run");
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(listDir(tmp), []);
    for (const f of Object.keys(FILES)) {
      assert.equal(Deno.readTextFileSync(join(fx.backup, f)), `${f} new\n`);
    }
    assert.equal((await fx.cli("verify")).code, 0);
  },
});

Deno.test({
  name: "a staging folder made immutable during verify --repair: the repair stops once",
  ignore,
  fn: async () => {
    using fx = makeFixture(FILES);
    assert.equal((await fx.cli("run")).code, 0);
    for (const f of ["f1", "f2", "f3"]) Deno.writeTextFileSync(join(fx.backup, f), "damaged\n");
    const tmp = join(fx.backup, ".backup-tool", "tmp");
    await using repair = await pausedRun(
      ["verify", "--repair", "--config", fx.config],
      "repairing:1",
      fx.dir,
    );
    const out = await withFlag("+i", [tmp], async () => {
      repair.resume();
      return await repair.child.output();
    });
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    // Before: a NOT REPAIRED line for each copy, which blamed the source file as unreadable.
    assert.equal(out.code, 1, text);
    assert.ok(!text.includes("NOT REPAIRED"), text);
    assert.match(
      text,
      refusal(
        String.raw`, then run 'verify --repair --config \S+' again; the copies repaired before`,
      ),
    );
    assert.equal(Deno.readTextFileSync(join(fx.backup, ".backup-tool", "lock")), "");
    const again = await fx.cli("verify", "--repair");
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal((await fx.cli("verify")).code, 0);
  },
});

Deno.test({
  name: "watch: a staging folder made immutable is said once, not for each file of each pass",
  ignore,
  fn: async () => {
    using fx = makeFixture({}, { watch: { debounce_ms: 200, rescan_interval: 0 } });
    const marker = join(fx.dir, "paused");
    await using w = new WatchProcess(fx, [], { BACKUP_TOOL_PAUSE: `reading:1:${marker}` });
    await w.ready();
    const tmp = join(fx.backup, ".backup-tool", "tmp");
    for (const f of ["a", "b", "c"]) Deno.writeTextFileSync(join(fx.source, f), `${f}\n`);
    await poll("the first read to be held", () => listDir(fx.dir).includes("paused"), DEADLINE_MS);
    await sh(`chattr +i '${tmp}'`);
    try {
      Deno.removeSync(marker);
      await poll("the pass to fail", () => w.stderr.includes("Backup pass failed"), DEADLINE_MS);
      const exit = await w.stop();
      assert.equal(exit.code, 0, exit.stderr);
      assert.match(
        exit.stderr,
        new RegExp(
          "WARNING: Backup pass failed: " + refusal("; what was stored before is kept, the ")
            .source +
            "rest is left for the next pass: a full rescan follows in 30 s",
        ),
      );
      assert.equal(exit.stderr.split("Backup pass failed").length - 1, 1, exit.stderr);
      assert.ok(!exit.stderr.includes("ERROR:"), exit.stderr);
      assert.equal(Deno.readTextFileSync(join(fx.backup, ".backup-tool", "lock")), "");
    } finally {
      await sh(`chattr -i '${tmp}'`);
    }
    const next = await fx.cli("run");
    assert.equal(next.code, 0, next.stderr);
    assert.equal(Deno.readTextFileSync(join(fx.backup, "c")), "c\n");
  },
});

Deno.test({
  name:
    "verify --repair: a copy's own folder immutable is that copy's failure, not the staging folder's: the others are repaired",
  ignore,
  fn: async () => {
    using fx = makeFixture({ "d/a.txt": "a\n", "e/b.txt": "b\n" });
    assert.equal((await fx.cli("run")).code, 0);
    // Both copies lost; the one of d/ is made again in the staging folder and renamed
    // into d/, which refuses it: the rename names the staging folder's file too.
    for (const f of ["d/a.txt", "e/b.txt"]) Deno.removeSync(join(fx.backup, f));
    const repair = await withFlag("+i", [join(fx.backup, "d")], () => fx.cli("verify", "--repair"));
    const text = repair.stdout + repair.stderr;
    assert.equal(repair.code, 1, text);
    assert.doesNotMatch(text, /staging folder/);
    assert.match(
      text,
      /NOT REPAIRED: d\/a\.txt .*immutable.*then run 'verify --repair --config \S+' again/,
    );
    assert.equal(Deno.readTextFileSync(join(fx.backup, "e", "b.txt")), "b\n");
    const again = await fx.cli("verify", "--repair");
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal((await fx.cli("verify")).code, 0);
  },
});

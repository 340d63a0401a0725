/**
 * The staging folder (`.backup-tool/tmp`, where new copies are written before they are
 * moved into place) that this user may not write in (its mode, `chmod 555`, or
 * another user's), for real, as the unprivileged user `nobody` (see unprivileged.ts;
 * skipped, with a message, when not root or when neither setpriv nor runuser exists): a
 * run, a watch or `verify --repair` is refused once, naming the folder and the remedy,
 * never failing each file; before the session starts (exit 2, nothing changed), or when
 * the mode changes meanwhile (the run held at a pause point: exit 1). The next run after
 * `chmod u+rwx` converges.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture } from "../helpers.ts";
import { checkBackup, listDir, NOBODY, pausedRun, sh, type ToolResult } from "./util.ts";
import { unprivileged } from "./unprivileged.ts";
import { changeAll, FILES, runStoppedOnce } from "./staging_files.ts";

/** The refusal, with `then` (what to do once the folder may be written) after the remedy. */
function refusal(then: string): RegExp {
  return new RegExp(
    String
      .raw`Cannot write new copies in the staging folder '.*\.backup-tool/tmp' \(Permission denied \(os error 13\): .*\): this user may not write in it \(its owner and mode, which 'ls -ld' shows, do not let it\): give this user write access to it \('chmod u\+rwx' where the folder is this user's, else 'chown' it to this user, as root\), or run as the user who owns the backup root` +
      then,
  );
}

Deno.test("a staging folder this user may not write in (as nobody) at the start: refused once, nothing changed", async () => {
  await unprivileged(FILES, async ({ fx, run }) => {
    assert.equal((await run("run")).code, 0);
    changeAll(fx.source);
    const tmp = join(fx.backup, ".backup-tool", "tmp");
    const logs = listDir(fx.logs);
    // Its mode, then another user's (root's) folder.
    for (const deny of [`chmod 555 '${tmp}'`, `chown root:root '${tmp}'`]) {
      await sh(deny);
      await refusedAtStart(fx, run, tmp, logs);
    }
    const next = await run("run");
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(listDir(tmp), []);
    assert.equal(Deno.readTextFileSync(join(fx.backup, "f3")), "f3 new\n");
    assert.equal((await run("verify")).code, 0);
  });
});

/** run, watch and verify --repair refused at their start, nothing changed; `tmp` given back. */
async function refusedAtStart(
  fx: Fixture,
  run: (...args: string[]) => Promise<ToolResult>,
  tmp: string,
  logs: string[],
): Promise<void> {
  try {
    const r = await run("run");
    // Before: exit 1 and an ERROR line for each of the 20 files.
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, refusal(", then run again; nothing was changed\n$"));
    assert.equal(r.stderr.split("\n").length, 2, r.stderr);
    assert.equal(Deno.readTextFileSync(join(fx.backup, ".backup-tool", "lock")), "");
    assert.deepEqual(listDir(fx.logs), logs);
    assert.equal(Deno.readTextFileSync(join(fx.backup, "f3")), "3\n");
    const watch = await run("watch");
    assert.equal(watch.code, 2, watch.stderr);
    assert.match(watch.stderr, refusal(", then start the watch again; nothing was changed"));
    Deno.writeTextFileSync(join(fx.backup, "f0"), "damaged\n");
    const repair = await run("verify", "--repair");
    assert.equal(repair.code, 2, repair.stderr);
    assert.match(
      repair.stderr,
      refusal(String.raw`, then run 'verify --repair --config \S+' again; nothing was`),
    );
    assert.equal(Deno.readTextFileSync(join(fx.backup, "f0")), "damaged\n");
    Deno.writeTextFileSync(join(fx.backup, "f0"), "0\n");
  } finally {
    await sh(`chown ${NOBODY}:${NOBODY} '${tmp}' && chmod 755 '${tmp}'`);
  }
}

Deno.test("a staging folder made unwritable (as nobody) during a run: the run stops once, then converges", async () => {
  await unprivileged(FILES, async ({ fx, run, prefix }) => {
    assert.equal((await run("run")).code, 0);
    changeAll(fx.source);
    const tmp = join(fx.backup, ".backup-tool", "tmp");
    // Held at the first file's read, its staged copy made: the mode changed, the run goes on.
    await using paused = await pausedRun(
      ["run", "--config", fx.config],
      "reading:1",
      fx.dir,
      { prefix },
    );
    Deno.chmodSync(tmp, 0o555);
    let stderr;
    try {
      paused.resume();
      const out = await paused.child.output();
      stderr = new TextDecoder().decode(out.stderr);
      // Before: exit 1 with an ERROR line for each of the 19 other files.
      assert.equal(out.code, 1, stderr);
    } finally {
      Deno.chmodSync(tmp, 0o755);
    }
    assert.match(stderr, runStoppedOnce(refusal));
    assert.equal(Deno.readTextFileSync(join(fx.backup, ".backup-tool", "lock")), "");
    const next = await run("run");
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(listDir(tmp), []);
    for (const f of Object.keys(FILES)) {
      assert.equal(Deno.readTextFileSync(join(fx.backup, f)), `${f} new\n`);
    }
    assert.deepEqual(checkBackup(fx.backup).problems, []);
  });
});

Deno.test("a staging folder made unwritable (as nobody) during verify --repair: the repair stops once", async () => {
  await unprivileged(FILES, async ({ fx, run, prefix }) => {
    assert.equal((await run("run")).code, 0);
    for (const f of ["f1", "f2", "f3"]) Deno.writeTextFileSync(join(fx.backup, f), "damaged\n");
    const tmp = join(fx.backup, ".backup-tool", "tmp");
    await using repair = await pausedRun(
      ["verify", "--repair", "--config", fx.config],
      "repairing:1",
      fx.dir,
      { prefix },
    );
    Deno.chmodSync(tmp, 0o555);
    let text;
    try {
      repair.resume();
      const out = await repair.child.output();
      text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 1, text);
    } finally {
      Deno.chmodSync(tmp, 0o755);
    }
    // Before: a NOT REPAIRED line for each copy.
    assert.ok(!text.includes("NOT REPAIRED"), text);
    assert.match(
      text,
      refusal(
        String.raw`, then run 'verify --repair --config \S+' again; the copies repaired before`,
      ),
    );
    const again = await run("verify", "--repair");
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal((await run("verify")).code, 0);
  });
});

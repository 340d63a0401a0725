/**
 * Permission errors of a run, for real, as the unprivileged user `nobody` (see
 * unprivileged.ts; skipped, with a message, when not root or when neither setpriv nor
 * runuser exists). An unreadable file and an unreadable folder are reported (exit 1) and
 * their earlier copies are kept where they are: not archived as deleted, not replaced. An
 * unreadable source root, an unwritable log_dir or backup root, and a state folder nobody
 * may enter stop the run before anything changes (exit 2), a dead run's lock left as it was.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEAD_HOLDER_RECORD, loggedDeadHolderTakeover } from "../helpers.ts";
import { assertConverged, checkBackup, listDir, NOBODY, readState, sh, snapshot } from "./util.ts";
import { unprivileged } from "./unprivileged.ts";

Deno.test("unreadable file and folder (as nobody): reported, exit 1, earlier copies kept", async () => {
  await unprivileged({
    "a.txt": "readable\n",
    "secret.txt": "secret v1\n",
    "private/p1.txt": "private one\n",
    "private/sub/p2.txt": "private two\n",
    "other/o.txt": "other\n",
  }, async ({ fx, run }) => {
    const first = await run("run");
    assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
    const captured = [...snapshot(fx.source).values()].map((s) => s.hash);
    const before = readState(fx.backup).files.map((f) => f.path);

    Deno.writeTextFileSync(join(fx.source, "secret.txt"), "secret v2, unreadable\n");
    Deno.chmodSync(join(fx.source, "secret.txt"), 0o000);
    Deno.writeTextFileSync(join(fx.source, "new-secret.txt"), "never readable\n");
    Deno.chmodSync(join(fx.source, "new-secret.txt"), 0o000);
    Deno.chmodSync(join(fx.source, "private"), 0o000);
    Deno.writeTextFileSync(join(fx.source, "a.txt"), "readable, changed\n");
    await sh(`chown -R ${NOBODY}:${NOBODY} '${fx.source}'`);

    const plan = await run("plan", "--json");
    assert.equal(plan.code, 1, plan.stderr);
    assert.equal(JSON.parse(plan.stdout).counts.delete, 0, "plan: nothing counts as deleted");

    const r = await run("run");
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    for (const name of ["secret.txt", "new-secret.txt", "private"]) {
      assert.match(r.stderr, new RegExp(`ERROR: source/${name}: .*(ermission|denied)`), r.stderr);
    }
    assert.doesNotMatch(r.stderr, /Backup failed/);
    const check = checkBackup(fx.backup);
    assert.deepEqual(check.problems, []);
    // Still tracked, still at their latest location, nothing archived as deleted.
    assert.deepEqual(check.state.files.map((f) => f.path), before);
    assert.deepEqual(listDir(join(fx.backup, "_deleted")), []);
    assert.equal(Deno.readTextFileSync(join(fx.backup, "secret.txt")), "secret v1\n");
    assert.equal(Deno.readTextFileSync(join(fx.backup, "private/sub/p2.txt")), "private two\n");
    assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "readable, changed\n");
    for (const h of captured) assert.ok(check.contents.has(h), `earlier content lost: ${h}`);

    // Readable again: the next run picks everything up.
    Deno.chmodSync(join(fx.source, "secret.txt"), 0o644);
    Deno.chmodSync(join(fx.source, "new-secret.txt"), 0o644);
    Deno.chmodSync(join(fx.source, "private"), 0o755);
    const after = await run("run");
    assert.equal(after.code, 0, `${after.stdout}\n${after.stderr}`);
    assertConverged(fx, captured, "after permissions were restored");
  });
});

Deno.test("unreadable source root (as nobody): exit 2, the backup is not touched", async () => {
  await unprivileged({ "a.txt": "a\n", "b/c.txt": "c\n" }, async ({ fx, run }) => {
    const first = await run("run");
    assert.equal(first.code, 0, first.stderr);
    const before = snapshot(fx.backup, [".backup-tool"]);
    const logs = [...Deno.readDirSync(fx.logs)].length;
    Deno.chmodSync(fx.source, 0o000);
    try {
      const r = await run("run");
      assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, /Cannot read source/);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    } finally {
      Deno.chmodSync(fx.source, 0o755);
    }
    assert.deepEqual(snapshot(fx.backup, [".backup-tool"]), before);
    assert.equal([...Deno.readDirSync(fx.logs)].length, logs, "no log file for a refused run");
    assert.equal(readState(fx.backup).files.length, 2);
  });
});

Deno.test("unwritable log_dir or backup root (as nobody): exit 2, nothing created", async () => {
  await unprivileged({ "a.txt": "a\n" }, async ({ fx, run }) => {
    for (const key of ["log_dir", "backup_root"]) {
      const locked = join(fx.dir, `locked-${key}`);
      Deno.mkdirSync(locked, { mode: 0o755 }); // owned by root: nobody cannot write in it
      Deno.chmodSync(locked, 0o755);
      const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
      Deno.writeTextFileSync(fx.config, JSON.stringify({ ...cfg, [key]: join(locked, "x") }));
      const r = await run("run");
      assert.equal(r.code, 2, `${key}: ${r.stdout}\n${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(
        r.stderr,
        key === "log_dir"
          ? /^Cannot write a log file in log_dir/
          : /^Cannot create the backup root/,
      );
      assert.deepEqual(listDir(locked), [], key);
      assert.deepEqual(listDir(fx.backup), [], `${key}: the backup root was created`);
      assert.deepEqual(listDir(fx.logs), [], `${key}: a log was left`);
      assert.throws(() => Deno.lstatSync(fx.logs), Deno.errors.NotFound, `${key}: log_dir made`);
      Deno.writeTextFileSync(fx.config, JSON.stringify(cfg));
    }
  });
});

Deno.test("unwritable log_dir (as nobody) after a killed run: exit 2, the lock file as it was, the next run logs the takeover", async () => {
  await unprivileged({ "a.txt": "a\n" }, async ({ fx, run }) => {
    assert.equal((await run("run")).code, 0);
    const lock = join(fx.backup, ".backup-tool", "lock");
    const record = DEAD_HOLDER_RECORD;
    Deno.writeTextFileSync(lock, record);
    const mtime = Deno.statSync(lock).mtime?.getTime();
    await sh(`chown root:root '${fx.logs}' && chmod 755 '${fx.logs}'`);
    const r = await run("run");
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /^Cannot write a log file in log_dir/);
    assert.equal(Deno.readTextFileSync(lock), record, "the dead run's record was lost");
    assert.equal(Deno.statSync(lock).mtime?.getTime(), mtime);
    await sh(`chown -R ${NOBODY}:${NOBODY} '${fx.logs}'`);
    assert.equal((await run("run")).code, 0);
    assert.ok(
      loggedDeadHolderTakeover(fx.lastLog()),
      fx.lastLog().join("\n"),
    );
  });
});

Deno.test("a state folder nobody may enter (as nobody): run exits 2 naming it, no log left", async () => {
  await unprivileged({ "a.txt": "a\n" }, async ({ fx, run }) => {
    assert.equal((await fx.cli("run")).code, 0); // as root: .backup-tool is root's
    const stateDir = join(fx.backup, ".backup-tool");
    await sh(
      `chmod 777 '${fx.backup}' && chmod 700 '${stateDir}' && chown -R ${NOBODY} '${fx.logs}'`,
    );
    const logs = listDir(fx.logs);
    const r = await run("run");
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
    assert.match(
      r.stderr,
      /^Cannot (lock backup root|create the state folder).*: Permission denied/,
    );
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.deepEqual(listDir(fx.logs), logs, "a log was left");
  });
});

Deno.test("a folder of the backup root nobody may write in (as nobody): said with the remedy, then converges", async () => {
  await unprivileged({ "a.txt": "a1\n", "b.txt": "b1\n" }, async ({ fx, run }) => {
    assert.equal((await run("run")).code, 0);
    Deno.writeTextFileSync(join(fx.source, "a.txt"), "a2\n");
    assert.equal((await run("run")).code, 0);
    // versions/a.txt given to root, as a restore or a copy by hand as root leaves it.
    const versions = join(fx.backup, "versions", "a.txt");
    await sh(`chown root:root '${versions}'`);
    Deno.writeTextFileSync(join(fx.source, "a.txt"), "a3\n");
    Deno.writeTextFileSync(join(fx.source, "b.txt"), "b2\n");
    const r = await run("run");
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.split("\n").filter((l) => l.startsWith("ERROR: source/a.txt:"));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0],
      /\(os error 13\).*: this user may not write in a folder of the backup root on the way .*: run as the user who owns the backup root, or give this one write access to its folders, then run again$/,
    );
    assert.equal(Deno.readTextFileSync(join(fx.backup, "b.txt")), "b2\n");
    await sh(`chown ${NOBODY}:${NOBODY} '${versions}'`);
    assert.equal((await run("run")).code, 0);
    assert.deepEqual(listDir(versions), ["v1.bak", "v2.bak"]);
    assert.equal((await run("verify")).code, 0);
  });
});

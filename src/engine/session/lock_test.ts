/**
 * Unit tests of the backup root's lock: a second taker is refused, naming the holder; a
 * record left by a holder that died is reported as stale; a clean release leaves none.
 */
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { join } from "node:path";
import { acquireLock, currentHolder, currentHolderRecord } from "./lock.ts";
import { LockedError, PreflightError } from "../errors.ts";
import { withDir } from "../test_util.ts";

Deno.test("acquireLock: a second taker is refused and told who holds it", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = join(dir, "lock");
    const lock = acquireLock(file);
    try {
      assert.deepEqual(lock.staleHolders.records, []);
      assert.throws(() => acquireLock(file), LockedError);
      assert.throws(
        () => acquireLock(file),
        new RegExp(`a run \\(pid ${Deno.pid} on .*\\) holds`),
      );
    } finally {
      lock.release();
    }
    const again = acquireLock(file);
    assert.deepEqual(again.staleHolders.records, []); // released cleanly: no record left
    again.release();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("acquireLock: the record of a holder that died is reported as stale", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = join(dir, "lock");
    const record = '{"pid":4242,"host":"h","started":"2026-01-01T00:00:00.000Z"}';
    Deno.writeTextFileSync(file, `${record}\n`);
    const lock = acquireLock(file);
    assert.deepEqual(lock.staleHolders.records, [record]);
    lock.release();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("acquireLock: released with restore, the lock file holds its record and time again", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = join(dir, "lock");
    const record = '{"pid":4242,"host":"h","started":"2026-01-01T00:00:00.000Z"}\n';
    const longAgo = new Date("2020-01-02T03:04:05.678Z");
    Deno.writeTextFileSync(file, record);
    Deno.utimeSync(file, longAgo, longAgo);
    acquireLock(file).release({ restore: true });
    assert.equal(Deno.readTextFileSync(file), record);
    assert.equal(Deno.statSync(file).mtime?.getTime(), longAgo.getTime());
    const again = acquireLock(file);
    assert.deepEqual(again.staleHolders.records, [record.trim()]); // the next taker sees it
    again.takeoverLogged();
    again.release();
    assert.equal(Deno.readTextFileSync(file), "");
    // More than a record (not all read at the lock): emptied, as any release does.
    Deno.writeTextFileSync(file, "x".repeat(5000));
    acquireLock(file).release({ restore: true });
    assert.equal(Deno.readTextFileSync(file), "");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test(
  "acquireLock: a stale lock's record is carried in the taker's own until its takeover is logged, and given back by a release before",
  withDir((dir) => {
    const file = join(dir, "lock");
    const dead = '{"pid":4242,"host":"h","started":"2026-01-01T00:00:00.000Z","command":"run"}';
    Deno.writeTextFileSync(file, `${dead}\n`);
    // Killed before it logged the takeover: its record names the dead holder too.
    const killed = acquireLock(file);
    const carrying = JSON.parse(Deno.readTextFileSync(file));
    assert.equal(carrying.pid, Deno.pid);
    assert.deepEqual(carrying.tookOver, [dead]);
    killed.release({ restore: true }); // as the record is left (the lock dropped with the process)
    Deno.writeTextFileSync(file, `${JSON.stringify(carrying)}\n`);
    // The next taker finds both, the latest first.
    const next = acquireLock(file);
    const { tookOver: _, ...killedOwn } = carrying;
    assert.deepEqual(next.staleHolders.records, [JSON.stringify(killedOwn), dead]);
    assert.deepEqual(JSON.parse(Deno.readTextFileSync(file)).tookOver, [
      JSON.stringify(killedOwn),
      dead,
    ]);
    // Released before it logged them (it failed): the lock file as it found it.
    next.release();
    assert.deepEqual(JSON.parse(Deno.readTextFileSync(file)), carrying);
    // Logged: its record carries nothing more, and its release empties the file.
    const logged = acquireLock(file);
    logged.takeoverLogged();
    const own = JSON.parse(Deno.readTextFileSync(file));
    assert.deepEqual(Object.keys(own), ["pid", "host", "started", "command"]);
    logged.release();
    assert.equal(Deno.readTextFileSync(file), "");
  }),
);

Deno.test("currentHolder: names a live holder, nothing when the lock is free or never made", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = join(dir, "lock");
    assert.equal(currentHolder(file), undefined); // no lock file yet
    const lock = acquireLock(file, "watch");
    try {
      assert.match(currentHolder(file)!, new RegExp(`^a watch \\(pid ${Deno.pid} on .*\\)$`));
    } finally {
      lock.release();
    }
    assert.equal(currentHolder(file), undefined);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test({
  name: "acquireLock: a lock file removed by hand while held still keeps a second taker out",
  ignore: Deno.build.os === "windows", // an open file cannot be removed there
  fn: () => {
    const dir = Deno.makeTempDirSync();
    try {
      const file = join(dir, "lock");
      const lock = acquireLock(file, "watch");
      try {
        Deno.removeSync(file);
        assert.throws(() => acquireLock(file), LockedError);
        assert.throws(
          () => acquireLock(file),
          /another process holds .* locked \(a run or watch session whose lock file was removed/,
        );
        assert.equal(currentHolder(file), "another run");
        // Its holder goes on (a run used to fail as if the backup root were replaced).
        assert.equal(lock.stillHeld(), true);
      } finally {
        lock.release();
      }
      assert.equal(currentHolder(file), undefined);
      acquireLock(file).release(); // free again
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "acquireLock: a symlink in the lock file's place is refused, its target left whole",
  ignore: Deno.build.os === "windows", // symlinks need a privilege there
  fn: withDir((dir) => {
    const target = join(dir, "someone's file");
    Deno.writeTextFileSync(target, "precious\n");
    Deno.symlinkSync(target, join(dir, "lock"));
    assert.throws(() => acquireLock(join(dir, "lock")), PreflightError);
    assert.throws(() => acquireLock(join(dir, "lock")), /is not a file of its own/);
    assert.equal(Deno.readTextFileSync(target), "precious\n");
  }),
});

Deno.test({
  name: "acquireLock: a dangling symlink in the lock file's place makes nothing at its target",
  ignore: Deno.build.os === "windows", // symlinks need a privilege there
  fn: withDir((dir) => {
    const target = join(dir, "nologin");
    Deno.symlinkSync(target, join(dir, "lock"));
    assert.throws(() => acquireLock(join(dir, "lock")));
    assert.throws(() => Deno.lstatSync(target), Deno.errors.NotFound);
  }),
});

Deno.test(
  "acquireLock: a hard link in the lock file's place is refused, its other name left whole",
  withDir((dir) => {
    const victim = join(dir, "someone's file");
    Deno.writeTextFileSync(victim, "precious\n");
    Deno.linkSync(victim, join(dir, "lock"));
    assert.throws(() => acquireLock(join(dir, "lock")), /is not a file of its own/);
    assert.equal(Deno.readTextFileSync(victim), "precious\n");
  }),
);

Deno.test({
  name:
    "acquireLock: a lock whose folder was replaced (a disk mounted over the root) is no longer held",
  ignore: Deno.build.os === "windows",
  fn: () => {
    const dir = Deno.makeTempDirSync();
    try {
      const state = join(dir, "state");
      Deno.mkdirSync(state);
      const lock = acquireLock(join(state, "lock"));
      try {
        assert.equal(lock.stillHeld(), true);
        Deno.renameSync(state, join(dir, "moved"));
        Deno.mkdirSync(state);
        assert.equal(lock.stillHeld(), false);
        Deno.writeTextFileSync(join(state, "lock"), "");
        assert.equal(lock.stillHeld(), false);
      } finally {
        lock.release();
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

/** Whether a pid namespace can be made here (Linux, util-linux's unshare, user namespaces). */
function canUnsharePid(): boolean {
  if (Deno.build.os !== "linux") return false;
  try {
    const args = ["--map-root-user", "--pid", "--fork", "true"];
    return new Deno.Command("unshare", { args, stderr: "null" }).outputSync().code === 0;
  } catch {
    return false;
  }
}

Deno.test({
  name: "acquireLock: a holder in a pid namespace below this one (a container, with the host's " +
    "name) is named as its record names it, not taken for a holder that died",
  ignore: !canUnsharePid(),
  fn: withDir(async (dir) => {
    const file = join(dir, "lock");
    // Its own pid there is 1, as its record says; /proc/locks here shows another.
    const record = { pid: 1, host: hostname(), started: new Date().toISOString(), command: "run" };
    Deno.writeTextFileSync(file, JSON.stringify(record) + "\n");
    const holder = new Deno.Command("unshare", {
      args: ["--map-root-user", "--pid", "--fork", "flock", file, "cat"],
      stdin: "piped",
      stdout: "null",
    }).spawn();
    try {
      using probe = Deno.openSync(file, { read: true });
      for (let i = 0; probe.tryLockSync(false); i++) {
        probe.unlockSync();
        assert.ok(i < 500, "flock never took the lock");
        await new Promise((r) => setTimeout(r, 10));
      }
      const named = new RegExp(`^Cannot lock backup root: a run \\(pid 1 on .*\\) holds '`);
      assert.throws(
        () => acquireLock(file),
        (e) => e instanceof LockedError && named.test(e.message),
      );
      const now = currentHolderRecord(file);
      assert.equal(now?.gone, undefined);
      assert.match(now?.text ?? "", /^a run \(pid 1 on /);
    } finally {
      await holder.stdin.close();
      await holder.status;
    }
  }),
});

Deno.test({
  name: "acquireLock: a lock held a moment longer by another process (a child forked by a " +
    "thread of the holder's, not yet exec'd) is waited for, not taken for another run",
  ignore: Deno.build.os === "windows" || !hasFlock(),
  fn: withDir(async (dir) => {
    const state = join(dir, "state");
    Deno.mkdirSync(state);
    const file = join(state, "lock");
    Deno.writeTextFileSync(file, "");
    // The folder (then the lock file) held for 20 ms by `flock`, as a forked child holds the
    // descriptors it was given until it execs: a test suite's in-process runs met it.
    for (const held of [state, file]) {
      const holder = new Deno.Command("flock", { args: ["-x", held, "sleep", "0.02"] }).spawn();
      using probe = Deno.openSync(held, { read: true });
      for (let i = 0; probe.tryLockSync(true); i++) {
        probe.unlockSync();
        assert.ok(i < 500, "flock never took the lock");
        await new Promise((r) => setTimeout(r, 2));
      }
      const lock = acquireLock(file);
      lock.release();
      assert.equal((await holder.status).code, 0);
    }
  }),
});

/** Whether util-linux's flock(1) is here to hold a lock from another process. */
function hasFlock(): boolean {
  try {
    return new Deno.Command("flock", { args: ["--version"], stdout: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}

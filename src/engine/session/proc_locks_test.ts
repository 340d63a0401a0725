/**
 * Unit tests of the /proc/locks lookup: the pids holding a flock on an inode of a device,
 * device numbers as /proc/locks writes them, and a process known by another pid in its own
 * pid namespace, and a lookup made while other processes' locks come and go.
 */
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { join } from "node:path";
import { deviceName, flockHolders, namesAnotherHolder, pidsAsProcShows } from "./proc_locks.ts";

Deno.test("flockHolders: the pids /proc/locks shows holding a flock on an inode, waiters left out", () => {
  const table = [
    "1: FLOCK  ADVISORY  WRITE 5193 fe:00:2554720 0 EOF",
    "1: -> FLOCK  ADVISORY  WRITE 5200 fe:00:2554720 0 EOF",
    "2: FLOCK  ADVISORY  WRITE 0 08:01:77 0 EOF",
    "3: POSIX  ADVISORY  READ 5193 fe:00:2554720 128 128",
    "4: OFDLCK ADVISORY  WRITE -1 fe:00:2554720 0 EOF",
    "",
  ].join("\n");
  assert.deepEqual(flockHolders(table, 2554720), [5193]);
  assert.deepEqual(flockHolders(table, 77), [0]); // a holder in another pid namespace
  assert.deepEqual(flockHolders(table, 12), []);
});

Deno.test("flockHolders: a lock on another device's file of the same inode number is not the lock file's", () => {
  const table = [
    "1: FLOCK  ADVISORY  WRITE 5193 fe:00:2554720 0 EOF",
    "2: FLOCK  ADVISORY  WRITE 1 00:19:2554720 0 EOF",
    "",
  ].join("\n");
  assert.deepEqual(flockHolders(table, 2554720, 0xfe00), [5193]);
  assert.deepEqual(flockHolders(table, 2554720, 25), [1]); // 00:19
  // No line on the lock file's device (overlayfs may name another): the inode's lines.
  assert.deepEqual(flockHolders(table, 2554720, 0x801), [5193, 1]);
});

Deno.test("deviceName: Linux's device numbers as /proc/locks writes them", () => {
  assert.equal(deviceName(0xfe00), "fe:00");
  assert.equal(deviceName(0x801), "08:01");
  assert.equal(deviceName(25), "00:19");
  assert.equal(deviceName(0x100fe05), "fe:1005"); // a minor above 255
  assert.equal(deviceName(0x100000023407), "1234:07"); // a major above 4095
});

Deno.test("pidsAsProcShows: a process in a pid namespace below /proc's is not known by /proc's pid", () => {
  assert.equal(pidsAsProcShows("Name:\tdeno\nPid:\t5193\nNSpid:\t5193\n", 5193), true);
  assert.equal(pidsAsProcShows("Pid:\t5193\nNSpid:\t5193\t1\n", 5193), false);
  assert.equal(pidsAsProcShows("Pid:\t5193\n", 5193), false); // before Linux 4.1: cannot tell
  assert.equal(pidsAsProcShows("", 5193), false); // no such process now
});

Deno.test({
  name: "namesAnotherHolder: told right while other processes' locks come and go (/proc/locks " +
    "read whole, not record by record, and again while the lock's line is missing)",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const dir = Deno.makeTempDirSync();
    // Two processes locking and unlocking 40 files each without pause, as a test suite's
    // SQLite connections do: /proc/locks read in small pieces skipped the lock file's line
    // now and then (49 to 136 answers in 2,000 wrong here), which named a dead run as the holder.
    const churn = `const fs = [];
      for (let i = 0; i < 40; i++) {
        const p = Deno.args[0] + "/c" + Deno.args[1] + "-" + i;
        Deno.writeTextFileSync(p, "");
        fs.push(Deno.openSync(p, { read: true }));
      }
      console.log("locking");
      for (;;) { for (const f of fs) f.lockSync(true); for (const f of fs) f.unlockSync(); }`;
    const churners = [0, 1].map((n) =>
      new Deno.Command(Deno.execPath(), {
        args: ["eval", churn, dir, String(n)],
        stdout: "piped",
      }).spawn()
    );
    try {
      for (const c of churners) {
        const reader = c.stdout.getReader();
        await reader.read(); // "locking": its locks come and go from now on
        reader.releaseLock();
        await c.stdout.cancel();
      }
      const lock = join(dir, "lock");
      const record = JSON.stringify({ pid: Deno.pid + 1, host: hostname() });
      Deno.writeTextFileSync(lock, record);
      using held = Deno.openSync(lock, { read: true });
      held.lockSync(true);
      using f = Deno.openSync(lock, { read: true });
      let wrong = 0;
      for (let i = 0; i < 2000; i++) if (!namesAnotherHolder(record, f)) wrong++;
      assert.equal(wrong, 0, `${wrong} answers in 2,000 took the record's pid for the holder`);
    } finally {
      for (const c of churners) c.kill();
      await Promise.all(churners.map((c) => c.status));
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

/**
 * Unit tests of the /proc/locks lookup: the pids holding a flock on an inode of a device,
 * device numbers as /proc/locks writes them, and a process known by another pid in its own
 * pid namespace.
 */
import assert from "node:assert/strict";
import { deviceName, flockHolders, pidsAsProcShows } from "./proc_locks.ts";

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

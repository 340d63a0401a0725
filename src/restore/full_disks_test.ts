/** Unit tests of the disks a restore found full (full_disks.ts). */
import assert from "node:assert/strict";
import { join } from "node:path";
import { FullDisks, noRoom } from "./full_disks.ts";
import { storedCopy } from "./test_copies.ts";
import type { RestoreItem } from "./restore_item.ts";

const item = (dest: string, base: string): RestoreItem => ({
  copy: storedCopy("a.txt", "a\n"),
  dest,
  base,
  toDir: true,
});

Deno.test("FullDisks: a quota refused marks its disk: files bound for it, in folders not made yet too, are not tried", () => {
  const to = Deno.makeTempDirSync();
  try {
    const disks = new FullDisks();
    assert.equal(disks.skipped(item(join(to, "a.txt"), to)), undefined);
    const other = disks.seen({ ...item(join(to, "x.txt"), to), outcome: "failed", reason: "x" });
    assert.equal(other.fullDisk, undefined); // another failure says nothing of the disk
    // Nor one whose text says so, in a path it names: only the error's own code does.
    const named = `a folder is in the way at '${to}/No space left on device (os error 28)'`;
    const odd = disks.seen({ ...item(join(to, "y.txt"), to), outcome: "failed", reason: named });
    assert.equal(odd.fullDisk, undefined);
    assert.equal(disks.skipped(item(join(to, "a.txt"), to)), undefined);
    const error = "Disk quota exceeded (os error 122)";
    const refused = { ...item(join(to, "a.txt"), to), outcome: "failed" as const, noRoom: true };
    const seen = disks.seen({ ...refused, reason: error });
    assert.deepEqual(seen.fullDisk, { at: to, error, skipped: false });
    const later = disks.skipped(item(join(to, "new", "deeper", "b.txt"), to));
    assert.deepEqual(later?.fullDisk, { at: to, error, skipped: true });
    assert.equal(later?.outcome, "failed");
    assert.match(
      later!.reason!,
      /^not tried: its disk was found full restoring to '.*' \(Disk quota/,
    );
    // Another disk goes on.
    if (Deno.build.os === "linux") {
      assert.equal(disks.skipped(item("/proc/x/b.txt", "/proc")), undefined);
    }
  } finally {
    Deno.removeSync(to, { recursive: true });
  }
});

Deno.test("noRoom: told by the error's code or the system's words, never by a path's", () => {
  const coded = (message: string, code?: string) => Object.assign(new Error(message), { code });
  assert.equal(noRoom(coded("No space left on device (os error 28): open '/a'", "ENOSPC")), true);
  assert.equal(noRoom(coded("Disk quota exceeded (os error 122): write '/a'", "EDQUOT")), true);
  // Said again with a remedy (a folder not made, a flush): the cause is looked at.
  const cause = coded("ENOSPC: no space left on device, fsync", "ENOSPC");
  assert.equal(noRoom(new Error("Cannot flush '/a' to disk: …: check the disk", { cause })), true);
  // Without a code (Deno names no EDQUOT): the system's words, before the path.
  assert.equal(noRoom(new Error("Disk quota exceeded (os error 122): write '/a'")), true);
  assert.equal(noRoom(new Error("There is not enough space on the disk. (os error 112)")), true);
  // Another failure, whose paths say so: no.
  const eacces = coded(
    "Permission denied (os error 13): open '/No space left on device'",
    "EACCES",
  );
  assert.equal(noRoom(eacces), false);
  assert.equal(noRoom(new Error("a folder is in the way at '/x/disk quota exceeded.txt'")), false);
  assert.equal(noRoom("No space left on device"), false);
});

Deno.test("FullDisks: a device number 0 (no volume serial: some Windows file systems) is no disk, each restore folder its own", () => {
  const to = Deno.makeTempDirSync();
  try {
    const a = join(to, "a"), b = join(to, "b");
    Deno.mkdirSync(a);
    Deno.mkdirSync(b);
    const disks = new FullDisks((path) => ({ ...Deno.statSync(path), dev: 0 }));
    const full = { ...item(join(a, "x.txt"), a), outcome: "failed" as const, noRoom: true };
    assert.notEqual(
      disks.seen({ ...full, reason: "There is not enough space on the disk." }).fullDisk,
      undefined,
    );
    assert.notEqual(disks.skipped(item(join(a, "y.txt"), a)), undefined);
    // Another folder whose device is not known either: tried.
    assert.equal(disks.skipped(item(join(b, "y.txt"), b)), undefined);
  } finally {
    Deno.removeSync(to, { recursive: true });
  }
});

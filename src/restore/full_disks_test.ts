/** Unit tests of the disks a restore found full (full_disks.ts). */
import assert from "node:assert/strict";
import { join } from "node:path";
import { FullDisks } from "./full_disks.ts";
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
    const error = "Disk quota exceeded (os error 122)";
    const seen = disks.seen({ ...item(join(to, "a.txt"), to), outcome: "failed", reason: error });
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

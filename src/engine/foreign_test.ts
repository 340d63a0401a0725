/**
 * The disk probe on this machine's disk: kinds by storage path, and whether the backup
 * root's disk ignores case (a disk that does cannot be made here: the kernel has no
 * Unicode tables for ext4's casefold, nor vfat; the planner's side of it is in plan_test.ts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DiskProbe } from "./foreign.ts";

Deno.test("DiskProbe: kinds by storage path; a disk that keeps case is not taken to ignore it", () => {
  const root = Deno.makeTempDirSync();
  const disk = new DiskProbe(root);
  try {
    assert.equal(disk.ignoresCase(), false, "no state folder yet");
    Deno.mkdirSync(join(root, ".backup-tool"));
    Deno.mkdirSync(join(root, "a/b"), { recursive: true });
    Deno.writeTextFileSync(join(root, "a/b/c.txt"), "c");
    Deno.symlinkSync("loop", join(root, "loop"));
    assert.equal(disk.kind("a"), "dir");
    assert.equal(disk.kind("a/b/c.txt"), "file");
    assert.equal(disk.kind("A/b/c.txt"), undefined);
    assert.equal(disk.kind("loop"), "file"); // a symlink is in the way like a file
    assert.equal(disk.kind("loop/x"), undefined);
    assert.equal(disk.ignoresCase(), false);
    // Someone's own folder named like the state folder in capitals is another entry.
    Deno.mkdirSync(join(root, ".BACKUP-TOOL"));
    assert.equal(disk.ignoresCase(), false);
  } finally {
    disk.close();
    Deno.removeSync(root, { recursive: true });
  }
});

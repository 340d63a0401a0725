import assert from "node:assert/strict";
import { walWorksOn } from "./connection.ts";

Deno.test("walWorksOn: not on FUSE or network file systems, where shared memory may fail", () => {
  for (const t of ["ext4", "xfs", "btrfs", "tmpfs", "zfs", undefined]) assert.ok(walWorksOn(t), t);
  for (const t of ["fuseblk", "fuse", "fuse.sshfs", "nfs4", "cifs", "9p", "virtiofs"]) {
    assert.ok(!walWorksOn(t), t);
  }
});

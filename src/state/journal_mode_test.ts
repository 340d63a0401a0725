/** Unit tests of the state's journal choice: WAL where the file system's shared memory works. */
import assert from "node:assert/strict";
import { walWorksOn } from "./journal_mode.ts";

Deno.test("walWorksOn: not on FUSE or network file systems, where shared memory may fail", () => {
  for (const t of ["ext4", "xfs", "btrfs", "tmpfs", "zfs", undefined]) assert.ok(walWorksOn(t), t);
  for (const t of ["fuseblk", "fuse", "fuse.sshfs", "nfs4", "cifs", "9p", "virtiofs"]) {
    assert.ok(!walWorksOn(t), t);
  }
  // What macOS's mount table names (and Windows' shares, as mounts.ts names them).
  for (const t of ["smbfs", "nfs", "afpfs", "webdav", "macfuse", "osxfuse"]) {
    assert.ok(!walWorksOn(t), t);
  }
  for (const t of ["apfs", "hfs", "exfat", "msdos"]) assert.ok(walWorksOn(t), t);
});

/** Tests of the mount table lookup that decides where syncfs is trusted, and of the handle. */
import assert from "node:assert/strict";
import { openSyncFs } from "./syncfs.ts";
import { fileSystemType } from "./mounts.ts";

// Lines in the format of /proc/self/mountinfo (see proc(5)); optional fields vary in count.
const MOUNTINFO = [
  "22 1 252:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
  "23 22 0:21 / /proc rw,nosuid - proc proc rw",
  "30 22 0:25 / /mnt/nas rw - nfs4 server:/export rw,vers=4.2",
  "31 22 7:0 / /mnt/my\\040disk rw master:3 - xfs /dev/loop0 rw",
  "32 30 0:26 / /mnt/nas/local rw - btrfs /dev/vdb rw",
  "33 22 0:27 / /media/phone rw shared:7 - fuse.sshfs me@phone:/ rw",
  "34 22 0:28 / /mnt/nas rw - ext4 /dev/vdc rw",
].join("\n");

Deno.test("syncfs: the longest mount point containing the path decides the file system", () => {
  assert.equal(fileSystemType(MOUNTINFO, "/home/me/backup"), "ext4");
  assert.equal(fileSystemType(MOUNTINFO, "/"), "ext4");
  assert.equal(fileSystemType(MOUNTINFO, "/mnt/nas/local/backup"), "btrfs");
  assert.equal(fileSystemType(MOUNTINFO, "/media/phone/DCIM"), "fuse.sshfs");
  assert.equal(fileSystemType(MOUNTINFO, "/proc/self"), "proc");
});

Deno.test("syncfs: a mount point matches whole path components only", () => {
  assert.equal(fileSystemType(MOUNTINFO, "/procedures"), "ext4");
  assert.equal(fileSystemType(MOUNTINFO, "/media/phone2"), "ext4");
});

Deno.test("syncfs: escaped spaces in mount points are decoded", () => {
  assert.equal(fileSystemType(MOUNTINFO, "/mnt/my disk/backup"), "xfs");
  assert.equal(fileSystemType(MOUNTINFO, "/mnt/my\\040disk/backup"), "ext4");
});

Deno.test("syncfs: a later mount on the same point hides the earlier one", () => {
  assert.equal(fileSystemType(MOUNTINFO, "/mnt/nas/data"), "ext4");
});

Deno.test("syncfs: relative paths and an empty table give no answer", () => {
  assert.equal(fileSystemType(MOUNTINFO, "backup"), undefined);
  assert.equal(fileSystemType("", "/home"), undefined);
});

Deno.test({
  name: "syncfs: on a local Linux file system the handle flushes and closes cleanly",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const dir = Deno.makeTempDirSync();
    try {
      const type = fileSystemType(Deno.readTextFileSync("/proc/self/mountinfo"), dir);
      const fs = openSyncFs(dir);
      // Only where the allow-list and the kernel say so; elsewhere the batch flushes per file.
      if (!["ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs"].includes(type ?? "")) {
        assert.equal(fs, undefined);
        return;
      }
      assert.ok(fs, `expected a syncfs handle on ${type}`);
      Deno.writeTextFileSync(`${dir}/a.txt`, "data");
      await fs.sync();
      fs.close();
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

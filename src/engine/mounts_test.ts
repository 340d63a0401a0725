import assert from "node:assert/strict";
import { darwinFileSystemType, otherMounts, windowsFileSystemType } from "./mounts.ts";

const MOUNTINFO = [
  "27 1 253:0 / / rw - ext4 /dev/vda rw",
  "90 27 253:0 /srv/x/bk/docs /tmp/t/docs rw - ext4 /dev/vda rw", // a folder in the root
  "91 27 253:0 /srv/x /mnt/x rw - ext4 /dev/vda rw", // a folder holding the root
  "92 27 253:0 /srv/x/bk /tmp/view rw - ext4 /dev/vda rw", // the root itself
  "93 27 0:44 / /srv/x/bk/other rw - tmpfs tmpfs rw", // another file system inside it
  "94 27 253:0 /srv/y /tmp/yy rw - ext4 /dev/vda rw", // elsewhere on the same disk
  "95 27 253:0 /srv/x/bk\\040old /tmp/sp rw - ext4 /dev/vda rw", // "bk old": not inside bk
].join("\n");

Deno.test("otherMounts: every other path where the folder, or a part of it, is mounted", () => {
  assert.deepEqual(otherMounts(MOUNTINFO, "/srv/x/bk"), ["/tmp/t/docs", "/mnt/x/bk", "/tmp/view"]);
  // Seen through a bind mount itself, the folder's own place counts as another.
  assert.deepEqual(otherMounts(MOUNTINFO, "/tmp/view"), [
    "/srv/x/bk",
    "/tmp/t/docs",
    "/mnt/x/bk",
  ]);
  assert.deepEqual(otherMounts(MOUNTINFO, "/srv/z"), []);
});

Deno.test("windowsFileSystemType: a network share is told by its UNC path, a local disk is not", () => {
  for (
    const p of [
      "\\\\nas\\backups\\laptop",
      "\\\\nas.local\\share",
      "//nas/share/backup",
      "\\\\?\\UNC\\nas\\share\\backup",
      "\\\\wsl.localhost\\Ubuntu\\home\\me",
    ]
  ) {
    assert.equal(windowsFileSystemType(p), "smbfs", p);
  }
  for (
    const p of ["C:\\backup", "D:\\", "\\\\?\\C:\\long\\path", "\\\\.\\PhysicalDrive0", "\\backup"]
  ) {
    assert.equal(windowsFileSystemType(p), undefined, p);
  }
});

Deno.test("darwinFileSystemType: the longest mount point in macOS's mount table decides", () => {
  const mounts = [
    "/dev/disk3s1s1 on / (apfs, sealed, local, read-only, journaled)",
    "devfs on /dev (devfs, local, nobrowse)",
    "/dev/disk3s5 on /System/Volumes/Data (apfs, local, journaled, nobrowse, protect)",
    "map auto_home on /System/Volumes/Data/home (autofs, automounted, nobrowse)",
    "//me@nas._smb._tcp.local/backups on /Volumes/backups (smbfs, nodev, nosuid, mounted by me)",
    "nas:/export on /Volumes/nfs share (nfs, asynchronous, nodev, nosuid, mounted by me)",
    "/dev/disk4s1 on /Volumes/USB (2) (exfat, local, nodev, nosuid, noowners, mounted by me)",
    "afp_0TQ on /Volumes/old (afpfs, nodev, nosuid, mounted by me)",
  ].join("\n");
  assert.equal(darwinFileSystemType(mounts, "/Users/me/backup"), "apfs");
  assert.equal(darwinFileSystemType(mounts, "/Volumes/backups/laptop"), "smbfs");
  assert.equal(darwinFileSystemType(mounts, "/Volumes/backups"), "smbfs");
  assert.equal(darwinFileSystemType(mounts, "/Volumes/backups2"), "apfs");
  assert.equal(darwinFileSystemType(mounts, "/Volumes/nfs share/x"), "nfs");
  assert.equal(darwinFileSystemType(mounts, "/Volumes/USB (2)/b"), "exfat");
  assert.equal(darwinFileSystemType(mounts, "/Volumes/old/b"), "afpfs");
  assert.equal(darwinFileSystemType(mounts, "relative"), undefined);
});

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  darwinFileSystemType,
  missingMediaFolderOf,
  otherMounts,
  unmountedTablePoint,
  unmountedTablePoints,
  windowsFileSystemType,
} from "./mounts.ts";

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

Deno.test("unmountedTablePoint: the longest mount point fstab names for a path, where nothing is mounted", () => {
  const fstab = [
    "# /etc/fstab: static file system information.",
    "UUID=1 / ext4 errors=remount-ro 0 1",
    "UUID=2 none swap sw 0 0",
    "/dev/sdb1  /mnt/disk/  ext4  noauto,nofail  0  2", // written with a trailing slash
    "/dev/sdc1 /mnt/disk/inner ext4 noauto 0 2",
    "LABEL=x /media/my\\040disk vfat noauto 0 0",
    "   ",
  ].join("\n");
  const mountinfo = "27 1 253:0 / / rw - ext4 /dev/vda rw\n";
  assert.equal(unmountedTablePoint(fstab, mountinfo, "/mnt/disk"), "/mnt/disk");
  assert.equal(unmountedTablePoint(fstab, mountinfo, "/mnt/disk/backup"), "/mnt/disk");
  assert.equal(unmountedTablePoint(fstab, mountinfo, "/mnt/disk/inner/b"), "/mnt/disk/inner");
  assert.equal(unmountedTablePoint(fstab, mountinfo, "/media/my disk/b"), "/media/my disk");
  // "/" and swap aside, a path under no mount point of the table: nothing to tell.
  assert.equal(unmountedTablePoint(fstab, mountinfo, "/home/me/backup"), undefined);
  assert.equal(unmountedTablePoint(fstab, mountinfo, "/mnt/diskette"), undefined);
  // Mounted: the path is on the disk the table puts there.
  const withDisk = `${mountinfo}90 27 8:17 / /mnt/disk rw - ext4 /dev/sdb1 rw\n`;
  assert.equal(unmountedTablePoint(fstab, withDisk, "/mnt/disk/backup"), undefined);
  assert.equal(unmountedTablePoint(fstab, withDisk, "/mnt/disk/inner/b"), "/mnt/disk/inner");
  // A mount point written through a symlink is compared as the mount table writes it.
  const resolve = (p: string) => p.replace(/^\/backups/, "/mnt/disk");
  assert.equal(
    unmountedTablePoint("/dev/sdb1 /backups ext4 noauto 0 2", mountinfo, "/mnt/disk/b", resolve),
    "/mnt/disk",
  );
});

Deno.test("unmountedTablePoint: a disk mounted below the table's point, holding the path, is where the path lies", () => {
  const fstab = "/dev/sdb1 /mnt/disk ext4 noauto 0 2\n";
  // A disk the table does not name, mounted by hand below its unmounted point.
  const mountinfo = "27 1 253:0 / / rw - ext4 /dev/vda rw\n" +
    "91 27 8:33 / /mnt/disk/usb rw - vfat /dev/sdc1 rw\n";
  assert.equal(unmountedTablePoint(fstab, mountinfo, "/mnt/disk/usb/backup"), undefined);
  assert.equal(unmountedTablePoint(fstab, mountinfo, "/mnt/disk/usb"), undefined);
  // Beside it, the path is still below the empty mount point.
  assert.equal(unmountedTablePoint(fstab, mountinfo, "/mnt/disk/backup"), "/mnt/disk");
  assert.equal(unmountedTablePoint(fstab, mountinfo, "/mnt/disk/usb2/b"), "/mnt/disk");
});

Deno.test("unmountedTablePoints: the table's points in a folder where nothing is mounted, each resolved once", () => {
  const fstab = [
    "UUID=1 / ext4 defaults 0 1",
    "/dev/sdb1 /srv/data ext4 nofail 0 2",
    "/dev/sdc1 /srv/data/inner ext4 nofail 0 2",
    "/dev/sdd1 /srv/other ext4 nofail 0 2",
    "/dev/sde1 /srv/link/disk ext4 nofail 0 2", // /srv/link: a symlink to /srv/data
    "/dev/sdf1 /elsewhere ext4 nofail 0 2",
    "# /dev/sdg1 /srv/gone ext4 nofail 0 2",
  ].join("\n");
  const mountinfo = "27 1 253:0 / / rw - ext4 /dev/vda rw\n" +
    "91 27 8:33 / /srv/other rw - ext4 /dev/sdd1 rw\n";
  const asked: string[] = [];
  const resolve = (p: string) => {
    asked.push(p);
    return p.replace(/^\/srv\/link/, "/srv/data");
  };
  assert.deepEqual(unmountedTablePoints(fstab, mountinfo, "/srv", resolve), [
    { point: "/srv/data", rel: "data" },
    { point: "/srv/data/inner", rel: "data/inner" },
    { point: "/srv/data/disk", rel: "data/disk" },
  ]);
  assert.deepEqual(asked, [
    "/srv/data",
    "/srv/data/inner",
    "/srv/other",
    "/srv/link/disk",
    "/elsewhere",
  ]);
  // The folder itself a mount point; one below a disk mounted now is not named.
  assert.deepEqual(unmountedTablePoints(fstab, mountinfo, "/srv/data/inner"), [
    { point: "/srv/data/inner", rel: "" },
  ]);
  const inOther = `${fstab}\n/dev/sdh1 /srv/other/deep ext4 nofail 0 2`;
  assert.deepEqual(unmountedTablePoints(inOther, mountinfo, "/srv/other"), [
    { point: "/srv/other/deep", rel: "deep" },
  ]);
});

Deno.test({
  name:
    "missingMediaFolderOf: a folder to be made on the media folder's own disk is named; one on a disk mounted below it, or below no media folder, is not",
  ignore: Deno.build.os === "windows",
  fn: () => {
    const dir = Deno.realPathSync(Deno.makeTempDirSync());
    try {
      const media = join(dir, "media");
      Deno.mkdirSync(join(media, "alice"), { recursive: true });
      // The disk's own folder is gone (unmounted): it, not the root below it, is named.
      const root = join(media, "alice", "Disk", "backup");
      assert.equal(missingMediaFolderOf(root, [media]), join(media, "alice", "Disk"));
      // A root at the mount point itself, missing.
      assert.equal(missingMediaFolderOf(join(media, "Disk"), [media]), join(media, "Disk"));
      // Below no media folder: a first backup anywhere else makes its folders as before.
      assert.equal(missingMediaFolderOf(root, [join(dir, "elsewhere")]), undefined);
      // Nothing missing on the way.
      Deno.mkdirSync(root, { recursive: true });
      assert.equal(missingMediaFolderOf(root, [media]), undefined);
      // On another file system than the media folder's (a disk mounted there), a missing
      // folder is made: /dev/shm is a tmpfs of its own below /dev on Linux.
      const other = "/dev/shm";
      const mounted = Deno.build.os === "linux" &&
        Deno.statSync(other).dev !== Deno.statSync("/dev").dev;
      if (mounted) {
        const name = `bt-media-test-${Deno.pid}`;
        assert.equal(missingMediaFolderOf(join(other, name, "backup"), ["/dev"]), undefined);
        assert.equal(missingMediaFolderOf(join("/dev", name, "backup"), ["/dev"]), `/dev/${name}`);
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

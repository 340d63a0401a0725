/**
 * FAT32 and exFAT disks for the tests, made on a file and mounted through Linux's FUSE
 * drivers (fusefat, exfat-fuse) where those tools exist and mounting is allowed (root):
 * `withDisk` unmounts (and frees the loop device) whatever happens; an interruption leaves
 * at most a mount and a loop device in the test's temporary folder.
 */
import { join } from "node:path";
import { sh } from "./util.ts";

/** Whether a tool is installed (in a system folder). */
export const has = (tool: string) =>
  ["/usr/bin", "/usr/sbin", "/bin", "/sbin"].some((d) => {
    try {
      return Deno.statSync(join(d, tool)).isFile;
    } catch {
      return false;
    }
  });
/** Mounting needs root (Linux). */
export const isRoot = Deno.build.os === "linux" && Deno.uid() === 0;

/**
 * Runs `body` with a new disk of `size` (`truncate` units) made and mounted at `dir/mnt`,
 * unmounted again after it, whatever happens.
 */
export async function withDisk(
  disk: typeof DISKS[number],
  dir: string,
  size: string,
  body: (mnt: string) => Promise<void>,
): Promise<void> {
  const img = join(dir, "disk.img");
  const mnt = join(dir, "mnt");
  Deno.mkdirSync(mnt);
  await sh(`truncate -s ${size} '${img}' && ${disk.mkfs} '${img}' >/dev/null 2>&1`);
  await sh(`${disk.mount(img, mnt)} >/dev/null 2>&1`);
  try {
    await body(mnt);
  } finally {
    await sh(disk.unmount(mnt));
  }
}

/** How to make and mount each disk; exfat-fuse wants a block device, so a loop device. */
export const DISKS = [
  {
    name: "FAT32 (fusefat)",
    // Debian's fusefat 0.1a loses the growth of the state file (pread EPERM inside it, a
    // smaller file after a remount): every run after the first fails with "disk I/O error"
    // (docs/operations.md). Run with BACKUP_TOOL_TRY_FUSEFAT=1 to try another fusefat.
    broken: !Deno.env.get("BACKUP_TOOL_TRY_FUSEFAT"),
    tools: ["mkfs.vfat", "fusefat"],
    mkfs: "mkfs.vfat -F 32",
    mount: (img: string, mnt: string) => `fusefat -o rw+ '${img}' '${mnt}'`,
    unmount: (mnt: string) => `fusermount -u '${mnt}' || umount '${mnt}'`,
  },
  {
    name: "exFAT (exfat-fuse)",
    broken: false,
    tools: ["mkfs.exfat", "mount.exfat-fuse", "losetup"],
    mkfs: "mkfs.exfat",
    mount: (img: string, mnt: string) =>
      `mount.exfat-fuse "$(losetup -f --show '${img}')" '${mnt}'`,
    unmount: (mnt: string) =>
      `dev=$(findmnt -n -o SOURCE '${mnt}'); umount '${mnt}'; ` +
      `case "$dev" in /dev/loop*) losetup -d "$dev";; esac`,
  },
];

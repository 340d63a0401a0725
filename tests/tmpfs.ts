/**
 * Mounting a tmpfs for tests that need a disk of their own (another device inside a
 * source, a small disk that fills): root on Linux only, tried once by each test file,
 * which ignores its tests where it cannot. Every mount is undone by the test that made it.
 */
import { succeeds } from "./fstab_namespace.ts";

/** Whether a tmpfs can be mounted here: tried once, so that a test that cannot run is ignored. */
export async function canMountTmpfs(): Promise<boolean> {
  if (Deno.build.os !== "linux" || Deno.uid?.() !== 0) return false;
  const dir = Deno.makeTempDirSync({ prefix: "bt-probe-tmpfs-" });
  try {
    if (!(await succeeds("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir))) return false;
    await unmount(dir);
    return true;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** Unmounts `dir`, lazily where it is busy. */
export async function unmount(dir: string): Promise<void> {
  if (!(await succeeds("umount", dir))) await succeeds("umount", "-l", dir);
}

/**
 * Mounting a tmpfs for tests that need a disk of their own (another device inside a
 * source, a small disk that fills): root on Linux only, tried once by each test file,
 * which ignores its tests where it cannot. Every mount is undone by the test that made it,
 * through `withTmpfs`; a test killed meanwhile leaves its mount for `umount` by hand.
 */
import assert from "node:assert/strict";
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

/**
 * Runs `body` with a tmpfs mounted on `dir` (made first where missing) with the mount
 * `options` ("size=64k", "ro,size=16k"), and unmounts it after, whatever `body` did. A
 * mount that fails fails the test. `dir` itself is left, empty, as a disk's mount point is.
 */
export async function withTmpfs<T>(
  dir: string,
  options: string,
  body: (dir: string) => Promise<T> | T,
): Promise<T> {
  Deno.mkdirSync(dir, { recursive: true });
  assert.ok(
    await succeeds("mount", "-t", "tmpfs", "-o", options, "tmpfs", dir),
    `mount a tmpfs on '${dir}'`,
  );
  try {
    return await body(dir);
  } finally {
    await unmount(dir);
  }
}

/** Unmounts `dir`, lazily where it is busy. */
export async function unmount(dir: string): Promise<void> {
  if (!(await succeeds("umount", dir))) await succeeds("umount", "-l", dir);
}

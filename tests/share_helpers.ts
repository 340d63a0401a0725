/**
 * What the tests of shared disk blocks (share_extents.ts) need: whether btrfs and XFS
 * images can be made and loop-mounted here (root on Linux with mkfs.btrfs / mkfs.xfs and
 * filefrag; otherwise the reason is said once), a fresh image or tmpfs mounted at a
 * fixture's backup root for a body (always unmounted in `finally`), `filefrag -v`'s word on
 * a file's extents, whether the state has the kept copies' index, and contents of their own.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { Fixture } from "./helpers.ts";
import { succeeds } from "./fstab_namespace.ts";
import { canMountTmpfs, unmount, withTmpfs } from "./tmpfs.ts";

/** Whether `cmd` can be run (found on the PATH). */
async function found(cmd: string): Promise<boolean> {
  return await succeeds("sh", "-c", `command -v ${cmd}`);
}

export const ROOT = Deno.build.os === "linux" && Deno.uid?.() === 0;
export const FILEFRAG = ROOT && await found("filefrag");
export const BTRFS = FILEFRAG && await found("mkfs.btrfs");
export const XFS = FILEFRAG && await found("mkfs.xfs");
export const EXT4 = ROOT && await found("mkfs.ext4");
export const TMPFS = await canMountTmpfs();
if (!BTRFS) console.log("SKIP btrfs sharing tests: need root on Linux, mkfs.btrfs and filefrag");
if (!XFS) console.log("SKIP XFS sharing test: need root on Linux, mkfs.xfs and filefrag");
if (!TMPFS) console.log("SKIP tmpfs sharing test: need root on Linux to mount a tmpfs");

/** mkfs of each kind, and the image's size (btrfs needs about 110 MiB, and keeps a third of 256 MiB for its metadata; XFS 300 MiB). */
const FILE_SYSTEMS = {
  btrfs: { mkfs: ["mkfs.btrfs", "-q"], size: "256M" },
  xfs: { mkfs: ["mkfs.xfs", "-q"], size: "300M" },
  ext4: { mkfs: ["mkfs.ext4", "-q", "-F"], size: "64M" },
};

/** Runs `body` with a fresh image of `kind` loop-mounted at the fixture's backup root. */
export async function withImage(
  fx: Fixture,
  kind: keyof typeof FILE_SYSTEMS,
  body: () => Promise<void>,
): Promise<void> {
  const { mkfs, size } = FILE_SYSTEMS[kind];
  const image = join(fx.dir, `${kind}.img`);
  assert.ok(await succeeds("truncate", "-s", size, image), "truncate");
  assert.ok(await succeeds(mkfs[0], ...mkfs.slice(1), image), mkfs[0]);
  Deno.mkdirSync(fx.backup);
  assert.ok(await succeeds("mount", "-o", "loop", image, fx.backup), "mount");
  try {
    await body();
  } finally {
    await unmount(fx.backup);
  }
}

/** Runs `body` with a tmpfs mounted at the fixture's backup root. */
export function withTmpfsRoot(fx: Fixture, body: () => Promise<void>): Promise<void> {
  return withTmpfs(fx.backup, "size=64m", body);
}

/** Whether every extent of the file is shared with another file (`filefrag -v`). */
export async function sharedWhole(path: string): Promise<boolean> {
  const extents = await extentsOf(path);
  return extents.length > 0 && extents.every((l) => /\bshared\b/.test(l));
}

/** Whether any extent of the file is shared with another file (`filefrag -v`). */
export async function sharedAny(path: string): Promise<boolean> {
  const extents = await extentsOf(path);
  assert.ok(extents.length > 0, `${path} has extents`);
  return extents.some((l) => /\bshared\b/.test(l));
}

/** `filefrag -v`'s lines of a file's extents. */
async function extentsOf(path: string): Promise<string[]> {
  const out = await new Deno.Command("filefrag", { args: ["-v", path] }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => /^\s*\d+:/.test(l));
}

/** Whether the fixture's state has the kept copies' index (state/stored_copies.ts). */
export function hasKeptIndex(fx: Fixture): boolean {
  using db = new DatabaseSync(join(fx.backup, ".backup-tool", "state.db"), { readOnly: true });
  return db.prepare(
    "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'copies_kept_by_hash'",
  ).get() !== undefined;
}

/** Bytes that no other file of the test holds: `seed` makes each content its own. */
export function bytesOf(size: number, seed: number): Uint8Array {
  const b = new Uint8Array(size);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < size; i += 4) {
    x = (x * 1664525 + 1013904223) >>> 0;
    b[i] = x & 0xff;
    b[i + 1] = (x >> 8) & 0xff;
    b[i + 2] = (x >> 16) & 0xff;
    b[i + 3] = x >>> 24;
  }
  return b;
}

export const MIB = 1 << 20;

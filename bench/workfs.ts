// The file system the timed runs work on: where the trees and the scratch folders live.
//
// By default both sit in bench/work/ on whatever file system holds the repository (trees/ and
// run/). With --fs-image they go on a journaled ext4 made for the benchmark: a sparse image file
// bench/work/fs.img (`truncate -s`, `mkfs.ext4 -q -F -i 4096`), loop-mounted at bench/work/mnt
// (`mount -o loop`), with trees/ and run/ inside. The image is kept between runs, so generated
// trees are reused, and unmounted at the end of every run (`sync`, then `umount`).
//
// Why: ext4 without a journal will not reuse an inode freed in the last few minutes
// (recently_deleted() in the kernel's find_inode_bit), so after the untimed mass deletions before
// each rep (rm -rf of destinations, cp -a of snapshots) every new file or folder scans past
// thousands of freed slots: rsync's first backup of the 20k tree took anywhere from 1.8 to 12 s.
//
// describeFs() finds the mount holding a path in /proc/self/mountinfo (longest mount point prefix)
// and whether it has a journal: an ext2/3/4 mount has one when the jbd2 layer lists it in
// /proc/fs/jbd2/<dev>-<journal inode> or when /proc/fs/ext4/<dev>/options names a data= mode
// (the kernel clears the data mode of a journal-less mount).

import { basename, join, relative } from "node:path";
import { WORK_DIR } from "./gen.ts";
import { run, which } from "./measure.ts";
import { REPO_ROOT } from "./tools.ts";

export const IMAGE = join(WORK_DIR, "fs.img");
export const MOUNT_POINT = join(WORK_DIR, "mnt");

const GiB = 2 ** 30;

/**
 * Default image size in GiB. The image is sparse, so only what is written takes disk space; the
 * peak is all trees plus one scenario's scratch, where a mutation scenario holds the source copy
 * and, per mirroring tool (ours, rsync, rsync+sync), its state and snapshot: ~7 copies of a tree.
 *   full run: 20k/mixed ≈ 7 × 0.5 GB + trees ≈ 4.5 GB, so 12 GiB leaves ample room.
 *   --with-1m: 1m/nothing-changed holds the tree plus 3 mirrors, each 3.9 GiB (every 100-500 B
 *     file takes a whole 4 KiB block), ≈ 17 GiB with the other trees; of a 24 GiB image the
 *     inode tables (1.5 GiB) and the journal leave ~22 GiB (20 GiB would leave under 2 GiB spare).
 *   --quick: 2k/mixed peaks below 1 GB.
 */
export function defaultImageGiB(opts: { quick: boolean; with1m: boolean }): number {
  return opts.with1m ? 24 : opts.quick ? 4 : 12;
}

// One inode per 4 KiB block (mkfs's default is one per 16 KiB): 100k/changed1 holds ~830k files
// at once (7 copies of the 100k tree plus the other trees) and 1m/nothing-changed ~4.2M, more
// than the default's 786k inodes of 12 GiB and 1.3M of 20 GiB. The journal and every other
// option stay mkfs.ext4's defaults.
const BYTES_PER_INODE = 4096;

export interface WorkFs {
  /** The folder the trees and scratch live under. */
  path: string;
  type: string; // e.g. "ext4"
  source: string; // e.g. "/dev/vda"
  device: string; // kernel name, as in /proc/fs/ext4/<device>, e.g. "vda", "loop1"
  options: string; // mount + super block options, e.g. "rw,relatime,discard"
  journal: boolean | null; // null: unknown, or not a journaling file system at all
  image: string | null; // the image file with --fs-image
  text: string; // one-line description for the header
}

/** Where the trees and the per-scenario scratch folders go, and what file system holds them. */
export interface WorkDirs {
  trees: string;
  run: string;
  fs: WorkFs;
}

/** The default layout: bench/work/trees and bench/work/run on the repository's file system. */
export async function defaultDirs(): Promise<WorkDirs> {
  await Deno.mkdir(WORK_DIR, { recursive: true });
  return { trees: join(WORK_DIR, "trees"), run: join(WORK_DIR, "run"), fs: describeFs(WORK_DIR) };
}

interface Mount {
  mountPoint: string;
  majMin: string; // "254:0"
  type: string;
  source: string;
  options: string;
}

/** /proc/self/mountinfo escapes space, tab, newline and backslash as octal (\040 …). */
const unescape = (s: string) =>
  s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

function mounts(): Mount[] {
  // Fields: id parent maj:min root mount-point mount-options [optional…] - type source super-options
  return Deno.readTextFileSync("/proc/self/mountinfo").split("\n").filter(Boolean).map((line) => {
    const f = line.split(" ");
    const sep = f.indexOf("-", 6);
    const options = new Set([...f[5].split(","), ...(f[sep + 3] ?? "").split(",")]);
    return {
      mountPoint: unescape(f[4]),
      majMin: f[2],
      type: f[sep + 1],
      source: unescape(f[sep + 2]),
      options: [...options].filter(Boolean).join(","),
    };
  });
}

/** The mount holding `path`: the longest mount point that is a prefix (the last one on ties). */
function mountOf(path: string): Mount | null {
  const real = Deno.realPathSync(path);
  let best: Mount | null = null;
  for (const m of mounts()) {
    const mp = m.mountPoint;
    const inside = real === mp || real.startsWith(mp.endsWith("/") ? mp : `${mp}/`);
    if (inside && (!best || mp.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

/** The mount whose mount point is exactly `path`, if any. */
function mountAt(path: string): Mount | null {
  const real = Deno.realPathSync(path);
  return mounts().findLast((m) => m.mountPoint === real) ?? null;
}

/** Kernel name of a block device ("vda", "loop1", "dm-0"), as /proc/fs/ext4 and jbd2 use it. */
function deviceName(m: Mount): string {
  try {
    return basename(Deno.readLinkSync(`/sys/dev/block/${m.majMin}`));
  } catch {
    return basename(m.source);
  }
}

function hasJournal(m: Mount, device: string): boolean | null {
  if (m.type === "xfs") return true; // xfs always logs its metadata
  if (!/^ext[234]$/.test(m.type)) return null;
  try {
    for (const e of Deno.readDirSync("/proc/fs/jbd2")) {
      if (e.name.startsWith(`${device}-`)) return true;
    }
  } catch { /* no journaled file system mounted at all, or no /proc */ }
  try {
    return /^data=/m.test(Deno.readTextFileSync(`/proc/fs/ext4/${device}/options`));
  } catch {
    return null;
  }
}

/** Paths in messages are relative to the repository, e.g. "bench/work/mnt". */
const show = (path: string) => relative(REPO_ROOT, path) || ".";

/** Describes the file system holding `dir` (which must exist). */
export function describeFs(dir: string, image: string | null = null): WorkFs {
  let m: Mount | null = null;
  try {
    m = mountOf(dir);
  } catch { /* no /proc/self/mountinfo: not Linux */ }
  if (!m) {
    return {
      path: dir,
      type: "unknown",
      source: "",
      device: "",
      options: "",
      journal: null,
      image,
      text: "unknown",
    };
  }
  const device = deviceName(m);
  const journal = hasJournal(m, device);
  const note = journal === null ? "" : journal ? " (journal)" : " (no journal)";
  const text = image
    ? `${m.type} image${note} at ${show(dir)} (${show(image)}, ${fileGiB(image)} GiB, ${m.options})`
    : `${m.type} ${m.options}${note}`;
  return {
    path: dir,
    type: m.type,
    source: m.source,
    device,
    options: m.options,
    journal,
    image,
    text,
  };
}

/** A warning for the header when the work file system distorts the timings, else null. */
export function fsWarning(fs: WorkFs): string | null {
  if (fs.image || !/^ext[234]$/.test(fs.type) || fs.journal !== false) return null;
  return `WARNING: the work dir is on ${fs.type} without a journal, which does not reuse inodes ` +
    "freed in the last few minutes, so creating files after the bench's mass deletions is slow " +
    "and erratic (rsync's 20k first backup took 1.8-12 s); use --fs-image.";
}

function fileGiB(path: string): number {
  try {
    return Math.round((Deno.statSync(path).size / GiB) * 10) / 10;
  } catch {
    return NaN;
  }
}

/** What --fs-image needs that this machine lacks (empty when everything is there). */
export async function missingForImage(): Promise<string[]> {
  if (Deno.build.os !== "linux") return ["Linux"];
  const missing: string[] = [];
  if (Deno.uid() !== 0) missing.push("root");
  for (const bin of ["mkfs.ext4", "mount", "umount", "losetup"]) {
    if (!(await which(bin))) missing.push(bin);
  }
  // `losetup -f` names the first free loop device (creating one through /dev/loop-control).
  if (!missing.includes("losetup") && !missing.includes("root")) {
    await run({ argv: ["losetup", "-f"] }).catch(() => missing.push("a free loop device"));
  }
  return missing;
}

function log(msg: string) {
  console.error(`[fs] ${msg}`);
}

const exists = (path: string) => {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
};

const journaledExt4 = (m: Mount | null) => m?.type === "ext4" && hasJournal(m, deviceName(m));

export interface Image {
  dirs: WorkDirs;
  /** Unmounts the image if this run mounted it; safe to call more than once. */
  close(): Promise<void>;
}

/**
 * Mounts bench/work/fs.img at bench/work/mnt, making the image first when it is missing, smaller
 * than `sizeGiB`, not mountable as ext4 or without a journal. A journaled ext4 already mounted
 * there is used as it is and left mounted. Throws (sentence-case message) when that fails.
 */
export async function openImage(sizeGiB: number): Promise<Image> {
  await Deno.mkdir(MOUNT_POINT, { recursive: true });
  let owned = false;
  const current = mountAt(MOUNT_POINT);
  const mnt = show(MOUNT_POINT);
  if (current) {
    if (!journaledExt4(current)) {
      throw new Error(`"${mnt}" is already mounted but is not ext4 with a journal: unmount it`);
    }
    log(`using the file system already mounted at "${mnt}"`);
  } else {
    // Never re-make an image that is attached somewhere (mounted elsewhere, or still in use).
    // `losetup -j` lists the loop devices backed by the file: "/dev/loop1: [fe00]:123 (path)".
    const attached = (await run({ argv: ["losetup", "-j", IMAGE] })).trim().split("\n")
      .filter(Boolean).map((line) => line.split(":")[0]);
    if (attached.length > 0) {
      throw new Error(
        `Image "${show(IMAGE)}" is in use by ${attached.join(", ")}: unmount it first`,
      );
    }
    owned = await mountExisting(sizeGiB);
    if (!owned) {
      await makeImage(sizeGiB);
      await run({ argv: ["mount", "-t", "ext4", "-o", "loop", IMAGE, MOUNT_POINT] });
      owned = true;
      if (!journaledExt4(mountAt(MOUNT_POINT))) {
        await unmount();
        throw new Error(`The new image "${show(IMAGE)}" mounted without a journal`);
      }
    }
  }
  const dirs = { trees: join(MOUNT_POINT, "trees"), run: join(MOUNT_POINT, "run") };
  for (const d of Object.values(dirs)) await Deno.mkdir(d, { recursive: true });
  let closing: Promise<void> | null = null;
  const close = () => {
    if (!closing) {
      closing = owned ? unmount() : Promise.resolve(log(`left "${mnt}" mounted, as it was found`));
    }
    return closing;
  };
  return { dirs: { ...dirs, fs: describeFs(MOUNT_POINT, IMAGE) }, close };
}

/** Mounts an existing image that is big enough and journaled ext4; false when there is none. */
async function mountExisting(sizeGiB: number): Promise<boolean> {
  if (!exists(IMAGE)) return false;
  const size = fileGiB(IMAGE);
  if (Deno.statSync(IMAGE).size < sizeGiB * GiB) {
    log(`"${show(IMAGE)}" has ${size} GiB, less than the ${sizeGiB} GiB wanted: making it anew`);
    return false;
  }
  try {
    await run({ argv: ["mount", "-t", "ext4", "-o", "loop", IMAGE, MOUNT_POINT] });
  } catch (e) {
    log(`"${show(IMAGE)}" does not mount (${(e as Error).message}): making it anew`);
    return false;
  }
  if (journaledExt4(mountAt(MOUNT_POINT))) {
    log(`reusing "${show(IMAGE)}" (${size} GiB), mounted at "${show(MOUNT_POINT)}"`);
    return true;
  }
  log(`"${show(IMAGE)}" is not ext4 with a journal: making it anew`);
  await unmount();
  return false;
}

async function makeImage(sizeGiB: number): Promise<void> {
  log(`making "${show(IMAGE)}": sparse ${sizeGiB} GiB, ext4 with a journal`);
  await Deno.remove(IMAGE).catch(() => {});
  await run({ argv: ["truncate", "-s", `${sizeGiB}G`, IMAGE] });
  await run({ argv: ["mkfs.ext4", "-q", "-F", "-i", String(BYTES_PER_INODE), IMAGE] });
}

// After an interrupt the killed tools' last writes may still hold the file system for a moment.
const UMOUNT_TRIES = 10;
const UMOUNT_RETRY_MS = 500;

/** `sync`, then `umount` (which also frees the loop device `mount -o loop` set up). */
async function unmount(): Promise<void> {
  await run({ argv: ["sync"], cleanup: true }).catch(() => {});
  for (let i = 1; i <= UMOUNT_TRIES; i++) {
    try {
      await run({ argv: ["umount", MOUNT_POINT], cleanup: true });
      log(`unmounted "${show(MOUNT_POINT)}"`);
      return;
    } catch (e) {
      if (i === UMOUNT_TRIES) {
        // Still busy: detach it now; the kernel finishes once the last user lets go.
        log(`"${show(MOUNT_POINT)}" stays busy (${(e as Error).message}): lazy unmount`);
        await run({ argv: ["umount", "-l", MOUNT_POINT], cleanup: true }).catch((e) =>
          log(`could not unmount "${show(MOUNT_POINT)}": ${(e as Error).message}`)
        );
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, UMOUNT_RETRY_MS));
    }
  }
}

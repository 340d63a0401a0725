/**
 * What a destination disk keeps of a file's metadata. FAT and exFAT sticks (and NTFS
 * through ntfs-3g without its permission mapping) give every file one mode (0777 or 0755)
 * and one owner whatever chmod and chown ask, mostly without a word. A restore there then
 * warned, again, for every file of the same bytes that "its mode is 0777, the recorded
 * 0644: restore it with --overwrite", and `--overwrite` wrote each of them anew for
 * nothing. Asked once per file system (device) of the folder a file goes to: a temporary
 * file made there (with a restore's temporary name) is given another mode (and, run as
 * root, another owner), a modification time off every disk's step, a user.* extended
 * attribute, a minimal ACL and, run as root, a trusted.* attribute, looked at and removed.
 * What a disk does not keep is not compared, and modes and owners not kept are said once,
 * as a note (extended attributes where one is given: xattr_notes.ts); times are compared
 * to the step the disk keeps them in (FAT's 2 s), without a word. An interruption may
 * leave that temporary file, as it may any of a restore's (its name says so).
 */
import { lstatOrNone } from "../engine/fs/fsops.ts";
import { applyXattrs, XATTRS_KEPT } from "../engine/fs/xattrs.ts";
import { encodeXattrs } from "../core/xattr_codec.ts";
import { GIVES_OWNERS } from "../engine/fs/owner.ts";
import { withProbeFile } from "./dest_file.ts";
import type { Reached } from "./pinned.ts";

/** Which of a file's attributes a disk keeps as set. */
export interface DiskKeeps {
  modes: boolean;
  owners: boolean;
  /** The steps its modification times are kept in, in ms: 1, 10 (exFAT), 2,000 (FAT). */
  timeStepMs: number;
  /** Extended attributes, user.* ones (false where this process gives none: engine/fs/xattrs.ts). */
  xattrs: boolean;
  /**
   * POSIX ACLs, which a disk may refuse while it keeps user.* attributes (an SMB share
   * through cifs, NFS), and trusted.* attributes, which root gives only with CAP_SYS_ADMIN
   * (a container's root has none, and is shown none of them): a restore compares only
   * what it could give, or an attribute the file holds, unseen, would be said missing and
   * `--overwrite` would write the file anew without it.
   */
  acls: boolean;
  rootXattrs: boolean;
}

/** What every disk is taken to keep until it is found not to (on Windows, all but the time step). */
export const ALL_KEPT: DiskKeeps = {
  modes: true,
  owners: true,
  timeStepMs: 1,
  xattrs: true,
  acls: true,
  rootXattrs: true,
};

/**
 * A modification time the probe asks for: 1.455 s past an even second (FAT's 2 s steps
 * hold in local time too: every zone's offset is a whole number of minutes). A disk that
 * cuts it down or rounds it up to its step (Windows rounds FAT times up, so that a copy is
 * never older) gives back a multiple of that step and of no larger one, so the largest
 * step what comes back is a multiple of tells it; a second or a 2 s step rounding up are
 * alike (2 s taken). Not .999 of an odd second: Windows' FAT gave back the next even
 * second, 1 ms off, taken for exFAT's 10 ms step.
 */
const PROBE_TIME_MS = 1_700_000_001_455;
/** The steps disks keep times in (ms): exact, exFAT, some FUSE file systems, seconds, FAT. */
const TIME_STEPS_MS = [1, 10, 100, 1000, 2000];

/** The mode the probe asks for: any other than the 0o600 it is made with. */
const PROBE_MODE = 0o640;
/** The owner the probe asks for, run as root: `daemon` (1:1) on Linux and macOS. */
const PROBE_OWNER = 1;

export class KeptMeta {
  readonly #byDevice = new Map<string, DiskKeeps>();
  readonly #os: typeof Deno.build.os;
  /** One line per disk found to keep less, for the restore to say once. */
  readonly notes: string[] = [];

  constructor(os: typeof Deno.build.os = Deno.build.os) {
    this.#os = os;
  }

  /** What the disk of `folder` keeps, asked with a temporary file named `probe` there. */
  of(folder: Reached, probe: string): DiskKeeps {
    const device = folder.id?.split(":")[0] ?? folder.path;
    let keeps = this.#byDevice.get(device);
    if (keeps === undefined) {
      // Windows keeps no modes to ask of any disk: only the time step is (a FAT stick's 2 s).
      keeps = this.#os === "windows" ? probeTimeStep(folder, probe) : probeDisk(folder, probe);
      this.#byDevice.set(device, keeps);
      const lost = [!keeps.modes && "modes", !keeps.owners && "owners"].filter((s) => s);
      if (lost.length > 0) {
        this.notes.push(
          `the disk of '${folder.path}' keeps no file ${lost.join(" or ")} (FAT, exFAT): ` +
            `the files restored there have the disk's own, and theirs are not compared`,
        );
      }
    }
    return keeps;
  }
}

/** Asks the disk of `folder` its time step only; the rest is taken as kept. */
function probeTimeStep(folder: Reached, probe: string): DiskKeeps {
  return withProbeFile(
    folder,
    probe,
    ALL_KEPT,
    (at) => ({ ...ALL_KEPT, timeStepMs: timeStep(at) }),
  );
}

/** Asks the disk of `folder`; a probe that cannot be made there tells nothing (all kept). */
function probeDisk(folder: Reached, probe: string): DiskKeeps {
  return withProbeFile(folder, probe, ALL_KEPT, (at) => ({
    modes: takes(at, () => Deno.chmodSync(at, PROBE_MODE), modeIs),
    owners: ownersKept(at),
    timeStepMs: timeStep(at),
    xattrs: xattrsKept(at, "user.backup-tool-probe", new Uint8Array([1])),
    acls: xattrsKept(at, "system.posix_acl_access", PROBE_ACL),
    rootXattrs: GIVES_OWNERS && xattrsKept(at, "trusted.backup-tool-probe", new Uint8Array([1])),
  }));
}

/**
 * The ACL the probe asks for: the minimal one of its mode 0640 (user::rw-, group::r--,
 * other::---, each with no id), which a disk that keeps ACLs takes as a chmod, storing
 * nothing: Linux's posix_acl_xattr format, version 2, entries of tag, permissions and id.
 */
const PROBE_ACL = new Uint8Array([
  ...[2, 0, 0, 0],
  ...[0x01, 0, 6, 0, 0xff, 0xff, 0xff, 0xff],
  ...[0x04, 0, 4, 0, 0xff, 0xff, 0xff, 0xff],
  ...[0x20, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
]);

/**
 * Whether attributes such as `name` (user.*, an ACL, trusted.*) are given there by this
 * process (xattrs.ts): not where the disk keeps none of them or the process may not give
 * them; any other refusal (no room left) tells nothing, and they are compared.
 */
function xattrsKept(at: string, name: string, value: Uint8Array): boolean {
  if (!XATTRS_KEPT) return false;
  const set = encodeXattrs([{ name: new TextEncoder().encode(name), value }]);
  return !applyXattrs({ path: at }, set, false).some((r) =>
    r.kind === "unsupported" || r.kind === "denied"
  );
}

/** The step the disk keeps modification times in: the smallest that covers what it cut off. */
function timeStep(at: string): number {
  try {
    const when = new Date(PROBE_TIME_MS);
    Deno.utimeSync(at, when, when);
    const kept = lstatOrNone(at)?.mtime?.getTime();
    return kept === undefined ? 1 : timeStepOf(kept);
  } catch {
    return 1; // cannot be told: compared exactly, as before
  }
}

/**
 * The step of a disk that kept PROBE_TIME_MS as `keptMs` (see PROBE_TIME_MS); 1 (compared
 * exactly) where it kept something else (exported for tests).
 */
export function timeStepOf(keptMs: number): number {
  const lost = Math.abs(PROBE_TIME_MS - keptMs);
  const steps = TIME_STEPS_MS.filter((step) => keptMs % step === 0 && lost < step);
  return steps.at(-1) ?? 1;
}

function ownersKept(at: string): boolean {
  if (!GIVES_OWNERS) return true; // only root gives owners: nothing to compare otherwise
  return takes(at, () => Deno.chownSync(at, PROBE_OWNER, PROBE_OWNER), ownerIs);
}

/** Whether `set` succeeds and the file then shows it. */
function takes(at: string, set: () => void, shows: (info: Deno.FileInfo) => boolean): boolean {
  try {
    set();
  } catch (e) {
    // Refused outright (vfat without `quiet`: EPERM): not kept. Anything else: unknown.
    return !(e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotSupported);
  }
  const info = lstatOrNone(at);
  return info === undefined || shows(info);
}

const modeIs = (info: Deno.FileInfo) => ((info.mode ?? 0) & 0o7777) === PROBE_MODE;
const ownerIs = (info: Deno.FileInfo) => info.uid === PROBE_OWNER && info.gid === PROBE_OWNER;

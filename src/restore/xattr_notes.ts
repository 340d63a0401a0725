/**
 * What a restore says of extended attributes a destination would not take: once per disk
 * and kind of refusal, as a note (the files are restored all the same, and the exit code
 * stays): a disk that keeps none (FAT, exFAT, some network shares: ENOTSUP), attributes
 * only root may set (trusted.*, file capabilities: EPERM) given by another user, and any
 * other refusal (no room left for them: ENOSPC, a value too large for the disk: E2BIG).
 * Keeps only the notes: nothing on disk, so an interruption leaves nothing behind.
 */
import type { Refusal } from "../engine/fs/xattrs.ts";
import { GIVES_OWNERS } from "../engine/fs/owner.ts";

export class XattrNotes {
  /** Disk and kind of refusal already said: `<device>:<kind>`. */
  readonly #said = new Set<string>();
  /** One line per disk and kind of refusal, for the restore to say once. */
  readonly notes: string[] = [];
  /** Whether this process runs as root (asked for a refusal only root could overcome). */
  readonly #asRoot: boolean;

  constructor(asRoot = GIVES_OWNERS) {
    this.#asRoot = asRoot;
  }

  /** Takes the refusals met giving a file in `folder`, on device `dev`, its attributes. */
  refused(folder: string, dev: number, refusals: readonly Refusal[]): void {
    for (const r of refusals) {
      const key = `${dev}:${r.kind}`;
      if (this.#said.has(key)) continue;
      this.#said.add(key);
      this.notes.push(noteOf(folder, r, this.#asRoot));
    }
  }
}

function noteOf(folder: string, r: Refusal, asRoot: boolean): string {
  switch (r.kind) {
    case "unsupported":
      return `the disk of '${folder}' keeps no extended attributes (FAT, exFAT, some ` +
        `network shares): the files restored there are without those recorded ('${r.name}')`;
    case "denied":
      return `only root may set extended attributes such as '${r.name}' (trusted.*, file ` +
        `capabilities): the files restored to '${folder}' are without them; ` +
        (asRoot
          ? "this root may not (a container's root may lack CAP_SYS_ADMIN, for trusted.*, or " +
            "CAP_SETFCAP, for capabilities): " +
            "restore where root has them, on the host, to give them back"
          : "restore as root to give them back");
    case "other":
      return `the disk of '${folder}' refused extended attribute '${r.name}': ${r.why}: ` +
        `some files restored there are without those recorded`;
  }
}

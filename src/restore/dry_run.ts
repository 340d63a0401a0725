/**
 * `restore --dry-run`: what a restore would do to each destination, said without writing
 * anything. Each item goes through the very decision the writer follows (dest_decision.ts:
 * the backup root refused, a symlink or a file on the way refused, a folder in the way, a
 * twin's name, the same content up to date, other content left alone unless
 * `--overwrite`), its folders reached through `DestFolders` (pinned.ts) given `lookByPath`, which
 * opens each read-only as a reach does (or looks with lstat) and makes none: a folder missing is one the restore would make, and what
 * would go in it is new. What would be written is said restored (`replaces` where it would
 * replace a file, with `--overwrite`), and a later name of a file the backup recorded under
 * several names is said a hard link of the first (as hard_links.ts would make it, where the
 * disk allows). The stored copies are not read, and no disk is probed (for the modes it
 * keeps, or letter case): nothing is made, not even a temporary file, so an interruption
 * leaves nothing.
 */
import { loadDigests } from "../engine/digest.ts";
import { folderIdentityOf, hasOpenPaths, knownFolderIdentity } from "../engine/fs/identity.ts";
import { otherMountsOf } from "../engine/fs/mounts.ts";
import { READ_BUFFER_BYTES } from "../engine/stage.ts";
import { decide, type DecideOptions } from "./dest_decision.ts";
import { keyOf } from "./hard_links.ts";
import {
  DestFolders,
  identityOf,
  OPEN_FOLDER,
  openFolderError,
  type Reached,
  RefusedFolder,
} from "./pinned.ts";
import * as fs from "node:fs";
import { join, parse, relative, sep } from "node:path";
import { lstatOrNone } from "../engine/fs/fsops.ts";
import type { RestoreItem, RestoreResult } from "./restore_item.ts";
import { type RestoredHere, Twins } from "./twins.ts";

/** Groups of hard links remembered, as hard_links.ts's anchors are bounded. */
const ANCHORS_LIMIT = 100_000;

export interface DryRunOptions {
  overwrite: boolean;
  onResult(r: RestoreResult): void;
  /** As `RestoreAllOptions.restoredHere` (batches.ts): twins under another name. */
  restoredHere?: RestoredHere;
}

/** Says what restoring every item would do, in the items' order; writes nothing. */
export async function dryRunAll(
  root: string,
  items: Iterable<RestoreItem>,
  opts: DryRunOptions,
): Promise<void> {
  await loadDigests();
  const folders = new DestFolders(knownFolderIdentity(root), lookByPath);
  const links = new DryLinks();
  const dopts: DecideOptions = {
    overwrite: opts.overwrite,
    buf: new Uint8Array(READ_BUFFER_BYTES),
    rootAliases: otherMountsOf(root),
    twins: opts.restoredHere && new Twins(opts.restoredHere),
    // No disk is probed for letter case: every destination found taken is looked at.
    lookFirst: true,
    links,
  };
  for (const given of items) {
    const decision = await decide(root, given, dopts, folders, "");
    if (decision.kind === "done") {
      opts.onResult(decision.result);
      continue;
    }
    const { item, existing, folder } = decision;
    folder.release();
    const linkOf = links.written(item);
    opts.onResult({
      ...item,
      outcome: "restored",
      ...existing ? { replaces: true } : {},
      ...linkOf === undefined ? {} : { hardLinkOf: linkOf },
    });
  }
}

/**
 * The first name of each hard-linked group a dry run would write or finds up to date as
 * recorded: the one the later names would be made links of (hard_links.ts's anchors).
 */
class DryLinks {
  readonly #anchors = new Map<string, string>();

  found(item: RestoreItem): void {
    const key = keyOf(item.copy);
    if (key !== undefined && !this.#anchors.has(key)) this.#remember(key, item.dest);
  }

  /** The item would be written: the file it would be a link of, or none (it anchors). */
  written(item: RestoreItem): string | undefined {
    const key = keyOf(item.copy);
    if (key === undefined) return undefined;
    const anchor = this.#anchors.get(key);
    if (anchor === undefined) this.#remember(key, item.dest);
    return anchor;
  }

  #remember(key: string, dest: string): void {
    if (this.#anchors.size >= ANCHORS_LIMIT) {
      this.#anchors.delete(this.#anchors.keys().next().value!);
    }
    this.#anchors.set(key, dest);
  }
}

/**
 * A dry run's reach (`DestFolders`' `look`), as the restore's own reach goes where it will
 * write: where folders are held open (Linux, `throughProc`: pinned.ts's openBase), each
 * folder from `/` down to `dir` opened read-only and closed again; elsewhere (macOS,
 * Windows: pinned.ts's reachByPath) each from `base` down looked at with lstat, the base
 * itself followed where it is a symlink, the folders above it not looked at (macOS's /tmp
 * and /var, TMPDIR's, are symlinks to /private/…). Refused as that reach refuses it (a
 * symlink or a file on the way, the backup root), one this user may not enter said in a
 * reach's words; the first one missing is said `made` (none below it is looked for). Makes
 * nothing, holds nothing open.
 */
export function lookByPath(
  base: string,
  dir: string,
  rootId?: string,
  throughProc = hasOpenPaths(),
): Reached {
  let made: string | undefined;
  let id: string | undefined;
  const from = throughProc ? parse(base).root : base;
  const parts = relative(from, dir).split(sep).filter((p) => p !== "");
  let path = from;
  for (const folder of [...throughProc ? [] : [base], ...parts.map((p) => path = join(path, p))]) {
    const entered = throughProc ? enter(folder) : lookAt(folder, folder === base);
    if (entered === undefined) {
      made = folder;
      id = undefined;
      break;
    }
    id = entered.id;
    if (rootId !== undefined && id === rootId) throw new RefusedFolder("backup-root", folder);
  }
  return { path: dir, id, made, at: (name) => join(dir, name), release: () => {} };
}

/**
 * The identity of the folder at `path` as reachByPath sees it (lstat; `followed`, the
 * base: through its symlink), undefined where it is missing; throws `RefusedFolder` for a
 * symlink (but the base) or a file.
 */
function lookAt(path: string, followed: boolean): { id?: string } | undefined {
  let info = lstatOrNone(path);
  if (info === undefined) return undefined;
  if (info.isSymlink && !followed) throw new RefusedFolder("symlink", path);
  if (info.isSymlink) info = Deno.statSync(path);
  if (!info.isDirectory) throw new RefusedFolder("file", path);
  return info.ino ? { id: folderIdentityOf(info) } : {};
}

/**
 * The identity of the folder at `path`, entered as pinned.ts's reach enters it where
 * folders are held open: opened read-only, without following a symlink, and closed again;
 * undefined where it is missing. Throws `RefusedFolder` for a symlink or a file, and where
 * it may not be entered, an error in a reach's words.
 */
function enter(path: string): { id?: string } | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path, OPEN_FOLDER);
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return undefined;
    throw openFolderError(e, path, path); // dest_folder.ts adds the remedy
  }
  try {
    return { id: identityOf(fd) };
  } finally {
    fs.closeSync(fd);
  }
}

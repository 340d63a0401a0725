/**
 * Verify: re-hash stored copies (all, or a random sample) with the algorithm each was
 * recorded with, and walk the backup root for files the state does not know. Every copy's
 * presence is checked (a stat each, cheap); only hashing is sampled. `.backup-tool/` is not
 * walked, nor run logs in a log folder an older config put inside the backup root.
 * Read-only: an interruption leaves nothing behind.
 *
 * Run it while no backup runs: a run in progress moves copies between the state's view and
 * the walk, and would show up as missing or unknown files. What an interrupted run left
 * (journaled, not recorded) is taken into account: its moved copies are checked where
 * they went.
 */
import { join } from "node:path";
import type { StoredCopy } from "../state/store.ts";
import { STATE_DIR } from "../engine/layout.ts";
import { isRunLogName } from "../log/runlog.ts";
import { nativePath } from "../engine/fsops.ts";
import { hashCopy, READ_BUFFER_BYTES } from "../engine/stage.ts";
import { errorText } from "../engine/errors.ts";
import { loadDigests } from "../engine/digest.ts";
import { movedTo, type Unfinished } from "./unfinished.ts";
import { DiskProbe } from "../engine/foreign.ts";

export interface BadCopy {
  /** Storage path relative to the backup root, with `/`. */
  file: string;
  /** The logical path and content number whose copy this is. */
  path: string;
  version: number;
  /** Changed copies: what was recorded, what was found (or why it could not be read). */
  algo?: string;
  expected?: string;
  found?: string;
}

export interface VerifyReport {
  ok: boolean;
  /** Copies re-hashed. */
  checked: number;
  /** Copies the state records. */
  total: number;
  missing: BadCopy[];
  changed: BadCopy[];
  unknown: { file: string }[];
  /**
   * Actions of an interrupted run, journaled but never recorded (0 normally): the copies
   * they moved were checked where they went, and the copies they placed are not unknown.
   */
  unfinished: number;
}

export interface VerifyOptions {
  /** Percentage of copies to re-hash, 0 < p <= 100 (default 100). */
  samplePercent?: number;
  /**
   * The log folder's storage path, when an older config put it inside the backup root (""
   * for the root itself): the tool's run logs there are not unknown files.
   */
  logFolder?: string;
  /** Random source in [0, 1), replaceable in tests. */
  random?: () => number;
  /** Called after each copy is re-hashed (progress display). */
  onProgress?: (done: number, total: number, copy: StoredCopy) => void;
  /** What an interrupted run left unrecorded (see unfinished.ts). */
  unfinished?: Unfinished;
}

export async function verifyBackup(
  root: string,
  copies: StoredCopy[],
  opts: VerifyOptions = {},
): Promise<VerifyReport> {
  await loadDigests();
  const onDisk = walk(root, opts.logFolder);
  const report: VerifyReport = {
    ok: true,
    checked: 0,
    total: copies.length,
    missing: [],
    changed: [],
    unknown: [],
    unfinished: opts.unfinished?.actions ?? 0,
  };
  const unfinished = opts.unfinished;
  /** Copies found, each with the name it was listed under and where it may have moved. */
  const present: [StoredCopy, string, string[]][] = [];
  const known = new Set([...copies.map((c) => c.storedAt!), ...unfinished?.placed ?? []]);
  for (const to of unfinished?.moved.values() ?? []) known.add(to);
  const listed = listedNames(onDisk, known, new DiskProbe(root).ignoresCase());
  for (const c of copies) {
    const moved = unfinished ? movedTo(unfinished, c.storedAt!) : [];
    const name = [listed(c.storedAt!), ...moved].find((n) =>
      n !== undefined && onDisk.get(n) === c.kind
    );
    if (name !== undefined) {
      present.push([c, name, moved.filter((m) => m !== name && onDisk.get(m) === c.kind)]);
      known.add(name);
    } else report.missing.push(bad(c));
  }
  for (const file of onDisk.keys()) if (!known.has(file)) report.unknown.push({ file });
  const sample = pick(present, opts.samplePercent ?? 100, opts.random ?? Math.random);
  const buf = new Uint8Array(READ_BUFFER_BYTES);
  for (const [c, name, moved] of sample) {
    const found = digestOf(root, name, c, buf);
    // Where an interrupted run placed new content over it, the old one is where it moved.
    const intact = found === c.hash || moved.some((m) => digestOf(root, m, c, buf) === c.hash);
    if (!intact) report.changed.push({ ...bad(c), algo: c.algo, expected: c.hash, found });
    report.checked++;
    opts.onProgress?.(report.checked, sample.length, c);
  }
  report.ok = report.missing.length + report.changed.length + report.unknown.length === 0;
  return report;
}

/**
 * The name the walk listed for a stored copy: its own or, on a disk that stores names
 * decomposed (HFS+, the format of many older Mac backup disks, lists `é` as `e` and an
 * accent), the one listed name that differs from it only in Unicode normalization and is
 * no other copy's. Such a disk opens the copy by either name. On a disk that ignores case,
 * letter case may differ too: two source folders `Docs` and `docs` are one folder there,
 * listed under the name made first.
 */
function listedNames(
  onDisk: Map<string, unknown>,
  known: Set<string>,
  ignoresCase: boolean,
): (storedAt: string) => string | undefined {
  const keyOf = (name: string) =>
    ignoresCase ? name.normalize("NFC").toLowerCase() : name.normalize("NFC");
  let byNfc: Map<string, string[]> | undefined;
  return (storedAt) => {
    if (onDisk.has(storedAt)) return storedAt;
    if (byNfc === undefined) {
      byNfc = new Map();
      for (const name of onDisk.keys()) {
        if (known.has(name)) continue;
        const key = keyOf(name);
        byNfc.set(key, [...byNfc.get(key) ?? [], name]);
      }
    }
    const key = keyOf(storedAt);
    const candidates = byNfc.get(key) ?? [];
    if (candidates.length !== 1) return undefined;
    byNfc.delete(key); // claimed: no other copy is at that name
    return candidates[0];
  };
}

function bad(c: StoredCopy): BadCopy {
  return { file: c.storedAt!, path: c.path, version: c.seq };
}

function digestOf(root: string, name: string, c: StoredCopy, buf: Uint8Array): string {
  const at = nativePath(root, name);
  try {
    return hashCopy(at, c.kind, c.algo, buf);
  } catch (e) {
    return `unreadable: ${errorText(e)}`;
  }
}

/** A uniform random sample of ceil(n × percent / 100) items, in their original order. */
export function pick<T>(items: T[], percent: number, random: () => number): T[] {
  const k = Math.min(items.length, Math.ceil((items.length * percent) / 100));
  if (k >= items.length) return items;
  const idx = items.map((_, i) => i);
  // Partial Fisher–Yates: the first k slots end up a uniform k-subset.
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (idx.length - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, k).sort((a, b) => a - b).map((i) => items[i]);
}

/** Every entry under `root` (storage path → kind) but the state folder and run logs. */
function walk(root: string, logFolder?: string): Map<string, "file" | "symlink" | "other"> {
  const out = new Map<string, "file" | "symlink" | "other">();
  const logPrefix = logFolder === undefined || logFolder === "" ? logFolder : `${logFolder}/`;
  const visit = (dir: string, prefix: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const rel = prefix + e.name;
      if (rel === STATE_DIR) continue;
      if (prefix === logPrefix && e.isFile && isRunLogName(e.name)) continue;
      if (e.isDirectory) visit(join(dir, e.name), `${rel}/`);
      else out.set(rel, e.isFile ? "file" : e.isSymlink ? "symlink" : "other");
    }
  };
  visit(root, "");
  return out;
}

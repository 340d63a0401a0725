/**
 * `purge`'s decision, a pure rule: which stored copies a purge of some logical paths
 * deletes, or which paths refuse it. Only a path no run backs up any more may be purged: one
 * the state no longer tracks (deleted from its source, its copy in `_deleted/`), or one
 * tracked but excluded by the config now (an exclude pattern matches it: the state marks it
 * excluded from the next run on, if it has not yet). A path still tracked and not excluded
 * now, or one of a source the config does not name (a second config sharing the backup root
 * may still back it up), refuses the whole purge: a folder PATH with any such file below it
 * too, nothing changed. Otherwise every copy recorded as stored at or below the PATHs goes
 * (latest, duplicate, versions, `_deleted/`), each as a prune marked `purge`, which the
 * executor and the journal treat as retention's (execute.ts `pruneCopy`, batch.ts), the
 * state records "purged" (record.ts) and the log names (`PURGE delete:`); and the record of
 * every content whose copy went before (lost, or pruned by retention) is marked purged too
 * (`PURGE record:`), what it holds of the content (a symlink's target) cleared. Nothing here
 * touches the disk or the state.
 */
import type { Action, RecordedContent } from "./types.ts";

/** A recorded content, as the rule reads it (the state's `copies` row). */
export interface PurgeCopy {
  id: number;
  path: string;
  seq: number;
  kind: "file" | "symlink";
  location: string;
  storedAt: string | null;
  size: number;
  mtimeMs: number;
  hash: string;
  algo: string;
}

/** A path the state tracks now (a `files` row). */
export interface PurgeTracked {
  path: string;
  status: "current" | "excluded";
}

/** What the rule is told of the config now. */
export interface PurgeRules {
  /** The sources the config names. */
  sources: ReadonlySet<string>;
  /**
   * Whether an exclude pattern matches the logical path now (`<source>/<rel>`), or a folder
   * it is in is left out now (tagged, or on another device: left_out.ts).
   */
  excluded(path: string): boolean;
  /**
   * Whether a tracked path is gone from its source now: deleted, and no run has archived
   * its deletion (the mass-deletion guard held it back). Asked of the first refused only.
   */
  gone?(path: string): boolean;
  /**
   * The folder of a source the config names, where it is not there now (a disk not mounted,
   * the folder moved): no run can look at its files. Asked of the first refused only.
   */
  missingSource?(source: string): string | undefined;
}

export type PurgeAction = Extract<Action, { type: "prune" }>;

/** A copy the purge deletes, with what the listing says of it. */
export interface PurgeItem {
  action: PurgeAction;
  location: string;
  size: number;
}

/** A recorded content whose copy went before the purge: its record is marked purged. */
export interface PurgeRecord {
  id: number;
  path: string;
  seq: number;
  location: "lost" | "pruned";
}

export type PurgeDecision =
  | { refused: { path: string; reason: string }[] }
  | { items: PurgeItem[]; bytes: number; records: PurgeRecord[] };

/** Where a copy recorded as stored may be deleted by a purge. */
const STORED = new Set(["latest", "duplicate", "version", "deleted"]);
/** What a record says of a copy gone before the purge: its record is marked purged. */
const GONE = new Set(["lost", "pruned"]);

/**
 * The purge of `copies` (every content recorded at or below the PATHs) given `tracked`
 * (the paths tracked at or below them): the refusals, if any path is still backed up, else
 * the copies to delete, by path then content number.
 */
export function decidePurge(
  copies: readonly PurgeCopy[],
  tracked: readonly PurgeTracked[],
  rules: PurgeRules,
): PurgeDecision {
  const refused = tracked.flatMap((t) => {
    const reason = stillBackedUp(t, rules);
    return reason === undefined ? [] : [{ path: t.path, reason }];
  });
  // The first one named: deleted already, where a run held its deletion back, the remedy is
  // another run, not a deletion; its source folder not there, no run starts (the config is
  // refused), so the remedy is the folder first.
  const first = tracked.find((t) => t.path === refused[0]?.path);
  const source = first?.path.split("/")[0] ?? "";
  if (first && first.status === "current" && rules.sources.has(source)) {
    const folder = rules.missingSource?.(source);
    if (folder !== undefined) {
      refused[0] = { path: first.path, reason: sourceMissing(folder, source) };
    } else if (rules.gone?.(first.path)) refused[0] = { path: first.path, reason: HELD_BACK };
  }
  if (refused.length > 0) return { refused };
  const sorted = [...copies]
    .sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : a.seq - b.seq);
  const items = sorted
    .filter((c) => c.storedAt !== null && STORED.has(c.location))
    .map((c): PurgeItem => ({ action: purgeAction(c), location: c.location, size: c.size }));
  const records = sorted
    .filter((c) => c.storedAt === null && GONE.has(c.location))
    .map(({ id, path, seq, location }) => ({ id, path, seq, location }) as PurgeRecord);
  return { items, bytes: items.reduce((n, i) => n + i.size, 0), records };
}

const HELD_BACK = "it is gone from the source, but no run has archived its deletion yet " +
  "(deletions held back by safety.max_delete_percent?): run, with --force if they are held " +
  "back again, then purge";

/** A source folder not there: back in place, or, gone for good, an empty one in its name. */
function sourceMissing(folder: string, source: string): string {
  return `its source folder '${folder}' is not there (a disk not mounted, or the folder ` +
    "moved), and no run starts without it: put the folder back (or mount its disk), " +
    `run, then purge; if it is gone for good, point the source's "path" at an empty folder, ` +
    `keeping "name": "${source}", run with --force, then purge`;
}

/** Why a tracked path is still backed up, if it is. */
function stillBackedUp(t: PurgeTracked, rules: PurgeRules): string | undefined {
  const source = t.path.split("/")[0];
  if (!rules.sources.has(source)) {
    return `it belongs to source '${source}', which this config does not name (another ` +
      "config sharing the backup root may still back it up): purge it with that config, " +
      `or, if none names it any more, add { "path": "<an empty folder>", "name": "${source}" } ` +
      "to this config's sources, run with --force, then purge";
  }
  if (rules.excluded(t.path)) return undefined;
  return t.status === "excluded"
    ? "nothing in the config leaves it out any more (no exclude pattern, folder's tag, " +
      "one_file_system or exclude_larger_than), so the next run backs it up again: leave it " +
      "out again, then purge"
    : "it is still backed up: add it to exclude, or delete it from the source and run, " +
      "then purge";
}

/** The prune of one copy, asked by name. */
function purgeAction(c: PurgeCopy): PurgeAction {
  const recorded: RecordedContent | undefined = c.kind === "file"
    ? { size: c.size, mtimeMs: c.mtimeMs, hash: c.hash, algo: c.algo }
    : undefined;
  return {
    type: "prune",
    path: c.path,
    copyId: c.id,
    seq: c.seq,
    storedAt: c.storedAt!,
    ...(recorded && { recorded }),
    ...(c.kind === "symlink" && { link: { hash: c.hash, algo: c.algo } }),
    purge: true,
  };
}

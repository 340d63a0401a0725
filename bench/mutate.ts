// Deterministic mutations of a generated tree, for the incremental scenarios.
//
// planMutation() picks, with its own seeded PRNG, which files of a TreePlan change, which are
// deleted and which new files appear; applyMutation() performs that on a directory holding the
// pristine tree. "mixed" = 1% changed + 0.5% added + 0.5% deleted; "changed1" = 1% changed;
// "promote" deletes the first holder of the most-held content (see firstHolder); "ctime"
// moves every file's change time and nothing else (a chmod to its own mode, as `chmod -R`,
// `chown -R` or a restore of the tree by `cp -a` do to size-and-mtime-equal files).
// A changed file keeps its path and exact size (so only mtime and content reveal the change);
// new files draw their size from the tree's ordinary-file distribution.

import { join } from "node:path";
import {
  content,
  DEFAULT_SEED,
  drawSize,
  type FileEntry,
  mix,
  mulberry32,
  type TreePlan,
} from "./gen.ts";

export type MutationKind = "mixed" | "changed1" | "promote" | "ctime";

export interface MutationPlan {
  kind: MutationKind;
  changed: FileEntry[]; // same path and size as before, new content seed
  deleted: FileEntry[];
  added: FileEntry[];
  touched: FileEntry[]; // change time moved, nothing else
}

/** Rates per kind: "mixed" = 1% changed + 0.5% added + 0.5% deleted; "changed1" = 1% changed. */
export const MUTATION_RATES: Record<
  Exclude<MutationKind, "promote" | "ctime">,
  { changed: number; added: number; deleted: number }
> = {
  mixed: { changed: 0.01, added: 0.005, deleted: 0.005 },
  changed1: { changed: 0.01, added: 0, deleted: 0 },
};

/** Derives a mutation deterministically from the tree plan (same seed → same change set). */
export function planMutation(
  plan: TreePlan,
  kind: MutationKind,
  seed = DEFAULT_SEED,
): MutationPlan {
  if (kind === "promote") {
    return { kind, changed: [], deleted: [firstHolder(plan)], added: [], touched: [] };
  }
  if (kind === "ctime") return { kind, changed: [], deleted: [], added: [], touched: plan.files };
  const rates = MUTATION_RATES[kind];
  const rnd = mulberry32(mix(seed, kind === "mixed" ? 0xc0ffee : 0xbeef));
  const n = plan.files.length;
  const nChanged = Math.round(n * rates.changed);
  const nDeleted = Math.round(n * rates.deleted);
  const nAdded = Math.round(n * rates.added);
  // Partial Fisher-Yates: the first nChanged + nDeleted slots are distinct random file indices.
  const idx = new Int32Array(n).map((_, i) => i);
  for (let i = 0; i < nChanged + nDeleted; i++) {
    const j = i + Math.floor(rnd() * (n - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  const changed = Array.from(idx.subarray(0, nChanged), (i) => ({
    ...plan.files[i],
    seed: mix(seed ^ 0x7a11, i),
  }));
  const deleted = Array.from(idx.subarray(nChanged, nChanged + nDeleted), (i) => plan.files[i]);
  const added: FileEntry[] = [];
  for (let k = 0; k < nAdded; k++) {
    const f = plan.folders[Math.floor(rnd() * plan.folders.length)];
    const name = `new${k}.dat`;
    const size = drawSize(plan.spec, rnd);
    added.push({ path: f ? `${f}/${name}` : name, size, seed: mix(seed ^ 0xadd, k), mtime: 0 });
  }
  return { kind, changed, deleted, added, touched: [] };
}

/**
 * The first path, in code point order (the order the tool walks and ranks holders in), of the
 * content most files hold: the one a backup stores at its own path, the others being its
 * duplicates. Deleting it makes the next run promote a duplicate to its own path.
 */
function firstHolder(plan: TreePlan): FileEntry {
  const holders = new Map<number, FileEntry[]>();
  for (const f of plan.files) {
    const list = holders.get(f.seed);
    if (list) list.push(f);
    else holders.set(f.seed, [f]);
  }
  const most = [...holders.values()].reduce((a, b) => (b.length > a.length ? b : a));
  return most.reduce((a, b) => (b.path < a.path ? b : a));
}

/**
 * Applies a mutation in place to a directory holding the base tree. Rewritten and added files
 * keep the natural mtime ("now"), which never equals a base mtime (those are all in 2024).
 */
export function applyMutation(dir: string, m: MutationPlan): void {
  for (const f of m.changed) Deno.writeFileSync(join(dir, f.path), content(f.seed, f.size));
  for (const f of m.added) Deno.writeFileSync(join(dir, f.path), content(f.seed, f.size));
  for (const f of m.deleted) Deno.removeSync(join(dir, f.path));
  for (const f of m.touched) {
    const path = join(dir, f.path);
    Deno.chmodSync(path, Deno.statSync(path).mode! & 0o7777);
  }
}

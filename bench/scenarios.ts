// Scenario definitions and the per-scenario driver.
//
// Every tool works in <run dir>/<scenario>/<tool>/ (bench/work/run, or bench/work/mnt/run with
// --fs-image): `state/` holds everything the tool keeps between runs (dst = backup root / mirror /
// repository, plus config, logs and caches), `snap/` a cp -a copy of `state/` taken after the
// untimed baseline backup.
//
//   first backup     each rep starts from an empty `state/` (deleted and re-created untimed).
//   nothing changed  one untimed baseline backup of the pristine tree, then every rep re-runs on
//                    the same tree. A no-op run leaves the state as it found it (modulo logs), so
//                    nothing is restored between reps — that would cost minutes on the 1m tree.
//   restore          one untimed baseline backup, then every rep restores everything into an
//                    `out/` folder that does not exist yet (removed untimed before each rep).
//   mutations        the source is a private copy of the tree. Baselines of all tools are taken
//                    while it is pristine; before each timed rep the source is reset to the base
//                    tree with rsync (only files that differ are rewritten, so unchanged files
//                    keep inode/ctime for tools like restic that look at them), the deterministic
//                    mutation is applied again, and `state/` is restored from `snap/`.
//
// The watch scenarios (`watch/latency`, `watch/idle`) are listed here and run by watch.ts.
//
// Reps alternate tools (ours, rsync, cp, restic, ours, rsync, …) so drift hits all alike. All
// preparation is followed by `sync` so its writeback is not billed to the timed run. Page cache
// stays warm: trees are read once before a first-backup scenario, and baselines read them too.

import { join } from "node:path";
import { content, type FileEntry, markerPath, type TreePlan } from "./gen.ts";
import { applyMutation, type MutationKind, type MutationPlan, planMutation } from "./mutate.ts";
import {
  copyTree,
  countFiles,
  emptyDir,
  flush,
  median,
  rmrf,
  type Sample,
  syncTree,
  timed,
  warm,
} from "./measure.ts";
import type { Tool, ToolCtx } from "./tools.ts";
import { DEBOUNCE_MS, IDLE_WINDOW_S } from "./watch.ts";
import type { WatchFigures } from "./watch_figures.ts";

export interface Scenario {
  id: string; // "<tree>/<slug>", what --only matches
  tree: string;
  kind: "first" | "nochange" | "mutate" | "restore" | "watch";
  mutation?: MutationKind;
  /** A watch scenario's measure (watch.ts); its id is `watch/<this>`. */
  watch?: "latency" | "idle";
  label: string;
}

export function scenarios(opts: { quick: boolean; with1m: boolean }): Scenario[] {
  const mixedTree = opts.quick ? "2k" : "20k";
  const tinyTree = opts.quick ? "10k" : "100k";
  const dupTree = opts.quick ? "dups2k" : "dups";
  const list: Omit<Scenario, "id">[] = [
    { tree: mixedTree, kind: "first", label: "first backup" },
    { tree: mixedTree, kind: "nochange", label: "nothing changed" },
    { tree: tinyTree, kind: "nochange", label: "nothing changed" },
    ...(opts.with1m ? [{ tree: "1m", kind: "nochange" as const, label: "nothing changed" }] : []),
    { tree: mixedTree, kind: "mutate", mutation: "mixed", label: "1% chg +0.5% add -0.5% del" },
    { tree: tinyTree, kind: "mutate", mutation: "changed1", label: "1% changed" },
    { tree: tinyTree, kind: "mutate", mutation: "ctime", label: "all ctimes moved (chmod)" },
    { tree: dupTree, kind: "first", label: "first backup" },
    { tree: dupTree, kind: "mutate", mutation: "promote", label: "original deleted" },
    { tree: mixedTree, kind: "restore", label: "restore everything" },
    { tree: tinyTree, kind: "restore", label: "restore everything" },
    { tree: mixedTree, kind: "watch", watch: "latency", label: watchLabels.latency },
    { tree: mixedTree, kind: "watch", watch: "idle", label: watchLabels.idle },
  ];
  const slugs = { first: "first-backup", nochange: "nothing-changed", restore: "restore" };
  const id = (s: Omit<Scenario, "id">) =>
    s.kind === "watch"
      ? `watch/${s.watch}`
      : `${s.tree}/${s.kind === "mutate" ? s.mutation! : slugs[s.kind]}`;
  return list.map((s) => ({ ...s, id: id(s) }));
}

const watchLabels = {
  latency: `saved file to backup (debounce ${DEBOUNCE_MS} ms)`,
  idle: `idle ${IDLE_WINDOW_S} s after the first pass`,
};

export interface Row {
  id: string;
  tree: string;
  scenario: string;
  tool: string;
  status: "ok" | "FAILED" | "CHECK";
  note?: string;
  samples: Sample[];
  wall: number; // medians
  cpu: number;
  rssMiB: number;
  ratio?: number; // wall / rsync wall, filled in by the caller
  /** A watch scenario's figures (wall and cpu are NaN there; rssMiB is the peak seen). */
  watch?: WatchFigures;
}

/** How long ours distrusts a fingerprint after a change (RACY_WINDOW_MS in src/engine/batch.ts). */
const RACY_WINDOW_MS = 2000;

/** Waits until a file written at the end of a tree's generation is older than the racy window. */
async function agePastRacyWindow(lastWritten: string): Promise<void> {
  const mtime = (await Deno.stat(lastWritten)).mtime?.getTime() ?? 0;
  const wait = mtime + RACY_WINDOW_MS + 100 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

// Mirror spot-check sizes: 20 changed (or evenly spaced) files plus 5 added files are read back
// and compared with regenerated bytes — enough to catch a missed change, cheap at any tree size.
const CHECK_FILES = 20;
const CHECK_ADDED = 5;
// Above this many files, the mirror check walks the destination only after the last rep.
const CHECK_EVERY_REP_MAX_FILES = 200_000;

function log(id: string, msg: string) {
  console.error(`[${id}] ${msg}`);
}

/** Spot-checks a mirror-style destination; returns a problem description or null. */
function verifyMirror(tool: Tool, dst: string, plan: TreePlan, m?: MutationPlan): string | null {
  const deleted = m?.deleted.length ?? 0, added = m?.added.length ?? 0;
  const expected = plan.files.length - deleted + added;
  const sample: FileEntry[] = m
    ? [...m.changed.slice(0, CHECK_FILES), ...m.added.slice(0, CHECK_ADDED)]
    : Array.from(
      { length: CHECK_FILES },
      (_, i) => plan.files[Math.floor((i * plan.files.length) / CHECK_FILES)],
    );
  for (const f of sample) {
    const want = content(f.seed, f.size);
    const found = (tool.locate?.(f.path) ?? [f.path]).some((rel) => {
      try {
        const got = Deno.readFileSync(join(dst, rel));
        return got.length === want.length && got.every((b, i) => b === want[i]);
      } catch {
        return false;
      }
    });
    if (!found) return `missing or different in backup: ${f.path}`;
  }
  const n = countFiles(dst, tool.stateDirs);
  return n === expected ? null : `backup has ${n} files, source ${expected}`;
}

/** What a restored tree is checked as: the source's files at their own paths, nothing else. */
const rsyncLike = { stateDirs: [] } as unknown as Tool;

export interface RunOptions {
  runs: number;
  /** Keep the scenario's scratch folder afterwards (--keep). */
  keep: boolean;
  /** Parent of the per-scenario scratch folders. */
  runDir: string;
}

export async function runScenario(
  sc: Scenario,
  plan: TreePlan,
  treeDir: string,
  tools: Tool[],
  { runs, keep, runDir }: RunOptions,
): Promise<Row[]> {
  const scDir = join(runDir, sc.id.replace("/", "-"));
  await emptyDir(scDir);
  const mutation = sc.mutation ? planMutation(plan, sc.mutation, plan.seed) : undefined;
  const src = sc.kind === "mutate" ? join(scDir, "src") : treeDir;
  if (sc.kind === "mutate") {
    await copyTree(treeDir, src);
    // Let the copy's ctimes age past ours' racy window (2 s) before the baselines: a file
    // changed that recently is recorded with an untrusted fingerprint, and as every rep
    // restores the state from the baseline's snapshot, every rep would read it again
    // (about half the 20k tree), which no real second run does.
    await new Promise((resolve) => setTimeout(resolve, RACY_WINDOW_MS + 100));
  } else if (sc.kind !== "first") {
    // The same for a tree generated just now (its marker is written last): its last files
    // would be read again by the first rep only, which then paid for them (the 1m tree's
    // first no-change rep: 11.5 s and 326 MiB against 7.3 s and 120 MiB for the second).
    await agePastRacyWindow(markerPath(treeDir));
  }

  const active = tools.filter((t) =>
    sc.kind === "restore" ? t.restore !== undefined : !(t.firstOnly && sc.kind !== "first")
  );
  /** Where a restore scenario's tool writes what it restores (emptied before each rep). */
  const outOf = (t: Tool) => join(scDir, t.name, "out");
  const ctxs = new Map<Tool, ToolCtx>();
  const failed = new Map<Tool, string>();
  const check = new Map<Tool, string>();
  const samples = new Map<Tool, Sample[]>();
  for (const t of active) {
    const dir = join(scDir, t.name, "state");
    ctxs.set(t, { src, dst: join(dir, "dst"), dir });
    samples.set(t, []);
  }
  const fresh = async (t: Tool) => {
    const ctx = ctxs.get(t)!;
    await emptyDir(ctx.dir);
    await Deno.mkdir(ctx.dst);
    await t.init(ctx);
  };
  const snapOf = (t: Tool) => join(scDir, t.name, "snap");

  if (sc.kind === "first") {
    warm(src);
  } else {
    for (const t of active) {
      log(sc.id, `baseline ${t.name}`);
      await fresh(t);
      const s = await timed(t.command(ctxs.get(t)!), scDir);
      if (s.code !== 0) failed.set(t, `baseline: ${s.error}`);
      else if (sc.kind === "mutate") await copyTree(ctxs.get(t)!.dir, snapOf(t));
    }
  }

  for (let rep = 0; rep < runs; rep++) {
    for (const t of active) {
      if (failed.has(t)) continue;
      const ctx = ctxs.get(t)!;
      if (sc.kind === "first") {
        await fresh(t);
      } else if (sc.kind === "mutate") {
        await syncTree(treeDir, src);
        applyMutation(src, mutation!);
        await copyTree(snapOf(t), ctx.dir);
      } else if (sc.kind === "restore") {
        await rmrf(outOf(t)); // created by the restore, as a restore to a new folder does
      }
      await flush();
      const command = sc.kind === "restore" ? t.restore!(ctx, outOf(t)) : t.command(ctx);
      const s = await timed(command, scDir);
      log(
        sc.id,
        `rep ${rep + 1}/${runs} ${t.name}: ${
          s.code === 0 ? `${s.wall.toFixed(2)} s` : `FAILED: ${s.error}`
        }`,
      );
      if (s.code !== 0) {
        failed.set(t, s.error ?? "failed");
        continue;
      }
      samples.get(t)!.push(s);
      const lastRep = rep === runs - 1;
      if (
        t.mirror && !check.has(t) && (lastRep || plan.files.length <= CHECK_EVERY_REP_MAX_FILES)
      ) {
        const problem = sc.kind === "restore"
          ? verifyMirror(rsyncLike, outOf(t), plan)
          : verifyMirror(t, ctx.dst, plan, mutation);
        if (problem) {
          check.set(t, problem);
          log(sc.id, `${t.name}: CHECK ${problem}`);
        }
      }
    }
  }
  if (!keep) await rmrf(scDir);

  return active.map((t) => {
    const ss = samples.get(t)!;
    const err = failed.get(t);
    return {
      id: sc.id,
      tree: sc.tree,
      scenario: sc.label,
      tool: t.name,
      status: err ? "FAILED" : check.has(t) ? "CHECK" : "ok",
      note: err ?? check.get(t),
      samples: ss,
      wall: err ? NaN : median(ss.map((s) => s.wall)),
      cpu: err ? NaN : median(ss.map((s) => s.cpu)),
      rssMiB: err ? NaN : median(ss.map((s) => s.rssMiB)),
    };
  });
}

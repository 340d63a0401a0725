/**
 * The checks the model tests share (history_model_test.ts drives `run`, watch_model_test.ts
 * `watch`): whether the backup holds the source exactly as it is now, metadata included
 * (checked independently of the tool, from the state and the stored bytes), every recorded
 * moment restored with `restore --at` and compared with the model's tree, and the quiet end
 * (`verify` clean, one more run that changes nothing). They only read the source and the
 * backup; restores go to new folders under the fixture's.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { checkBackup, countsOf, latestProblems, pool, type Rng, type ToolResult } from "./util.ts";
import {
  contentsOf,
  type Entry,
  expectedTrees,
  snapshotTree,
  type Tree,
  treeDiff,
} from "./history_model_tree.ts";

/** The CLI with the fixture's `--config`. */
export type Cli = (...args: string[]) => Promise<ToolResult>;

/** A moment of the model: the source's tree, as the backup held it at `time`. */
export interface Moment {
  time: number;
  /** Just before the backup could next change (the same tree must come back). */
  before?: number;
  tree: Tree;
}

export const iso = (ms: number) => new Date(ms).toISOString();

/**
 * What keeps the backup from holding the source exactly as it is now ([] when it does): the
 * independent checker's problems, a content differing, and a file whose mode or mtime the
 * state does not record (in its row, or its current copy's, which a restore gives back).
 */
export function syncProblems(fx: { source: string; backup: string }, name = "source"): string[] {
  const check = checkBackup(fx.backup);
  const problems = [...check.problems, ...latestProblems(fx.source, fx.backup, check, name)];
  const byId = new Map(check.state.copies.map((c) => [c.id, c]));
  const tracked = new Map(check.state.files.map((f) => [f.path, f]));
  for (const [rel, e] of snapshotTree(fx.source)) {
    const f = tracked.get(`${name}/${rel}`);
    if (f === undefined || e.kind !== "file") continue;
    const c = byId.get(f.copy_id);
    for (const [what, row] of [["tracked", f], ["copy", c]] as const) {
      if (row === undefined) continue;
      if ((row.mode & 0o7777) !== e.mode || row.mtime_ms !== e.mtimeMs) {
        problems.push(
          `${rel}: ${what} mode ${(row.mode & 0o7777).toString(8)} mtime ${iso(row.mtime_ms)}, ` +
            `source mode ${e.mode.toString(8)} mtime ${iso(e.mtimeMs)}`,
        );
      }
    }
  }
  return problems;
}

export interface RestoreCheck {
  cli: Cli;
  /** Where the restores go, each in a folder of its own. */
  dir: string;
  r: Rng;
  maxVersions: number;
  /**
   * Other metadata a path's file may be restored with as of moment `k`: a content whose
   * mode or mtime changed where no moment saw it (docs/restore.md's known limit).
   */
  alsoRight?: (k: number, path: string) => Entry[];
}

/**
 * Restores every moment (and a few as of just before the source next changed, and a few of
 * one folder or file) and compares each with the model. With a small `max_versions_per_file`
 * a path may instead be reported pruned (exit 1), but only for a content retention was
 * allowed to drop. Returns one line per difference, and the counts.
 */
export async function restoreProblems(
  moments: Moment[],
  { cli, dir, r, maxVersions, alsoRight }: RestoreCheck,
): Promise<{ problems: string[]; restores: number; pruned: number }> {
  const expected = expectedTrees(moments.map((m) => m.tree));
  type Job = { k: number; at: number; label: string; only?: string };
  const jobs: Job[] = moments.flatMap((m, k) => [
    { k, at: m.time, label: `moment ${k}` },
    ...(m.before !== undefined && k % 5 === 2
      ? [{ k, at: m.before, label: `before moment ${k + 1}` }]
      : []),
  ]);
  // A few restores of one folder or one file as of a moment.
  for (let k = 1; k < moments.length; k += 4) {
    const paths = [...moments[k].tree.keys()];
    if (paths.length === 0) continue;
    const path = r.pick(paths);
    const folders = path.split("/").slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join("/"));
    const only = folders.length > 0 && r.next() < 0.6 ? r.pick(folders) : path;
    jobs.push({ k, at: moments[k].time, label: `${only} at moment ${k}`, only });
  }
  let pruned = 0;
  const problems = await pool(jobs, 2, async ({ k, at, label, only }) => {
    const out = join(dir, `restore-${jobs.findIndex((j) => j.label === label)}`);
    const res = await cli(
      "restore",
      ...(only === undefined ? [] : [only]),
      "--at",
      iso(at),
      "--to",
      out,
      "--json",
    );
    const where = `restore ${only ?? ""} --at ${iso(at)} (${label})`;
    if (res.code !== 0 && res.code !== 1) return [`${where}: exit ${res.code}: ${res.stderr}`];
    const doc = JSON.parse(res.stdout);
    const want = new Map(
      [...expected[k]].filter(([p]) =>
        only === undefined || p === only || p.startsWith(`${only}/`)
      ),
    );
    const lines: string[] = [];
    for (const f of doc.failed as { path: string; version?: number; kind: string }[]) {
      const rel = f.path.replace(/^source\//, "");
      const seq = contentsOf(moments.map((m) => m.tree), rel);
      const index = seq.findIndex((c) => c.first <= k && k <= c.last);
      // Retention keeps the current content and the max_versions_per_file newest
      // before it, so only an older one can be reported pruned.
      if (f.kind !== "pruned" || index < 0 || index >= seq.length - 1 - maxVersions) {
        lines.push(
          `${where}: ${rel} reported ${f.kind} (v${f.version}, model content ` +
            `${index + 1} of ${seq.length}): ${JSON.stringify(f)}`,
        );
      }
      want.delete(rel);
      pruned++;
    }
    if (res.code !== (doc.failed.length > 0 ? 1 : 0)) lines.push(`${where}: exit ${res.code}`);
    let got: Tree = new Map();
    try {
      got = snapshotTree(out);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    for (const [path, e] of got) {
      if (
        alsoRight?.(k, path).some((other) =>
          treeDiff(new Map([[path, e]]), new Map([[path, other]])).length === 0
        )
      ) {
        want.set(path, e);
      }
    }
    lines.push(...treeDiff(got, want).map((l) => `${where}: ${l}`));
    return lines;
  });
  return { problems: problems.flat(), restores: jobs.length, pruned };
}

/** `verify` is clean and one more run changes nothing: `last` is the source's tree. */
export async function assertQuietEnd(cli: Cli, last: Tree, context: string): Promise<void> {
  const verify = await cli("verify", "--json");
  assert.equal(verify.code, 0, `verify, ${context}\n${verify.stdout}\n${verify.stderr}`);
  assert.equal(JSON.parse(verify.stdout).ok, true);
  const again = await cli("run", "--json");
  assert.equal(again.code, 0, `the run after the last, ${context}\n${again.stderr}`);
  const c = countsOf(again);
  const noop = { ...c, skip: last.size, backup: 0, modified: 0, duplicate: 0, delete: 0 };
  assert.deepEqual(c, { ...noop, prune: 0, failed: 0 }, `the run after the last, ${context}`);
}

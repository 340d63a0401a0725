/**
 * Long life of one backup root: a seeded history of many runs (long_life_source.ts: hot
 * files edited again and again, files deleted and made again at their path, renamed, made
 * duplicates and not, a path a file, then a folder, then a file again), with
 * `max_versions_per_file` and `log_retention` changed up and down in the config as it goes.
 *
 * After each run, from the state (read-only) and the run's log: a path's content number
 * keeps its digest for good, and a name in versions/ never holds another content (nothing
 * a user browses there misleads); the versions kept are exactly the `max` newest of those
 * kept before and those archived now (a limit raised brings nothing back), and each one
 * pruned is named by a `RETENTION delete:` line of that run, and no other; `_duplicates/`
 * holds the current duplicates only; `.backup-tool/` holds nothing new and an empty tmp/;
 * `log_dir` no more logs than `log_retention`. At the end: `history` of every path lists
 * the model's contents in order, `restore --at` of every few moments gives each file's
 * exact bytes or names it as pruned (only where the backup holds its bytes nowhere),
 * nothing more; `verify` is clean and one more run changes nothing.
 *
 * LONG_LIFE_RUNS=<n> sets the number of runs (default 100: 15 to 35 s here; 400: 56 s),
 * LONG_LIFE_RESTORE_EVERY=<k> restores every k-th moment (default 4, and the last 5);
 * RELIABILITY_SEED=<n> replays a seed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, readTree, writeConfig } from "../helpers.ts";
import { snapshotTree } from "./history_model_tree.ts";
import { LongLifeSource } from "./long_life_source.ts";
import { assertQuietEnd } from "./model_checks.ts";
import { type CopyRow, readState, rng, runTool, sha256, storedFiles, suiteSeed } from "./util.ts";

const RUNS = Number(Deno.env.get("LONG_LIFE_RUNS") ?? 100);
const RESTORE_EVERY = Number(Deno.env.get("LONG_LIFE_RESTORE_EVERY") ?? 4);

type Row = CopyRow & { pruned_at: number | null; valid_to: number | null };

/** Every file under `root` (none when it is not there). */
function filesUnder(root: string): Record<string, string> {
  try {
    return readTree(root, []);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return {};
    throw e;
  }
}

/** What the checks after each run remember of the runs before. */
class Audit {
  readonly #digestOf = new Map<string, string>(); // `path#seq` → digest
  readonly #contentAt = new Map<string, string>(); // a versions/ name → digest
  readonly #kept = new Map<string, Set<number>>(); // path → seqs in versions/
  readonly #pruned = new Set<string>(); // `path#seq`
  readonly #storedAt = new Map<string, string>(); // `path#seq` → its versions/ name

  /** The problems of the state after one run with `max`, whose log is `log`. */
  check(rows: Row[], max: number, log: string[]): string[] {
    const problems: string[] = [];
    for (const r of rows) {
      const key = `${r.path}#${r.seq}`;
      const was = this.#digestOf.get(key);
      if (was !== undefined && was !== r.hash) problems.push(`${key} changed its digest`);
      this.#digestOf.set(key, r.hash);
      if (r.location !== "version" || r.stored_at === null) continue;
      const held = this.#contentAt.get(r.stored_at);
      if (held !== undefined && held !== r.hash) {
        problems.push(`${r.stored_at} held another content before (${key} now)`);
      }
      this.#contentAt.set(r.stored_at, r.hash);
    }
    const logged = log.filter((l) => l.startsWith("RETENTION delete: ")).map((l) => l.slice(18));
    const named = new Set<string>();
    for (const [path, list] of versionsByPath(rows)) {
      const before = this.#kept.get(path) ?? new Set<number>();
      const now = list.filter((r) =>
        before.has(r.seq) || r.location === "version" || !this.#pruned.has(`${path}#${r.seq}`)
      ).map((r) => r.seq).sort((a, b) => a - b);
      const want = now.slice(Math.max(0, now.length - max));
      const kept = list.filter((r) => r.location === "version").map((r) => r.seq);
      if (want.join() !== kept.join()) {
        problems.push(
          `${path} (max ${max}): versions ${kept.join()} kept, ${want.join()} expected`,
        );
      }
      for (const r of list.filter((r) => r.location === "pruned")) {
        const key = `${path}#${r.seq}`;
        if (this.#pruned.has(key)) continue;
        this.#pruned.add(key);
        const name = this.#storedAt.get(key) ??
          logged.find((l) => l.endsWith(`/v${r.seq}.bak`) && !this.#isKnown(l));
        if (name === undefined || !logged.includes(name)) {
          problems.push(`${key} pruned, no RETENTION delete line names it`);
        } else named.add(name);
      }
      this.#kept.set(path, new Set(kept));
      for (const r of list) if (r.stored_at) this.#storedAt.set(`${path}#${r.seq}`, r.stored_at);
    }
    for (const l of logged) {
      if (!named.has(l)) problems.push(`RETENTION delete: ${l}: nothing pruned`);
    }
    return problems;
  }

  #isKnown(name: string): boolean {
    return [...this.#storedAt.values()].includes(name);
  }
}

function versionsByPath(rows: Row[]): Map<string, Row[]> {
  const out = new Map<string, Row[]>();
  for (const r of rows) {
    if (r.location !== "version" && r.location !== "pruned") continue;
    out.set(r.path, [...(out.get(r.path) ?? []), r]);
  }
  return out;
}

/** What must not pile up: the tool's own folder, duplicates no longer current, logs. */
function leftovers(backup: string, logs: string, rows: Row[], logRetention: number): string[] {
  const problems: string[] = [];
  const state = join(backup, ".backup-tool");
  const own = [...Deno.readDirSync(state)].map((e) => e.name).sort();
  const extra = own.filter((n) => !["lock", "reserve", "state.db", "tmp"].includes(n));
  if (extra.length) problems.push(`.backup-tool holds ${extra.join(", ")}`);
  const tmp = [...Deno.readDirSync(join(state, "tmp"))].length;
  if (tmp) problems.push(`.backup-tool/tmp holds ${tmp} entries`);
  const dups = Object.keys(filesUnder(join(backup, "_duplicates"))).length;
  const current = rows.filter((r) => r.location === "duplicate" && r.valid_to === null).length;
  if (dups !== current) problems.push(`_duplicates/ holds ${dups} files, ${current} current`);
  const logCount = [...Deno.readDirSync(logs)].filter((e) => e.name.endsWith(".log")).length;
  if (logCount > logRetention) problems.push(`${logCount} logs, log_retention ${logRetention}`);
  return problems;
}

Deno.test("long life: retention changed up and down over many runs keeps, prunes, numbers and logs exactly", async () => {
  const seed = suiteSeed(7);
  const r = rng(seed);
  const replay = `seed ${seed} (RELIABILITY_SEED=${seed} replays it)`;
  using fx = makeFixture({});
  const config = (max: number, logRetention: number) =>
    writeConfig(fx.config, {
      sources: [{ path: "./source", name: "source" }],
      backup_root: "./backup",
      log_dir: "./logs",
      retention: { max_versions_per_file: max },
      safety: { max_delete_percent: 100 },
      log_retention: logRetention,
    });
  const cli = (...args: string[]) => runTool([...args, "--config", fx.config]);
  const src = new LongLifeSource(fx.source, r);
  const audit = new Audit();
  const journal: string[] = [];
  const moments: { run: number; tree: Map<string, string> }[] = [];
  const contents = new Map<string, string[]>(); // path → digests, in the model's order
  let prev = new Map<string, string>();
  let max = 3, logRetention = 8;
  const fail = (what: string): never => {
    throw new Error(`${replay}: ${what}\n${journal.slice(-30).join("\n")}`);
  };
  config(max, logRetention);
  for (let run = 1; run <= RUNS; run++) {
    if (run % 15 === 0) max = r.pick([1, 2, 3, 5, 8].filter((m) => m !== max));
    if (run % 40 === 0) logRetention = logRetention === 8 ? 3 : 8;
    config(max, logRetention);
    journal.push(
      `run ${run} (max ${max}, log_retention ${logRetention}): ${src.mutate().join("; ")}`,
    );
    const out = await cli("run", "--quiet");
    if (out.code !== 0) fail(`run ${run} exited ${out.code}: ${out.stderr}`);
    moments.push({ run, tree: new Map(src.tree) });
    for (const [p, c] of src.tree) {
      if (prev.get(p) !== c || !prev.has(p)) {
        contents.set(p, [...(contents.get(p) ?? []), sha256(c)]);
      }
    }
    prev = new Map(src.tree);
    const rows = readState(fx.backup).copies as Row[];
    const problems = [
      ...audit.check(rows, max, fx.lastLog()),
      ...leftovers(fx.backup, fx.logs, rows, logRetention),
    ];
    if (problems.length) fail(`after run ${run}:\n  ${problems.join("\n  ")}`);
  }

  for (const [path, want] of contents) {
    const h = await cli("history", `source/${path}`, "--json");
    const got = (JSON.parse(h.stdout).versions as { hash: string }[]).map((v) => v.hash);
    if (got.join() !== want.join()) {
      fail(`history ${path}: ${got.length} contents, model ${want.length}`);
    }
  }

  const stored = new Set(storedFiles(fx.backup).values());
  const runs = JSON.parse((await cli("history", "--json")).stdout).runs as {
    run: number;
    endedAt: string;
  }[];
  let whole = 0, pruned = 0;
  for (const [i, m] of moments.entries()) {
    if (i % RESTORE_EVERY !== 0 && i < moments.length - 5) continue;
    if (m.tree.size === 0) continue;
    const at = runs.find((x) => x.run === m.run)!.endedAt;
    const to = join(fx.dir, `at-${m.run}`);
    const out = await cli("restore", "--at", at, "--to", to);
    const got = filesUnder(to);
    const said = out.stdout + out.stderr;
    const missing = [...m.tree.keys()].filter((p) => !(p in got));
    for (const [p, c] of m.tree) {
      if (p in got && got[p] !== c) fail(`restore --at ${at} (run ${m.run}): ${p} has other bytes`);
    }
    for (const p of Object.keys(got)) {
      if (!m.tree.has(p)) fail(`restore --at ${at} (run ${m.run}): ${p} was not there`);
    }
    for (const p of missing) {
      const c = m.tree.get(p)!;
      if (c === "" || stored.has(sha256(c))) {
        fail(`run ${m.run}: ${p} not restored, its bytes are stored`);
      }
      if (
        !new RegExp(`NOT RESTORED: source/${p} \\(v\\d+\\): version \\d+ was pruned by retention`)
          .test(said)
      ) {
        fail(`run ${m.run}: ${p} not restored, and not said to be pruned:\n${said}`);
      }
    }
    assert.equal(out.code, missing.length ? 1 : 0, said);
    if (missing.length) pruned++;
    else whole++;
    if (Object.keys(got).length) Deno.removeSync(to, { recursive: true });
  }

  await assertQuietEnd(cli, snapshotTree(fx.source), replay);
  console.log(
    `  ${replay}: ${RUNS} runs, ${whole} moments restored whole, ${pruned} with pruned files named`,
  );
});

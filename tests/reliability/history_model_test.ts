/**
 * Model-based history test. A small source tree (20–60 files, a few symlinks, nested
 * folders) goes through a seeded random sequence of rounds; each round applies 1–6
 * mutations (create — sometimes empty, sometimes a duplicate or an earlier content —,
 * modify — a few hot files often, sometimes back to one of their own earlier contents —,
 * touch, chmod, delete, re-create a deleted path, rename a file (sometimes onto another),
 * rename a folder — sometimes the biggest —, a file replaced by a folder of its name and
 * back, a file replaced by a symlink and back, symlinks created, retargeted and deleted,
 * a duplicate's original deleted or modified), then `run` (`--force` when the deletions
 * could trip the mass-deletion guard). The model is the exact tree after each round (path
 * → kind, digest, mode and mtime of files, target of symlinks) and the wall-clock moment
 * right after the run returned.
 *
 * After every round the backup must have converged (checked independently of the tool).
 * After the last round, for every recorded moment, `restore --at` must give that tree
 * exactly: bytes, modes and mtimes (the mtime and mode a content had when it was last
 * current: README's known limit), symlinks with their targets, nothing more; so must a
 * few restores of one folder or file, and of the moment just before the next run. With a
 * small `max_versions_per_file` a path may instead be reported as pruned (exit 1), but
 * only for a content retention was allowed to drop, and never restored with wrong bytes.
 * Then `verify` is clean, one more run is a no-op, and `history` of some paths lists the
 * contents the model saw, in order, with times between the right runs and the last mtime.
 *
 * Mtimes are distinct minutes in the past (as restore_helpers.ts's `put` does), so no
 * change hides behind a same-second timestamp and no sleep waits out the racy window.
 * RELIABILITY_SEED=<n> replays a seed; HISTORY_MODEL_ROUNDS=<n> sets the round count;
 * HISTORY_MODEL_DEEP=1 adds `verify` after every run and `history` of every path;
 * HISTORY_MODEL_KEEP=<dir> keeps a failing case's folders (source, backup, logs) there.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { type Fixture, makeFixture } from "../helpers.ts";
import {
  assertConverged,
  countsOf,
  pool,
  type Rng,
  rng,
  runTool,
  sha256,
  suiteSeed,
} from "./util.ts";

// ---------------------------------------------------------------------------------------
// The model: the exact tree after each round

type Entry =
  | { kind: "file"; hash: string; size: number; mode: number; mtimeMs: number }
  | { kind: "symlink"; hash: string; target: string };

type Tree = Map<string, Entry>;

/** Every file and symlink under `root` (symlinks never followed), sorted by path. */
function snapshotTree(root: string): Tree {
  const out: [string, Entry][] = [];
  const walk = (dir: string, prefix: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const abs = join(dir, e.name);
      const rel = prefix + e.name;
      if (e.isSymlink) {
        const target = Deno.readLinkSync(abs);
        out.push([rel, { kind: "symlink", hash: sha256(target), target }]);
      } else if (e.isDirectory) walk(abs, `${rel}/`);
      else if (e.isFile) {
        const bytes = Deno.readFileSync(abs);
        const info = Deno.lstatSync(abs);
        out.push([rel, {
          kind: "file",
          hash: sha256(bytes),
          size: bytes.length,
          mode: info.mode! & 0o7777,
          mtimeMs: info.mtime!.getTime(),
        }]);
      }
    }
  };
  walk(root, "");
  return new Map(out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const sameContent = (a: Entry | undefined, b: Entry | undefined) =>
  a !== undefined && b !== undefined && a.kind === b.kind && a.hash === b.hash;

/**
 * What `restore --at` must give for each moment: the tree of that moment, each file with
 * the mode and mtime its content had when it was last current (README, "Known limit": a
 * metadata-only change updates the content's recorded metadata in place).
 */
function expectedTrees(trees: Tree[]): Tree[] {
  const out: Tree[] = new Array(trees.length);
  for (let k = trees.length - 1; k >= 0; k--) {
    const t: Tree = new Map();
    for (const [path, e] of trees[k]) {
      const later = out[k + 1]?.get(path);
      t.set(path, later && sameContent(later, e) ? later : e);
    }
    out[k] = t;
  }
  return out;
}

/** One path's contents as the model saw them, oldest first (a new one at every change). */
interface ModelContent {
  entry: Entry;
  /** Rounds in which it was the path's content: first and last. */
  first: number;
  last: number;
}

function contentsOf(trees: Tree[], path: string): ModelContent[] {
  const out: ModelContent[] = [];
  trees.forEach((t, k) => {
    const e = t.get(path);
    if (!e) return;
    const prev = out[out.length - 1];
    if (prev && prev.last === k - 1 && sameContent(prev.entry, e)) {
      prev.last = k;
      prev.entry = e; // the metadata it had when last current
    } else out.push({ entry: e, first: k, last: k });
  });
  return out;
}

function describe(e: Entry | undefined): string {
  if (!e) return "absent";
  if (e.kind === "symlink") return `symlink -> ${JSON.stringify(e.target)}`;
  return `file ${e.hash.slice(0, 10)} ${e.size} B mode ${e.mode.toString(8)} mtime ${
    new Date(e.mtimeMs).toISOString()
  }`;
}

/** Differences between two trees, one line each ([] when equal). */
function treeDiff(got: Tree, want: Tree): string[] {
  const out: string[] = [];
  for (const path of new Set([...got.keys(), ...want.keys()])) {
    const g = got.get(path);
    const w = want.get(path);
    if (describe(g) !== describe(w)) {
      out.push(`${path}: restored ${describe(g)}, expected ${describe(w)}`);
    }
  }
  return out.sort();
}

// ---------------------------------------------------------------------------------------
// The mutations

const MODES = [0o644, 0o600, 0o640, 0o664, 0o755, 0o700];
const MIN_FILES = 20;
const MAX_FILES = 60;

class Source {
  /** Distinct minutes in the past: every write and touch gets its own mtime. */
  private clock = Date.UTC(2024, 0, 1);
  private counter = 0;
  /** Contents written so far, for reverts to an earlier content. */
  private used: Uint8Array[] = [];
  /** Contents written to each path, for a path going back to one of its own. */
  private written = new Map<string, Uint8Array[]>();

  constructor(readonly root: string, readonly r: Rng, readonly churn: number) {}

  abs(rel: string): string {
    return join(this.root, ...rel.split("/"));
  }

  /** Regular files, symlinks and folders (relative; folders without the root). */
  list(): { files: string[]; links: string[]; dirs: string[] } {
    const files: string[] = [];
    const links: string[] = [];
    const dirs: string[] = [];
    const walk = (dir: string, prefix: string) => {
      for (const e of [...Deno.readDirSync(dir)].sort((a, b) => a.name < b.name ? -1 : 1)) {
        const rel = prefix + e.name;
        if (e.isSymlink) links.push(rel);
        else if (e.isDirectory) {
          dirs.push(rel);
          walk(join(dir, e.name), `${rel}/`);
        } else files.push(rel);
      }
    };
    walk(this.root, "");
    return { files, links, dirs };
  }

  private tick(rel: string): void {
    this.clock += 61_000;
    const when = new Date(this.clock);
    Deno.utimeSync(this.abs(rel), when, when);
  }

  write(rel: string, data: Uint8Array): void {
    Deno.mkdirSync(dirname(this.abs(rel)), { recursive: true });
    Deno.writeFileSync(this.abs(rel), data);
    this.tick(rel);
    this.used.push(data);
    this.written.set(rel, [...(this.written.get(rel) ?? []), data]);
  }

  touch(rel: string): void {
    this.tick(rel);
  }

  /** Whether a file can be written at `rel`: absent, below real folders or nothing. */
  free(rel: string): boolean {
    const parts = rel.split("/");
    for (let i = 1; i <= parts.length; i++) {
      let info: Deno.FileInfo;
      try {
        info = Deno.lstatSync(this.abs(parts.slice(0, i).join("/")));
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return true;
        throw e;
      }
      if (i === parts.length || !info.isDirectory) return false;
    }
    return false;
  }

  /** A fresh name in `dir` ("" = the root). */
  name(dir: string, stem = "f", ext = ".txt"): string {
    return `${dir === "" ? "" : `${dir}/`}${stem}${this.counter++}${ext}`;
  }

  /** Content for a new or modified file: fresh, empty, another file's, or an earlier one. */
  content(files: string[], not?: string): { data: Uint8Array; how: string } {
    const x = this.r.next();
    const others = files.filter((f) => f !== not);
    if (x < 0.08) return { data: new Uint8Array(), how: "empty" };
    if (x < 0.25 && others.length > 0) {
      const from = this.r.pick(others);
      return { data: Deno.readFileSync(this.abs(from)), how: `same as ${from}` };
    }
    if (x < 0.35 && this.used.length > 0) {
      return { data: this.r.pick(this.used), how: "an earlier content" };
    }
    const text = new TextEncoder().encode(`content ${this.counter++}\n`);
    const data = new Uint8Array([...text, ...this.r.bytes(this.r.int(0, 300))]);
    return { data, how: `fresh (${data.length} B)` };
  }

  symlinkTarget(files: string[]): string {
    const x = this.r.next();
    if (x < 0.5 && files.length > 0) return `../${this.r.pick(files)}`;
    if (x < 0.7) return this.r.pick(["nowhere", "/etc/hostname", ".", "..", "/"]);
    return `t${this.counter++}/${"x".repeat(this.r.int(1, 20))}`;
  }

  /** Groups of regular files with the same non-empty content, each sorted by path. */
  duplicateGroups(files: string[]): string[][] {
    const by = new Map<string, string[]>();
    for (const f of files) {
      const data = Deno.readFileSync(this.abs(f));
      if (data.length === 0) continue;
      const h = sha256(data);
      by.set(h, [...(by.get(h) ?? []), f]);
    }
    return [...by.values()].filter((g) => g.length > 1).map((g) => g.sort());
  }

  /** Applies one random mutation; returns its kind and what it did (for the journal). */
  mutate(): [string, string] {
    const kind = this.pickKind();
    return [kind, this.apply(kind)];
  }

  private pickKind(): string {
    const { files, links } = this.list();
    const total = files.length + links.length;
    const weights: [string, number][] = [
      ["create", total < MIN_FILES ? 12 : total > MAX_FILES ? 0 : 4],
      ["modify", 4],
      ["churn", this.churn], // modifies one of a few hot files: many versions, retention prunes
      ["touch", 2],
      ["chmod", 2],
      ["delete", total > MAX_FILES ? 12 : total < MIN_FILES ? 0 : 3],
      ["rename-file", 2],
      ["rename-folder", 1],
      ["file-to-folder", 1],
      ["folder-to-file", 1],
      ["symlink-create", 1],
      ["symlink-retarget", 1],
      ["symlink-delete", 1],
      ["file-symlink-swap", 1],
      ["delete-dup-original", 1],
      ["modify-dup-original", 1],
      ["recreate", 2], // a path that was deleted comes back
    ];
    let x = this.r.next() * weights.reduce((s, [, w]) => s + w, 0);
    for (const [k, w] of weights) if ((x -= w) < 0) return k;
    return weights[0][0];
  }

  private apply(kind: string): string {
    const r = this.r;
    const { files, links, dirs } = this.list();
    const places = ["", ...dirs.filter((d) => d.split("/").length < 3)];
    switch (kind) {
      case "create": {
        const dir = r.next() < 0.15 ? this.name(r.pick(places), "d", "") : r.pick(places);
        const rel = this.name(dir);
        const c = this.content(files);
        this.write(rel, c.data);
        return `create ${rel}: ${c.how}`;
      }
      case "modify": {
        if (files.length === 0) return "modify: no file";
        const rel = r.pick(files);
        const c = this.content(files, rel);
        this.write(rel, c.data);
        return `modify ${rel}: ${c.how}`;
      }
      case "churn": {
        if (files.length === 0) return "churn: no file";
        const rel = r.pick(files.slice(0, 3));
        const own = this.written.get(rel) ?? [];
        if (own.length > 1 && r.next() < 0.3) {
          const back = r.int(0, own.length - 2);
          this.write(rel, own[back]);
          return `modify hot ${rel}: back to its content #${back + 1}`;
        }
        const c = this.content(files, rel);
        this.write(rel, c.data);
        return `modify hot ${rel}: ${c.how}`;
      }
      case "touch": {
        if (files.length === 0) return "touch: no file";
        const rel = r.pick(files);
        this.touch(rel);
        return `touch ${rel}`;
      }
      case "chmod": {
        if (files.length === 0) return "chmod: no file";
        const rel = r.pick(files);
        const was = Deno.statSync(this.abs(rel)).mode! & 0o7777;
        const mode = r.pick(MODES.filter((m) => m !== was));
        Deno.chmodSync(this.abs(rel), mode);
        return `chmod ${rel} ${mode.toString(8)}`;
      }
      case "delete": {
        if (files.length === 0) return "delete: no file";
        const rel = r.pick(files);
        Deno.removeSync(this.abs(rel));
        return `delete ${rel}`;
      }
      case "rename-file": {
        if (files.length === 0) return "rename-file: no file";
        const from = r.pick(files);
        const others = files.filter((f) => f !== from);
        const to = r.next() < 0.2 && others.length > 0
          ? r.pick(others) // onto an existing file, which it replaces
          : this.name(r.pick(places));
        Deno.mkdirSync(dirname(this.abs(to)), { recursive: true });
        Deno.renameSync(this.abs(from), this.abs(to));
        return `rename ${from} -> ${to}`;
      }
      case "rename-folder": {
        if (dirs.length === 0) return "rename-folder: no folder";
        // Sometimes the folder holding the most files: a big share of the tree moves.
        const count = (d: string) =>
          [...files, ...links].filter((f) => f.startsWith(`${d}/`)).length;
        const from = r.next() < 0.3
          ? dirs.reduce((a, b) => (count(b) > count(a) ? b : a))
          : r.pick(dirs);
        const parents = places.filter((p) => p !== from && !p.startsWith(`${from}/`));
        const to = this.name(r.pick(parents), "d", "");
        Deno.renameSync(this.abs(from), this.abs(to));
        return `rename folder ${from} (${count(from)} entries) -> ${to}`;
      }
      case "file-to-folder": {
        if (files.length === 0) return "file-to-folder: no file";
        const rel = r.pick(files);
        Deno.removeSync(this.abs(rel));
        const n = r.int(1, 3);
        for (let i = 0; i < n; i++) this.write(this.name(rel), this.content(files, rel).data);
        return `file ${rel} -> folder of ${n} file(s)`;
      }
      case "folder-to-file": {
        const small = dirs.filter((d) =>
          [...files, ...links].filter((f) => f.startsWith(`${d}/`)).length <= 4
        );
        if (small.length === 0) return "folder-to-file: no small folder";
        const rel = r.pick(small);
        Deno.removeSync(this.abs(rel), { recursive: true });
        const c = this.content(files.filter((f) => !f.startsWith(`${rel}/`)));
        this.write(rel, c.data);
        return `folder ${rel} -> file: ${c.how}`;
      }
      case "symlink-create": {
        const rel = this.name(r.pick(places), "l", "");
        const target = this.symlinkTarget(files);
        Deno.mkdirSync(dirname(this.abs(rel)), { recursive: true });
        Deno.symlinkSync(target, this.abs(rel));
        return `symlink ${rel} -> ${target}`;
      }
      case "symlink-retarget": {
        if (links.length === 0) return "symlink-retarget: no symlink";
        const rel = r.pick(links);
        const target = this.symlinkTarget(files);
        Deno.removeSync(this.abs(rel));
        Deno.symlinkSync(target, this.abs(rel));
        return `retarget ${rel} -> ${target}`;
      }
      case "symlink-delete": {
        if (links.length === 0) return "symlink-delete: no symlink";
        const rel = r.pick(links);
        Deno.removeSync(this.abs(rel));
        return `delete symlink ${rel}`;
      }
      case "file-symlink-swap": {
        if (links.length > 0 && (files.length === 0 || r.next() < 0.5)) {
          const rel = r.pick(links);
          Deno.removeSync(this.abs(rel));
          const c = this.content(files);
          this.write(rel, c.data);
          return `symlink ${rel} -> file: ${c.how}`;
        }
        if (files.length === 0) return "file-symlink-swap: nothing";
        const rel = r.pick(files);
        // Sometimes the target's text equals the file's bytes: same digest, other kind.
        const target = r.next() < 0.3 ? `same-${this.counter++}` : this.symlinkTarget(files);
        if (target.startsWith("same-")) this.write(rel, new TextEncoder().encode(target));
        Deno.removeSync(this.abs(rel));
        Deno.symlinkSync(target, this.abs(rel));
        return `file ${rel} -> symlink ${target}`;
      }
      case "recreate": {
        const gone = [...this.written.keys()].filter((p) => this.free(p));
        if (gone.length === 0) return "recreate: no deleted path";
        const rel = r.pick(gone);
        const own = this.written.get(rel)!;
        if (r.next() < 0.5) {
          this.write(rel, own[own.length - 1]);
          return `recreate ${rel}: its last content`;
        }
        const c = this.content(files);
        this.write(rel, c.data);
        return `recreate ${rel}: ${c.how}`;
      }
      case "delete-dup-original":
      case "modify-dup-original": {
        const groups = this.duplicateGroups(files);
        if (groups.length === 0) return `${kind}: no duplicates`;
        const original = r.pick(groups)[0];
        if (kind === "delete-dup-original") {
          Deno.removeSync(this.abs(original));
          return `delete duplicate's original ${original}`;
        }
        const c = this.content(files, original);
        this.write(original, c.data);
        return `modify duplicate's original ${original}: ${c.how}`;
      }
    }
    throw new Error(`unknown mutation ${kind}`);
  }

  /** The starting tree: 25–35 files in a few folders, two symlinks. */
  seed(): string[] {
    const dirs = ["", "a", "a/b", "c", "c/d", "e"];
    const n = this.r.int(25, 35);
    const log: string[] = [];
    for (let i = 0; i < n; i++) {
      const rel = this.name(this.r.pick(dirs));
      const c = this.content(this.list().files);
      this.write(rel, c.data);
      if (this.r.next() < 0.2) Deno.chmodSync(this.abs(rel), this.r.pick(MODES));
      log.push(`create ${rel}: ${c.how}`);
    }
    for (let i = 0; i < 2; i++) {
      const rel = this.name(this.r.pick(dirs), "l", "");
      const target = this.symlinkTarget(this.list().files);
      Deno.symlinkSync(target, this.abs(rel));
      log.push(`symlink ${rel} -> ${target}`);
    }
    return log;
  }
}

// ---------------------------------------------------------------------------------------
// The test

interface Variant {
  name: string;
  seed: number;
  rounds: number;
  maxVersions: number;
  maxDeletePercent: number;
  /** Weight of the mutation that modifies one of a few hot files (others: 1–4). */
  churn: number;
}

interface Moment {
  time: number;
  /** Just before the next run started (the same tree must come back). */
  before?: number;
  tree: Tree;
}

/** HISTORY_MODEL_KEEP=DIR: a failing case's folders are copied there to look at. */
function keep(fx: Fixture): void {
  const to = Deno.env.get("HISTORY_MODEL_KEEP");
  if (to) new Deno.Command("cp", { args: ["-a", fx.dir, to] }).outputSync();
}

async function cli(fx: Fixture, ...args: string[]) {
  return await runTool([...args, "--config", fx.config], { timeoutMs: 60_000 });
}

const iso = (ms: number) => new Date(ms).toISOString();

async function historyModel(v: Variant): Promise<void> {
  const r = rng(v.seed);
  const replay = `seed ${v.seed} (RELIABILITY_SEED=${v.seed} replays it)`;
  using fx = makeFixture({}, {
    retention: { max_versions_per_file: v.maxVersions },
    safety: { max_delete_percent: v.maxDeletePercent },
    log_retention: 1000, // every run's log, for HISTORY_MODEL_KEEP
  });
  const src = new Source(fx.source, r, v.churn);
  const journal: string[] = src.seed().map((l) => `round 0: ${l}`);
  const moments: Moment[] = [];
  const contentsEver = new Set<string>();
  let forced = 0;
  const kinds = new Map<string, number>();
  const fail = (what: string): never => {
    keep(fx);
    throw new Error(`${v.name}, ${replay}: ${what}\nmutations:\n  ${journal.join("\n  ")}`);
  };
  try {
    for (let round = 0; round < v.rounds; round++) {
      if (round > 0) {
        const n = r.int(1, 6);
        for (let i = 0; i < n; i++) {
          const [kind, did] = src.mutate();
          kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
          journal.push(`round ${round}: ${did}`);
        }
      }
      const tree = snapshotTree(fx.source);
      // The guard counts tracked files gone from the source: force when it could trip.
      const prev = moments[moments.length - 1]?.tree ?? new Map();
      const gone = [...prev.keys()].filter((p) => !tree.has(p)).length;
      const force = gone * 100 > (v.maxDeletePercent - 10) * prev.size || r.next() < 0.1;
      if (force) forced++;
      if (moments.length > 0) moments[moments.length - 1].before = Date.now();
      const run = await cli(fx, "run", "--json", ...(force ? ["--force"] : []));
      journal.push(`round ${round}: run${force ? " --force" : ""} (${gone} gone)`);
      const time = Date.now();
      if (run.code !== 0) {
        fail(`round ${round}: run exited ${run.code}\n${run.stdout}\n${run.stderr}`);
      }
      assert.equal(countsOf(run).failed, 0);
      moments.push({ time, tree });
      for (const e of tree.values()) contentsEver.add(e.hash);
      const current = [...tree.values()].map((e) => e.hash);
      try {
        assertConverged(fx, v.maxVersions >= v.rounds ? contentsEver : current, `round ${round}`);
      } catch (e) {
        fail((e as Error).message);
      }
      if (DEEP) {
        const verify = await cli(fx, "verify", "--json");
        if (verify.code !== 0) fail(`round ${round}: verify\n${verify.stdout}\n${verify.stderr}`);
      }
    }

    // Every moment, restored as of its time (and a few as of just before the next run).
    const expected = expectedTrees(moments.map((m) => m.tree));
    type Job = { k: number; at: number; label: string; only?: string };
    const jobs: Job[] = moments.flatMap((m, k) => [
      { k, at: m.time, label: `after run ${k}` },
      ...(m.before !== undefined && k % 5 === 2
        ? [{ k, at: m.before, label: `before run ${k + 1}` }]
        : []),
    ]);
    // A few restores of one folder or one file as of a moment.
    for (let k = 1; k < moments.length; k += 4) {
      const paths = [...moments[k].tree.keys()];
      if (paths.length === 0) continue;
      const path = r.pick(paths);
      const folders = path.split("/").slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join("/"));
      const only = folders.length > 0 && r.next() < 0.6 ? r.pick(folders) : path;
      jobs.push({ k, at: moments[k].time, label: `${only} after run ${k}`, only });
    }
    let pruned = 0;
    const problems = await pool(jobs, 2, async ({ k, at, label, only }) => {
      const out = join(fx.dir, `restore-${jobs.findIndex((j) => j.label === label)}`);
      const res = await cli(
        fx,
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
        if (f.kind !== "pruned" || index < 0 || index >= seq.length - 1 - v.maxVersions) {
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
      lines.push(...treeDiff(got, want).map((l) => `${where}: ${l}`));
      return lines;
    });
    const flat = problems.flat();
    if (flat.length > 0) fail(`restore differs from the model:\n  ${flat.join("\n  ")}`);
    if (v.maxVersions >= v.rounds) assert.equal(pruned, 0, `nothing may be pruned, ${replay}`);

    // Before the first run, nothing.
    const none = await cli(
      fx,
      "restore",
      "--at",
      iso(moments[0].time - 60_000),
      "--to",
      join(fx.dir, "none"),
    );
    assert.equal(none.code, 1, `restore before the first run, ${replay}: ${none.stderr}`);
    assert.match(none.stderr, /the backup holds no files as of/);

    // verify is clean, and the next run is a no-op.
    const verify = await cli(fx, "verify", "--json");
    assert.equal(verify.code, 0, `verify, ${replay}\n${verify.stdout}\n${verify.stderr}`);
    assert.equal(JSON.parse(verify.stdout).ok, true);
    const again = await cli(fx, "run", "--json");
    assert.equal(again.code, 0, `the run after the last, ${replay}\n${again.stderr}`);
    const c = countsOf(again);
    const last = moments[moments.length - 1].tree;
    const noop = { ...c, skip: last.size, backup: 0, modified: 0, duplicate: 0, delete: 0 };
    assert.deepEqual(c, { ...noop, prune: 0, failed: 0 }, `the run after the last, ${replay}`);

    // history of some paths: the model's contents, in order, between the right runs.
    const trees = moments.map((m) => m.tree);
    const everyPath = [...new Set(trees.flatMap((t) => [...t.keys()]))].sort();
    const byChanges = [...everyPath].sort((a, b) =>
      contentsOf(trees, b).length - contentsOf(trees, a).length
    );
    const chosen = DEEP ? everyPath : [
      ...new Set([...byChanges.slice(0, 3), ...[0, 1, 2, 3].map(() => r.pick(everyPath))]),
    ];
    for (const path of chosen) {
      const h = await cli(fx, "history", path, "--json");
      assert.equal(h.code, 0, `history ${path}, ${replay}: ${h.stderr}`);
      const versions = JSON.parse(h.stdout).versions as {
        version: number;
        kind: string;
        hash: string;
        mtime: string;
        becameCurrent: string;
        replaced: string | null;
        location: string;
      }[];
      const model = contentsOf(trees, path);
      const show = (x: { kind: string; hash: string }[]) =>
        x.map((e) => `${e.kind}:${e.hash.slice(0, 10)}`).join(", ");
      if (show(versions) !== show(model.map((m) => m.entry))) {
        fail(
          `history ${path}: [${show(versions)}], the model saw [${
            show(model.map((m) => m.entry))
          }]`,
        );
      }
      const lines: string[] = [];
      versions.forEach((e, i) => {
        const m = model[i];
        const from = Date.parse(e.becameCurrent);
        const to = e.replaced === null ? Infinity : Date.parse(e.replaced);
        if (e.version !== i + 1) lines.push(`v${e.version} is content ${i + 1}`);
        if (
          !(from <= moments[m.first].time && (m.first === 0 || from > moments[m.first - 1].time))
        ) {
          lines.push(
            `v${e.version} became current ${e.becameCurrent}, seen first after run ` +
              `${m.first} (${iso(moments[m.first].time)})`,
          );
        }
        const stillCurrent = m.last === moments.length - 1;
        if (
          stillCurrent
            ? to !== Infinity
            : !(to > moments[m.last].time && to <= moments[m.last + 1].time)
        ) {
          lines.push(`v${e.version} replaced ${e.replaced}, seen last after run ${m.last}`);
        }
        if (m.entry.kind === "file" && Date.parse(e.mtime) !== m.entry.mtimeMs) {
          lines.push(`v${e.version} mtime ${e.mtime}, last seen ${iso(m.entry.mtimeMs)}`);
        }
        const mayPrune = i < versions.length - 1 - v.maxVersions;
        if (e.location === "pruned" ? !mayPrune : e.location === "lost") {
          lines.push(`v${e.version} location ${e.location}`);
        }
      });
      if (lines.length > 0) fail(`history ${path}:\n  ${lines.join("\n  ")}`);
    }
    console.log(
      `  ${v.name}, ${replay}: ${v.rounds} rounds (${forced} forced), ${jobs.length} restores ` +
        `(${pruned} pruned paths), mutations: ${
          [...kinds].sort().map(([k, n]) => `${k} ${n}`).join(", ")
        }`,
    );
  } catch (e) {
    if (e instanceof Error && !e.message.includes("mutations:")) {
      e.message += `\n${v.name}, ${replay}\nmutations:\n  ${journal.join("\n  ")}`;
    }
    throw e;
  }
}

/** HISTORY_MODEL_DEEP=1: verify after every run, and the history of every path. */
const DEEP = Deno.env.get("HISTORY_MODEL_DEEP") === "1";
const ROUNDS = Number(Deno.env.get("HISTORY_MODEL_ROUNDS") ?? 0);

Deno.test("history model: every run's moment restores exactly (no retention pruning)", async () => {
  await historyModel({
    name: "max_versions_per_file 50",
    seed: suiteSeed(22),
    rounds: ROUNDS || 25,
    maxVersions: 50,
    maxDeletePercent: 50,
    churn: 2,
  });
});

Deno.test("history model: with retention 2, every path matches or is reported pruned", async () => {
  await historyModel({
    name: "max_versions_per_file 2",
    seed: suiteSeed(22),
    rounds: ROUNDS || 16,
    maxVersions: 2,
    maxDeletePercent: 100,
    churn: 6, // enough versions of a few files for retention to prune
  });
});

// Deterministic synthetic file trees for the benchmark.
//
// A tree is described by a TreeSpec. planTree() expands it with a seeded mulberry32 PRNG into a
// list of folders and files (path, size, content seed, mtime) without touching the disk;
// writeTree() materialises that plan (mutations live in mutate.ts). File bytes are a pure
// function of the content seed and base mtimes are pinned, so the same spec + seed always gives a
// byte-identical tree (content bytes are produced through a Uint32Array, i.e. little-endian on
// x86/ARM). A marker file next to the tree records the generator version + seed + totals; a tree
// whose marker matches is reused instead of regenerated.
//
// Standalone: `deno run -A bench/gen.ts <tree> [dir]` generates one tree (default bench/work/trees/).

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Bump when the plan or content algorithm changes so cached trees are regenerated. */
export const GEN_VERSION = 1;
export const DEFAULT_SEED = 20240601;
/** Everything the benchmark generates lives here (git-ignored). */
export const WORK_DIR = join(dirname(fileURLToPath(import.meta.url)), "work");
/** Default home of the trees; the runner passes its own (bench/work/mnt/trees with --fs-image). */
export const TREES_DIR = join(WORK_DIR, "trees");

const KiB = 1024;
const MiB = 1024 * KiB;

export interface TreeSpec {
  name: string;
  /** Total number of regular files, including large files and duplicates. */
  files: number;
  /** Number of folders (including the tree root), nested as a random recursive tree. */
  folders: number;
  /** Size distribution of ordinary files: log-uniform (many small, few medium) or uniform. */
  dist: "log" | "uniform";
  minSize: number;
  maxSize: number;
  /** Exact sizes of the few large files. */
  large: number[];
  /** Fraction of files that are byte-exact copies of another file at another path. */
  dupFraction: number;
  /** The copies are of the first this many ordinary files only (default: of any). */
  dupSources?: number;
}

// 20k: log-uniform 1-64 KiB has a mean of 63 KiB / ln 64 ≈ 15 KiB, so ~19k ordinary files are
// ~290 MiB; the five large files add 130 MiB and the 5% duplicates ~15 MiB: ≈ 435 MiB (~455 MB).
// 100k: uniform 512 B..3.5 KiB has a mean of exactly 2 KiB → 100k files ≈ 205 MB.
// 1m: uniform 100..500 B, mean 300 B → 1M files ≈ 300 MB; 100 files per folder on average.
// 2k / 10k are the --quick stand-ins for 20k / 100k (same shapes, a tenth of the files).
// dups: 12,000 files of which 11,400 hold one content (the shape where a cost per pair of copies
// of one content showed: 13.5 s and 59.5 s runs, now linear); dups2k is its --quick stand-in.
const spec = (
  name: string,
  files: number,
  folders: number,
  dist: "log" | "uniform",
  minSize: number,
  maxSize: number,
  large: number[] = [],
  dupFraction = 0,
  dupSources?: number,
): TreeSpec => ({ name, files, folders, dist, minSize, maxSize, large, dupFraction, dupSources });

export const TREES: Record<string, TreeSpec> = Object.fromEntries(
  [
    spec(
      "20k",
      20_000,
      200,
      "log",
      1 * KiB,
      64 * KiB,
      [12, 18, 25, 33, 42].map((m) => m * MiB),
      0.05,
    ),
    spec("100k", 100_000, 1_000, "uniform", 512, 3584),
    spec("1m", 1_000_000, 10_000, "uniform", 100, 500),
    spec("2k", 2_000, 20, "log", 1 * KiB, 64 * KiB, [10 * MiB, 15 * MiB], 0.05),
    spec("10k", 10_000, 100, "uniform", 512, 3584),
    spec("dups", 12_000, 120, "uniform", 512, 2048, [], 0.95, 1),
    spec("dups2k", 2_000, 20, "uniform", 512, 2048, [], 0.95, 1),
  ].map((t) => [t.name, t]),
);

export interface FileEntry {
  path: string; // relative, "/"-separated
  size: number;
  seed: number; // content seed: equal seeds (and sizes) mean equal bytes
  mtime: number; // seconds since epoch
}

export interface TreePlan {
  spec: TreeSpec;
  seed: number;
  folders: string[]; // relative paths, "" is the root, parents listed before children
  files: FileEntry[];
  bytes: number;
}

/** mulberry32: tiny, fast, good-enough 32-bit PRNG. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes two 32-bit values into one (murmur3 finaliser), used to derive per-file seeds. */
export function mix(a: number, b: number): number {
  let h = (Math.imul(a, 0x9e3779b1) ^ b) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export function drawSize(spec: TreeSpec, rnd: () => number): number {
  if (spec.dist === "uniform") {
    return spec.minSize + Math.floor(rnd() * (spec.maxSize - spec.minSize));
  }
  const lo = Math.log(spec.minSize), hi = Math.log(spec.maxSize);
  return Math.floor(Math.exp(lo + rnd() * (hi - lo)));
}

const EXTS = ["txt", "dat", "bin", "json", "log", "csv", "md", "jpg"];
// Base mtimes are spread over 2024 so they never collide with a mutation's "now".
const BASE_MTIME = Date.UTC(2024, 0, 1) / 1000;
const YEAR_S = 365 * 86400;

/** Expands a spec into the full list of folders and files. Pure: no disk access. */
export function planTree(spec: TreeSpec, seed = DEFAULT_SEED): TreePlan {
  const rnd = mulberry32(mix(seed, 1));
  const folders = [""];
  for (let i = 1; i < spec.folders; i++) {
    const parent = folders[Math.floor(rnd() * i)];
    const name = `d${String(i).padStart(5, "0")}`;
    folders.push(parent ? `${parent}/${name}` : name);
  }
  const at = (name: string) => {
    const f = folders[Math.floor(rnd() * folders.length)];
    return f ? `${f}/${name}` : name;
  };
  const mtime = () => BASE_MTIME + Math.floor(rnd() * YEAR_S);
  const dups = Math.round(spec.files * spec.dupFraction);
  const ordinary = spec.files - spec.large.length - dups;
  const files: FileEntry[] = [];
  for (let i = 0; i < ordinary; i++) {
    const ext = EXTS[Math.floor(rnd() * EXTS.length)];
    files.push({
      path: at(`f${i}.${ext}`),
      size: drawSize(spec, rnd),
      seed: mix(seed, i + 2),
      mtime: mtime(),
    });
  }
  spec.large.forEach((size, k) => {
    files.push({ path: at(`large-${k}.bin`), size, seed: mix(seed ^ 0x1a49e, k), mtime: mtime() });
  });
  for (let k = 0; k < dups; k++) {
    const orig = files[Math.floor(rnd() * Math.min(ordinary, spec.dupSources ?? ordinary))];
    const ext = orig.path.slice(orig.path.lastIndexOf(".") + 1);
    files.push({ path: at(`copy${k}.${ext}`), size: orig.size, seed: orig.seed, mtime: mtime() });
  }
  const bytes = files.reduce((s, f) => s + f.size, 0);
  return { spec, seed, folders, files, bytes };
}

let scratch = new Uint32Array(16 * KiB);

/** Deterministic pseudo-random (incompressible) bytes for a content seed. */
export function content(seed: number, size: number): Uint8Array {
  const words = (size + 3) >>> 2;
  if (scratch.length < words) scratch = new Uint32Array(words);
  const w = scratch;
  let a = seed >>> 0;
  for (let i = 0; i < words; i++) {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    w[i] = t ^ (t >>> 14);
  }
  return new Uint8Array(w.buffer, 0, size);
}

interface Marker {
  version: number;
  seed: number;
  files: number;
  bytes: number;
}

export function markerPath(dir: string): string {
  return `${dir}.tree.json`;
}

function readMarker(dir: string): Marker | null {
  try {
    return JSON.parse(Deno.readTextFileSync(markerPath(dir)));
  } catch {
    return null;
  }
}

function log(msg: string) {
  console.error(`[gen] ${msg}`);
}

// Generation yields to the event loop every this many files, so a SIGINT handler gets to run.
const YIELD_EVERY = 1000;

/** Writes the tree into `dir` (default bench/work/trees/<name>) unless an up-to-date copy exists. */
export async function writeTree(
  plan: TreePlan,
  dir = join(TREES_DIR, plan.spec.name),
): Promise<string> {
  const m = readMarker(dir);
  if (
    m && m.version === GEN_VERSION && m.seed === plan.seed && m.files === plan.files.length &&
    m.bytes === plan.bytes
  ) return dir;
  const t0 = performance.now();
  log(
    `writing ${plan.spec.name}: ${plan.files.length} files, ${(plan.bytes / MiB).toFixed(0)} MiB`,
  );
  for (const p of [markerPath(dir), dir]) {
    try {
      Deno.removeSync(p, { recursive: true });
    } catch { /* absent */ }
  }
  for (const f of plan.folders) Deno.mkdirSync(join(dir, f), { recursive: true });
  const step = Math.ceil(plan.files.length / 10);
  for (const [i, f] of plan.files.entries()) {
    const p = join(dir, f.path);
    Deno.writeFileSync(p, content(f.seed, f.size));
    Deno.utimeSync(p, f.mtime, f.mtime);
    if (i % step === step - 1) log(`  ${Math.round(((i + 1) / plan.files.length) * 100)}%`);
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((r) => setTimeout(r, 0));
  }
  // Children were listed after parents, so walking backwards pins child dirs before parents.
  for (let i = plan.folders.length - 1; i >= 0; i--) {
    Deno.utimeSync(join(dir, plan.folders[i]), BASE_MTIME, BASE_MTIME);
  }
  const marker: Marker = {
    version: GEN_VERSION,
    seed: plan.seed,
    files: plan.files.length,
    bytes: plan.bytes,
  };
  Deno.writeTextFileSync(markerPath(dir), JSON.stringify(marker));
  log(`  done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return dir;
}

if (import.meta.main) {
  const [name, dir] = Deno.args;
  const spec = TREES[name];
  if (!spec) {
    console.error(`usage: deno run -A bench/gen.ts <${Object.keys(TREES).join("|")}> [dir]`);
    Deno.exit(2);
  }
  console.log(await writeTree(planTree(spec), dir));
}

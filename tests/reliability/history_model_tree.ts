/**
 * The model of the history model test (history_model_test.ts): the exact tree after each
 * round (path → kind, digest, size, mode and mtime of files, target of symlinks), the trees
 * `restore --at` must give for each moment, one path's contents as the model saw them, and
 * the differences between a restored tree and the expected one. It only reads folders.
 */
import { join } from "node:path";
import { sha256 } from "./util.ts";

export type Entry =
  | { kind: "file"; hash: string; size: number; mode: number; mtimeMs: number }
  | { kind: "symlink"; hash: string; target: string };

export type Tree = Map<string, Entry>;

/** Every file and symlink under `root` (symlinks never followed), sorted by path. */
export function snapshotTree(root: string): Tree {
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
 * the mode and mtime its content had when it was last current (docs/restore.md, "Known limit": a
 * metadata-only change updates the content's recorded metadata in place).
 */
export function expectedTrees(trees: Tree[]): Tree[] {
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
export interface ModelContent {
  entry: Entry;
  /** Rounds in which it was the path's content: first and last. */
  first: number;
  last: number;
}

export function contentsOf(trees: Tree[], path: string): ModelContent[] {
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
export function treeDiff(got: Tree, want: Tree): string[] {
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

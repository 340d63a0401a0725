/**
 * The source of the long-life test (long_life_test.ts): a few dozen small files whose
 * exact contents it keeps as its model. Each mutation changes the source folder and the
 * model together: a few hot files edited again and again (sometimes back to an earlier
 * content), any file edited, created (sometimes as a duplicate of another, empty, or with
 * one of its own earlier contents), deleted, renamed, made a duplicate or made one no
 * more; a path `x` that is a file, then a folder of files (`x/v1.bak` among them, the name
 * of a version's copy), then a file again; a folder removed whole; and a top-level folder
 * named `versions`, which the backup stores as `versions~`. Nothing here runs the tool.
 */
import { dirname, join } from "node:path";
import type { Rng } from "./util.ts";

const HOT = ["hot1.txt", "hot2.txt", "hot3.txt"];
const FILES = [
  ...[1, 2, 3, 4, 5].map((i) => `a/f${i}.txt`),
  ...[1, 2, 3].map((i) => `a/b/g${i}.txt`),
  ...[1, 2, 3, 4].map((i) => `c/h${i}.txt`),
  ...[1, 2, 3].map((i) => `top${i}.txt`),
  "versions/k.txt",
  ...HOT,
];
/** `x` is a file, or a folder holding some of these. */
const X = "x";
const X_INSIDE = ["x/y.txt", "x/v1.bak", "x/v2.bak"];

export class LongLifeSource {
  /** Path (with `/`) → content, as the source holds it now. */
  readonly tree = new Map<string, string>();
  readonly #past = new Map<string, string[]>();
  #counter = 0;

  constructor(readonly root: string, readonly r: Rng) {}

  /** Applies 0 to 3 mutations; returns what each did, for a failure's journal. */
  mutate(): string[] {
    const done: string[] = [];
    const n = this.r.next() < 0.1 ? 0 : this.r.int(1, 3);
    for (let i = 0; i < n; i++) {
      const did = this.#one();
      if (did) done.push(did);
    }
    return done;
  }

  #one(): string | undefined {
    const r = this.r.next();
    const existing = [...this.tree.keys()];
    if (r < 0.35) {
      const h = this.r.pick(HOT);
      this.#put(h, this.r.next() < 0.1 ? this.#newContent(h) : this.#fresh(h));
      return `edit ${h}`;
    }
    if (r < 0.5 && existing.length) {
      const p = this.r.pick(existing);
      this.#put(p, this.#newContent(p));
      return `edit ${p}`;
    }
    if (r < 0.66) {
      const p = this.#free();
      if (p === undefined) return undefined;
      this.#put(p, this.#newContent(p));
      return `create ${p}`;
    }
    if (r < 0.78 && existing.length) {
      const p = this.r.pick(existing);
      this.#remove(p);
      return `delete ${p}`;
    }
    if (r < 0.85 && existing.length) {
      const p = this.r.pick(existing);
      const content = this.tree.get(p)!;
      this.#remove(p);
      const to = this.#free();
      if (to !== undefined) this.#put(to, content);
      return `rename ${p} → ${to ?? "(nowhere: deleted)"}`;
    }
    if (r < 0.91) return this.#swapX();
    if (r < 0.93) return this.#removeFolder("c");
    return this.#duplicateOrNot();
  }

  /** `x`: a file becomes a folder of files, a folder a file, nothing a file. */
  #swapX(): string {
    if (this.tree.has(X)) {
      this.#remove(X);
      this.#put(this.r.pick(X_INSIDE), this.#fresh("x/"));
      return "x: file → folder";
    }
    if (this.#xIsFolder()) {
      this.#removeFolder(X);
      this.#put(X, this.#newContent(X));
      return "x: folder → file";
    }
    this.#put(X, this.#newContent(X));
    return "x: made a file";
  }

  /** Edits one of two files of one content (a duplicate, or its original), or makes one. */
  #duplicateOrNot(): string | undefined {
    const byContent = new Map<string, string[]>();
    for (const [p, c] of this.tree) {
      if (c !== "") byContent.set(c, [...(byContent.get(c) ?? []), p]);
    }
    const twins = [...byContent.values()].filter((ps) => ps.length > 1);
    if (twins.length) {
      const p = this.r.pick(this.r.pick(twins));
      this.#put(p, this.#fresh(p));
      return `unduplicate ${p}`;
    }
    const from = this.r.pick([...this.tree.keys()]);
    const to = this.#free();
    if (from === undefined || to === undefined) return undefined;
    this.#put(to, this.tree.get(from)!);
    return `duplicate ${from} → ${to}`;
  }

  #removeFolder(name: string): string | undefined {
    const inside = [...this.tree.keys()].filter((p) => p.startsWith(`${name}/`));
    if (!inside.length) return undefined;
    Deno.removeSync(join(this.root, name), { recursive: true });
    for (const p of inside) this.tree.delete(p);
    return `rm -r ${name}`;
  }

  #xIsFolder(): boolean {
    return [...this.tree.keys()].some((p) => p.startsWith(`${X}/`));
  }

  #free(): string | undefined {
    const all = [...FILES];
    if (!this.tree.has(X)) all.push(...X_INSIDE);
    if (!this.#xIsFolder()) all.push(X);
    const free = all.filter((p) => !this.tree.has(p));
    return free.length ? this.r.pick(free) : undefined;
  }

  #fresh(path: string): string {
    return `${path} #${++this.#counter} ${"z".repeat(this.r.int(0, 40))}`;
  }

  /** Mostly new; sometimes an earlier content of the path, another file's, or empty. */
  #newContent(path: string): string {
    const r = this.r.next();
    const past = this.#past.get(path) ?? [];
    if (r < 0.1 && past.length) return this.r.pick(past);
    if (r < 0.25 && this.tree.size) return this.tree.get(this.r.pick([...this.tree.keys()]))!;
    if (r < 0.28) return "";
    return this.#fresh(path);
  }

  #put(path: string, content: string): void {
    const abs = join(this.root, path);
    Deno.mkdirSync(dirname(abs), { recursive: true });
    // A folder emptied of the files the model knows (x) is still there.
    try {
      if (Deno.lstatSync(abs).isDirectory) Deno.removeSync(abs, { recursive: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    Deno.writeTextFileSync(abs, content);
    this.tree.set(path, content);
    this.#past.set(path, [...(this.#past.get(path) ?? []), content]);
  }

  #remove(path: string): void {
    Deno.removeSync(join(this.root, path));
    this.tree.delete(path);
  }
}

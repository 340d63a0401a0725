/**
 * The source tree of the history model test (history_model_test.ts) and its mutations: a
 * seeded random walk over create (sometimes empty, a duplicate or an earlier content),
 * modify (a few hot files often, sometimes back to one of their own earlier contents),
 * touch, chmod, delete, re-create, renames of files and folders, files turned into folders
 * or symlinks and back, symlinks created, retargeted and deleted, and a duplicate's original
 * deleted or modified. Every write and touch gets its own mtime, a distinct minute in the
 * past. It writes only below the fixture's source folder.
 */
import { dirname, join, resolve } from "node:path";
import { type Rng, sha256 } from "./util.ts";

const MODES = [0o644, 0o600, 0o640, 0o664, 0o755, 0o700];
const MIN_FILES = 20;
const MAX_FILES = 60;

export class Source {
  /** Distinct minutes in the past: every write and touch gets its own mtime. */
  private clock = Date.UTC(2024, 0, 1);
  private counter = 0;
  /** Contents written so far, for reverts to an earlier content. */
  private used: Uint8Array[] = [];
  /** Contents written to each path, for a path going back to one of its own. */
  private written = new Map<string, Uint8Array[]>();

  /**
   * `linksInside`: no symlink that leads out of the source (`/`, `..` at its top, ...): one
   * made names no event (Deno drops the events of a path that resolves outside the folders
   * it watches: docs/watch.md, "Known limits"), and is made to lead nowhere instead.
   */
  constructor(
    readonly root: string,
    readonly r: Rng,
    readonly churn: number,
    readonly linksInside = false,
  ) {}

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

  /** A target for a symlink at `rel`: a file, a folder, somewhere outside, nowhere. */
  symlinkTarget(files: string[], rel: string): string {
    const x = this.r.next();
    const target = x < 0.5 && files.length > 0
      ? `../${this.r.pick(files)}`
      : x < 0.7
      ? this.r.pick(["nowhere", "/etc/hostname", ".", "..", "/"])
      : `t${this.counter++}/${"x".repeat(this.r.int(1, 20))}`;
    return this.linksInside && this.leadsOut(rel, target) ? `out-${this.counter++}` : target;
  }

  /** Whether a symlink at `rel` to `target` leads to something outside the source. */
  private leadsOut(rel: string, target: string): boolean {
    let real: string;
    try {
      real = Deno.realPathSync(resolve(dirname(this.abs(rel)), target));
    } catch {
      return false; // leads nowhere
    }
    const root = Deno.realPathSync(this.root);
    return real !== root && !real.startsWith(`${root}/`);
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
        const target = this.symlinkTarget(files, rel);
        Deno.mkdirSync(dirname(this.abs(rel)), { recursive: true });
        Deno.symlinkSync(target, this.abs(rel));
        return `symlink ${rel} -> ${target}`;
      }
      case "symlink-retarget": {
        if (links.length === 0) return "symlink-retarget: no symlink";
        const rel = r.pick(links);
        const target = this.symlinkTarget(files, rel);
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
        const target = r.next() < 0.3 ? `same-${this.counter++}` : this.symlinkTarget(files, rel);
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
      const target = this.symlinkTarget(this.list().files, rel);
      Deno.symlinkSync(target, this.abs(rel));
      log.push(`symlink ${rel} -> ${target}`);
    }
    return log;
  }
}

/**
 * The changing source tree of the watch kill rounds (watch_kill_rounds_test.ts): a few
 * hundred files (empty to 256 KiB, a few symlinks, duplicates of each other's bytes) edited
 * in seeded random ways: modified, appended, deleted, added, renamed, folders moved, and
 * one hot file appended to again and again so that retention prunes its versions.
 *
 * Besides what the source holds now, it keeps each path's history of contents written and
 * the paths ever removed, so that a test can tell a content retention may have pruned
 * (`mayBePruned`) from one it must keep.
 */
import { dirname, join } from "node:path";
import { digestPath, type Rng, sha256 } from "./util.ts";

/** The file appended to in every burst: its versions pass max_versions_per_file. */
export const HOT = "hot/log.bin";

export class KillTree {
  /** rel path → digest of what the source holds now. */
  readonly files = new Map<string, string>();
  readonly symlinks = new Set<string>();
  /** rel path → every content the tree wrote there, oldest first. */
  readonly history = new Map<string, string[]>();
  /** Paths removed at some time (deleted, renamed away, their folder moved). */
  readonly removed = new Set<string>();
  dirs: string[] = [];
  #counter = 0;

  /** Files beyond which an edit that would add one deletes one: the tree stays as large. */
  #most = 0;

  constructor(readonly r: Rng, readonly root: string) {}

  /** A tree of `count` files in 30 folders, and the hot file. */
  generate(count: number): void {
    for (let i = 0; i < 30; i++) {
      const depth = this.r.int(1, 3);
      this.dirs.push(
        Array.from({ length: depth }, (_, k) => `d${k}-${this.r.int(0, 6)}`).join("/"),
      );
    }
    for (let i = 0; i < count; i++) {
      const rel = this.#newName();
      if (this.r.next() < 0.02) this.#symlink(rel);
      else this.write(rel, this.#content(this.#size()));
    }
    this.write(HOT, this.r.bytes(100));
    this.#most = Math.round(this.files.size * 1.2);
  }

  abs(rel: string): string {
    return join(this.root, ...rel.split("/"));
  }

  write(rel: string, data: Uint8Array): void {
    Deno.mkdirSync(dirname(this.abs(rel)), { recursive: true });
    Deno.writeFileSync(this.abs(rel), data);
    this.#record(rel, sha256(data));
  }

  append(rel: string, data: Uint8Array): void {
    Deno.writeFileSync(this.abs(rel), data, { append: true });
    this.#record(rel, digestPath(this.abs(rel)));
  }

  /** One of the edits of a burst, picked at random. */
  editOnce(): void {
    const x = this.r.next();
    const regular = () => [...this.files.keys()].filter((p) => !this.symlinks.has(p));
    if (x < 0.3) {
      const rel = this.r.pick(regular());
      if (this.r.next() < 0.5) this.append(rel, this.r.bytes(this.r.int(1, 4096)));
      else this.write(rel, this.#content(this.#size()));
    } else if (x < 0.45 || this.files.size > this.#most) {
      this.#remove(this.r.pick([...this.files.keys()]));
    } else if (x < 0.55) {
      this.#rename(this.r.pick(regular()));
    } else if (x < 0.58) {
      this.#moveFolder();
    } else {
      this.write(this.#newName(), this.#content(this.#size()));
    }
  }

  /**
   * Whether retention may have pruned this content: a path held it, then was removed (its
   * copies go once keep_deleted_days have passed), or was written `laterWrites` or more
   * times after it (a write can be seen half done, so each one can make two versions).
   */
  mayBePruned(hash: string, laterWrites: number): boolean {
    for (const [rel, list] of this.history) {
      const at = list.lastIndexOf(hash);
      if (at < 0) continue;
      if (this.removed.has(rel) || list.length - 1 - at >= laterWrites) return true;
    }
    return false;
  }

  /** Every content the tree ever wrote. */
  written(): Set<string> {
    return new Set([...this.history.values()].flat());
  }

  #record(rel: string, hash: string): void {
    this.files.set(rel, hash);
    const list = this.history.get(rel) ?? [];
    list.push(hash);
    this.history.set(rel, list);
  }

  #newName(): string {
    return `${this.r.pick(this.dirs)}/f${this.#counter++}.bin`;
  }

  #size(): number {
    const x = this.r.next();
    if (x < 0.05) return 0;
    if (x < 0.75) return this.r.int(1, 2048);
    if (x < 0.97) return this.r.int(2048, 32 * 1024);
    return this.r.int(32 * 1024, 256 * 1024);
  }

  /** An existing regular file's bytes (a duplicate) one time in ten, else fresh bytes. */
  #content(size: number): Uint8Array {
    const regular = [...this.files.keys()].filter((p) => !this.symlinks.has(p) && p !== HOT);
    if (this.r.next() < 0.1 && regular.length > 0) {
      return Deno.readFileSync(this.abs(this.r.pick(regular)));
    }
    return this.r.bytes(size);
  }

  #symlink(rel: string): void {
    const target = this.r.pick(["../x", "f0.bin", "nowhere"]);
    Deno.mkdirSync(dirname(this.abs(rel)), { recursive: true });
    Deno.symlinkSync(target, this.abs(rel));
    this.symlinks.add(rel);
    this.#record(rel, sha256(target));
  }

  #remove(rel: string): void {
    if (rel === HOT) return;
    Deno.removeSync(this.abs(rel));
    this.files.delete(rel);
    this.symlinks.delete(rel);
    this.removed.add(rel);
  }

  #rename(rel: string): void {
    if (rel === HOT) return;
    const to = this.#newName();
    Deno.mkdirSync(dirname(this.abs(to)), { recursive: true });
    Deno.renameSync(this.abs(rel), this.abs(to));
    this.#record(to, this.files.get(rel)!);
    this.files.delete(rel);
    this.removed.add(rel);
  }

  /** A folder renamed beside itself, with all it holds. */
  #moveFolder(): void {
    const from = this.r.pick(this.dirs);
    try {
      Deno.statSync(this.abs(from));
    } catch {
      return; // nothing was ever made in it
    }
    // Beside itself under a new name (not one that grows with each move: names have limits).
    const to = `${from.replace(/m\d+$/, "")}m${this.#counter++}`;
    Deno.renameSync(this.abs(from), this.abs(to));
    const moved = (p: string) => p === from || p.startsWith(`${from}/`);
    const renamed = (p: string) => to + p.slice(from.length);
    for (const [rel, hash] of [...this.files]) {
      if (!moved(rel)) continue;
      this.files.delete(rel);
      this.removed.add(rel);
      this.#record(renamed(rel), hash);
      if (this.symlinks.delete(rel)) this.symlinks.add(renamed(rel));
    }
    this.dirs = this.dirs.map((d) => moved(d) ? renamed(d) : d);
  }
}

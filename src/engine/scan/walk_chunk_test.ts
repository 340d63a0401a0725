import assert from "node:assert/strict";
import { join, sep } from "node:path";
import {
  absOf,
  ChunkWriter,
  ownStrings,
  readChunk,
  type SourceRoots,
  sourceRoots,
} from "./walk_chunk.ts";
import type { ScanEntry } from "../../core/types.ts";

const FILE: ScanEntry = {
  path: "src/a\nb/é €.txt",
  abs: "/data/a\nb/é €.txt",
  kind: "file",
  size: 2 ** 40 + 3,
  mtimeMs: -1876,
  ctimeMs: 1_717_000_000_000,
  ino: 2 ** 52 + 1,
  dev: 66306,
  mode: 0o100644,
  uid: 1000,
  gid: 0,
  nlink: 3,
};
const LINK: ScanEntry = {
  ...FILE,
  path: "src/link",
  abs: "/data/link",
  kind: "symlink",
  uid: undefined,
  gid: undefined,
  nlink: undefined,
  linkTarget: "../x\ny",
};
const EMPTY_LINK: ScanEntry = { ...LINK, path: "src/link2", abs: "/data/link2", linkTarget: "" };

/** A chunk through a structured clone, as postMessage sends it, then read back. */
async function roundTrip(
  fill: (w: ChunkWriter<string>) => void,
  stopAt?: string,
  roots?: SourceRoots,
): Promise<{ seen: (ScanEntry | string)[]; finished: boolean; abs: string }> {
  const w = new ChunkWriter<string>(roots);
  fill(w);
  const chunk = structuredClone(w.take());
  const seen: (ScanEntry | string)[] = [];
  const finished = await readChunk(chunk, (r) => seen.push(r), (e) => {
    seen.push(e);
    return Promise.resolve(e.path !== stopAt);
  }, roots);
  return { seen, finished, abs: chunk.abs };
}

Deno.test("walk chunk: entries come back with every field, reports in their place", async () => {
  const { seen, finished } = await roundTrip((w) => {
    w.report("before all");
    w.add(FILE);
    w.report("between");
    w.report("between, second");
    w.add(LINK);
    w.add(EMPTY_LINK);
    w.report("after all");
  });
  assert.equal(finished, true);
  assert.deepEqual(seen, [
    "before all",
    FILE,
    "between",
    "between, second",
    LINK,
    EMPTY_LINK,
    "after all",
  ]);
  const [, file, , , link] = seen as ScanEntry[];
  assert.equal("linkTarget" in file, false, "a file gets no link target");
  assert.equal(link.uid, undefined);
});

Deno.test("walk chunk: a chunk of reports only, and an empty writer", async () => {
  assert.deepEqual((await roundTrip((w) => w.report("only"))).seen, ["only"]);
  const w = new ChunkWriter<string>();
  assert.equal(w.empty, true);
  w.add(FILE);
  assert.equal(w.empty, false);
  w.take();
  assert.equal(w.empty, true, "take starts afresh");
  assert.equal(w.count, 0);
});

Deno.test("walk chunk: reading stops at the entry that says stop", async () => {
  const { seen, finished } = await roundTrip((w) => {
    w.add(FILE);
    w.add(LINK);
    w.report("never seen");
    w.add(EMPTY_LINK);
  }, LINK.path);
  assert.equal(finished, false);
  assert.deepEqual(seen, [FILE, LINK]);
});

Deno.test("walk chunk: an entry copied to be kept past its chunk keeps every field as it was", async () => {
  const { seen } = await roundTrip((w) => [FILE, LINK, EMPTY_LINK].forEach((e) => w.add(e)));
  const kept = (seen as ScanEntry[]).map(ownStrings);
  assert.deepEqual(kept, [FILE, LINK, EMPTY_LINK]);
  assert.equal("linkTarget" in kept[0], false, "a file still has no link target");
});

const ROOT = join(sep, "data", "src");
/** An entry of source `src` at `ROOT`, its absolute path made as the walk makes it. */
const under = (inside: string): ScanEntry => ({
  ...FILE,
  path: `src/${inside}`,
  abs: join(ROOT, ...inside.split("/")),
});

Deno.test("absOf: a source's folder, the separator, the path inside", () => {
  const roots = sourceRoots([{ name: "src", path: ROOT }, { name: "top", path: sep }]);
  assert.equal(absOf(roots, "src/a/b c.txt"), join(ROOT, "a", "b c.txt"));
  assert.equal(absOf(roots, "top/etc/x"), join(sep, "etc", "x"), "a root ending in a separator");
  assert.equal(absOf(roots, "src"), undefined, "a source's own root");
  assert.equal(absOf(roots, "other/a.txt"), undefined);
});

Deno.test("walk chunk: absolute paths made from the sources travel as nothing and come back the same", async () => {
  const roots = sourceRoots([{ name: "src", path: ROOT }]);
  const entries = [under("a.txt"), under("d/é €\nb.txt"), {
    ...under("odd.txt"),
    abs: "/mnt/x/odd.txt",
  }];
  const { seen, abs } = await roundTrip((w) => entries.forEach((e) => w.add(e)), undefined, roots);
  assert.deepEqual(seen, entries);
  assert.deepEqual(abs.split("\0"), ["", "", "/mnt/x/odd.txt"], "only the odd one travels");
});

Deno.test("walk chunk: a chunk that left absolute paths out, read without the sources, is refused", async () => {
  const w = new ChunkWriter<string>(sourceRoots([{ name: "src", path: ROOT }]));
  w.add(under("a.txt"));
  await assert.rejects(
    () => readChunk(w.take(), () => {}, () => Promise.resolve(true)),
    /Cannot read a walked chunk: no source folder for 'src\/a.txt'/,
  );
});

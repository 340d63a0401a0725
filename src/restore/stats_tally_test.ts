import assert from "node:assert/strict";
import type { PathSums } from "../state/stats_queries.ts";
import { addPath, emptyTally, type TopPath, TopPaths, totalOf } from "./stats_tally.ts";

/**
 * A path's figures: latest, version, deleted, duplicate as [copies, bytes], then gone,
 * then whether it is excluded now.
 */
function sums(
  path: string,
  [l, v, d, u]: [number, number][],
  gone: [number, number, number] = [0, 0, 0],
  excluded = 0,
): PathSums {
  return [path, ...l, ...v, ...d, ...u, ...gone, excluded] as PathSums;
}

Deno.test("addPath adds each place's copies and bytes, and what the old copies cost", () => {
  const t = emptyTally();
  const a = addPath(t, sums("s/a", [[1, 10], [2, 30], [0, 0], [0, 0]], [1, 0, 0]));
  const b = addPath(t, sums("s/b", [[0, 0], [1, 5], [2, 7], [1, 10]], [0, 2, 1]));
  assert.deepEqual(a, { path: "s/a", versions: 2, bytes: 30 });
  assert.deepEqual(b, { path: "s/b", versions: 3, bytes: 12 });
  assert.deepEqual(t.stored, {
    latest: { copies: 1, bytes: 10 },
    version: { copies: 3, bytes: 35 },
    deleted: { copies: 2, bytes: 7 },
    duplicate: { copies: 1, bytes: 10 },
  });
  assert.deepEqual(t.gone, { pruned: 1, lost: 2, purged: 1 });
  assert.equal(t.paths, 2);
  assert.deepEqual(totalOf(t), { copies: 7, bytes: 62 });
  assert.deepEqual(t.excluded, { files: 0, copies: 0, bytes: 0 });
});

Deno.test("addPath adds every stored copy of a file excluded now to what the config leaves out", () => {
  const t = emptyTally();
  addPath(t, sums("s/a", [[1, 10], [2, 30], [0, 0], [0, 0]], [1, 0, 0], 1));
  addPath(t, sums("s/b", [[1, 4], [0, 0], [0, 0], [0, 0]]));
  addPath(t, sums("s/c", [[0, 0], [0, 0], [1, 7], [1, 3]], [0, 0, 0], 1));
  assert.deepEqual(t.excluded, { files: 2, copies: 5, bytes: 50 });
  assert.deepEqual(totalOf(t), { copies: 6, bytes: 54 });
});

Deno.test("TopPaths keeps the n costliest, most bytes, then copies, then path order", () => {
  const top = new TopPaths(3);
  const offered: TopPath[] = [
    { path: "b", versions: 1, bytes: 5 },
    { path: "a", versions: 1, bytes: 5 },
    { path: "c", versions: 4, bytes: 5 },
    { path: "d", versions: 1, bytes: 9 },
    { path: "none", versions: 0, bytes: 0 },
    { path: "e", versions: 2, bytes: 1 },
  ];
  offered.forEach((p) => top.offer(p));
  assert.deepEqual(top.list().map((p) => p.path), ["d", "c", "a"]);
});

Deno.test("TopPaths of 100,000 paths offered keeps the costliest n, ties in path order", () => {
  const top = new TopPaths(5);
  for (let i = 0; i < 100_000; i++) top.offer({ path: `p${i}`, versions: 1, bytes: i % 997 });
  const list = top.list();
  assert.equal(list.length, 5);
  const costliest = Array.from({ length: 100_000 }, (_, i) => i).filter((i) => i % 997 === 996)
    .map((i) => `p${i}`).sort().slice(0, 5);
  assert.deepEqual(list.map((p) => p.bytes), [996, 996, 996, 996, 996]);
  assert.deepEqual(list.map((p) => p.path), costliest);
});

/**
 * The scan on a worker thread gives exactly what the scan on this thread gives: the same
 * entries in the same order, problems and special files at the same place, the same
 * unreadable folders; it starts after a given path when asked, and stops cleanly when the
 * consumer gives up early. Real folders, with more entries than a few chunks hold, so the
 * worker's flow control is exercised.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Source } from "../src/config/config.ts";
import { compareCodePoints } from "../src/engine/merge.ts";
import type { ScanOptions } from "../src/engine/scan.ts";
import { scanChunks } from "../src/engine/scan_thread.ts";
import { type Tree, writeTree } from "./helpers.ts";

function bigTree(): Tree {
  const tree: Tree = {};
  for (let d = 0; d < 30; d++) {
    for (let f = 0; f < 100; f++) tree[`d${d}/sub${f % 3}/f${f}.txt`] = `${d}/${f}`;
  }
  tree["é/\u{1F600}.txt"] = "emoji";
  tree["skip/me.log"] = "excluded";
  tree["top.txt"] = "top";
  return tree;
}

async function scan(sources: Source[], inWorker: boolean, extra: Partial<ScanOptions> = {}) {
  const seen: string[] = [];
  const entries = [];
  const unreadable: string[] = [];
  const opts: ScanOptions = {
    exclude: ["*.log"],
    skipDirs: [],
    onProblem: (p) => seen.push(`problem ${p.path}`),
    onSpecial: (p) => seen.push(`special ${p.path}: ${p.message}`),
    ...extra,
  };
  for await (const chunk of scanChunks(sources, opts, unreadable, inWorker)) {
    for (const e of chunk) {
      seen.push(e.path);
      entries.push(e);
    }
  }
  return { seen, entries, unreadable };
}

Deno.test("scan: the worker thread and this thread give the same walk", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-scan-" });
  try {
    const a = join(dir, "a");
    writeTree(a, bigTree());
    Deno.symlinkSync("top.txt", join(a, "link"));
    const fifo = await new Deno.Command("mkfifo", { args: [join(a, "d7", "pipe")] }).output();
    assert.ok(fifo.success);
    const b = join(dir, "b");
    writeTree(b, { "x.txt": "x" });
    const sources = [{ name: "b", path: b }, { name: "a", path: a }];

    const here = await scan(sources, false);
    const worker = await scan(sources, true);
    assert.deepEqual(worker, here);
    assert.equal(here.entries.length, 30 * 100 + 2 + 1 + 1);
    assert.ok(here.seen.includes("special a/d7/pipe: FIFO, not a regular file"));
    assert.equal(here.entries.find((e) => e.path === "a/link")?.linkTarget, "top.txt");
    assert.ok(!here.seen.includes("a/skip/me.log"));

    const after = "a/d2/sub1/f55.txt";
    const later = (path: string) => compareCodePoints(path, after) > 0;
    const pathOf = (line: string) => line.replace(/^special (.*?): .*$/, "$1");
    const rest = await scan(sources, true, { after });
    assert.deepEqual(rest.seen, here.seen.filter((line) => later(pathOf(line))));
    assert.deepEqual(rest.entries, here.entries.filter((e) => later(e.path)));
    assert.ok(rest.seen.includes("special a/d7/pipe: FIFO, not a regular file"));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("scan: a consumer that stops early stops the worker", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-scan-" });
  try {
    writeTree(dir, bigTree());
    const opts: ScanOptions = { exclude: [], skipDirs: [] };
    let chunks = 0;
    for await (const _ of scanChunks([{ name: "s", path: dir }], opts, [], true)) {
      if (++chunks === 2) break;
    }
    assert.equal(chunks, 2);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

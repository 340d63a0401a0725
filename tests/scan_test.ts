/**
 * The scanner on real folders: entries in code point order of their logical paths (the
 * order the state is kept in), special files reported at their place in that order, and a
 * walk that starts after a given path (the pass's second walk) giving exactly the rest.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { compareCodePoints } from "../src/core/merge.ts";
import { scanEntries, type ScanOptions } from "../src/engine/scan/scan.ts";
import { type Tree, writeTree } from "./helpers.ts";

function tree(): Tree {
  const t: Tree = {};
  for (let d = 0; d < 12; d++) {
    for (let f = 0; f < 20; f++) t[`d${d}/sub${f % 3}/f${f}.txt`] = `${d}/${f}`;
  }
  t["é/\u{1F600}.txt"] = "emoji";
  t["é/\uE000.txt"] = "private use";
  t["skip/me.log"] = "excluded";
  t["top.txt"] = "top";
  t["top/inner.txt"] = "a folder named like a file's prefix";
  return t;
}

function scan(root: string, extra: Partial<ScanOptions> = {}) {
  const seen: string[] = [];
  const opts: ScanOptions = {
    exclude: ["*.log"],
    skipDirs: [],
    onProblem: (p) => seen.push(`problem ${p.path}`),
    onSpecial: (p) => seen.push(`special ${p.path}`),
    ...extra,
  };
  const entries = [];
  for (const e of scanEntries([{ name: "s", path: root }], opts, [])) {
    seen.push(e.path);
    entries.push(e);
  }
  return { seen, entries };
}

Deno.test("scan: sorted walk, special files in place, and a walk after a path", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-scan-" });
  try {
    writeTree(dir, tree());
    Deno.symlinkSync("top.txt", join(dir, "link"));
    const fifo = await new Deno.Command("mkfifo", { args: [join(dir, "d7", "pipe")] }).output();
    assert.ok(fifo.success);

    const all = scan(dir);
    const paths = all.entries.map((e) => e.path);
    assert.deepEqual(paths, [...paths].sort(compareCodePoints));
    assert.equal(paths.length, 12 * 20 + 2 + 2 + 1);
    assert.ok(!paths.includes("s/skip/me.log"));
    assert.equal(all.entries.find((e) => e.path === "s/link")?.linkTarget, "top.txt");
    const pipe = all.seen.indexOf("special s/d7/pipe");
    assert.equal(all.seen[pipe - 1], "s/d6/sub2/f8.txt");
    assert.equal(all.seen[pipe + 1], "s/d7/sub0/f0.txt");

    const pathOf = (line: string) => line.replace(/^special /, "");
    for (const after of ["s/d2/sub1/f4.txt", "s/d2", "s/d7/pipe", "s/top", "s/é"]) {
      const later = (p: string) => compareCodePoints(p, after) > 0;
      const rest = scan(dir, { after });
      assert.deepEqual(rest.seen, all.seen.filter((line) => later(pathOf(line))), after);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("scan: a scoped walk of a source folder replaced by a symlink to another follows it, as a full walk does", () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-scan-" });
  try {
    writeTree(dir, { "src/a.txt": "a", "real/a.txt": "a", "real/sub/b.txt": "b" });
    const root = join(dir, "src");
    Deno.removeSync(root, { recursive: true });
    Deno.symlinkSync(join(dir, "real"), root); // as a disk mounted on the source's folder
    const scope = new Map([["s", [join(root, "a.txt"), join(root, "sub", "b.txt")]]]);
    const { seen } = scan(root, { scope });
    assert.deepEqual(seen, ["s/a.txt", "s/sub/b.txt"]);
    // A folder below the root swapped for a symlink is still refused.
    Deno.renameSync(join(dir, "real", "sub"), join(dir, "sub-elsewhere"));
    Deno.symlinkSync(join(dir, "sub-elsewhere"), join(dir, "real", "sub"));
    assert.deepEqual(scan(root, { scope }).seen, ["problem s/sub/b.txt", "s/a.txt"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

/**
 * The scanner and folders tagged to be left out (engine/scan/tags.ts) on real folders: a tagged
 * folder gives its tags only and is reported, wherever the walk starts (a watch's scoped
 * path inside it, the tag itself, a walk after a path); what does not tag (another
 * content, a short file) tags nothing, a symlink to a tag tags. And a pass whose walk the
 * worker does: its reports reach the vanished paths' verdict.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../src/config/config.ts";
import { backupOnce } from "../src/engine/backup.ts";
import { scanEntries, type ScanOptions } from "../src/engine/scan/scan.ts";
import { CACHEDIR_SIGNATURE } from "../src/engine/scan/tags.ts";
import { makeFixture, type Tree, writeTree } from "./helpers.ts";
import { DISKS, has, isRoot, withDisk } from "./reliability/fat_disks.ts";

const TAG = `${CACHEDIR_SIGNATURE}\nmore\n`;

const TREE: Tree = {
  "a.txt": "a",
  "target/CACHEDIR.TAG": TAG,
  "target/debug/deep/x.o": "x",
  "target/debug/y.o": "y",
  "vm/.nobackup": "",
  "vm/disk.img": "d",
  "short/CACHEDIR.TAG": CACHEDIR_SIGNATURE.slice(0, 42),
  "short/s.txt": "s",
  "z.txt": "z",
};

function scan(root: string, extra: Partial<ScanOptions> = {}) {
  const leftOut: string[] = [];
  const problems: string[] = [];
  const opts: ScanOptions = {
    exclude: [],
    skipDirs: [],
    excludeCaches: true,
    excludeIfPresent: [".nobackup"],
    onLeftOut: (p) => leftOut.push(p),
    onProblem: (p) => problems.push(p.path),
    ...extra,
  };
  const paths = [...scanEntries([{ name: "s", path: root }], opts, [])].map((e) => e.path);
  return { paths, leftOut, problems };
}

Deno.test("scan: a tagged folder gives its tag only, wherever the walk starts", () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-tags-" });
  try {
    writeTree(dir, TREE);
    Deno.mkdirSync(join(dir, "link"));
    Deno.symlinkSync(join(dir, "target/CACHEDIR.TAG"), join(dir, "link/CACHEDIR.TAG"));
    Deno.writeTextFileSync(join(dir, "link/l.txt"), "l");
    const all = scan(dir);
    assert.deepEqual(all.paths, [
      "s/a.txt",
      "s/link/CACHEDIR.TAG", // a symlink to a tag tags its folder
      "s/short/CACHEDIR.TAG", // nor 42 bytes of the signature
      "s/short/s.txt",
      "s/target/CACHEDIR.TAG",
      "s/vm/.nobackup",
      "s/z.txt",
    ]);
    assert.deepEqual(all.leftOut, ["s/link", "s/target", "s/vm"]);
    assert.deepEqual(all.problems, []);

    // Off: everything.
    const off = scan(dir, { excludeCaches: false, excludeIfPresent: [] });
    assert.ok(off.paths.includes("s/target/debug/deep/x.o") && off.paths.includes("s/vm/disk.img"));
    assert.deepEqual(off.leftOut, []);

    // A walk starting inside the tagged folder (a watch's pass of target/debug/): nothing,
    // the tagged folder said; at the tag itself: the tag.
    const scope = (...rels: string[]) => ({
      scope: new Map([["s", rels.map((r) => join(dir, r))]]),
    });
    const nested = scan(
      dir,
      scope("link/l.txt", "target/debug", "target/debug/deep/x.o", "vm/disk.img"),
    );
    assert.deepEqual(nested.paths, []);
    assert.deepEqual([...new Set(nested.leftOut)].sort(), ["s/link", "s/target", "s/vm"]);
    assert.deepEqual(scan(dir, scope("target/CACHEDIR.TAG", "a.txt")).paths, [
      "s/a.txt",
      "s/target/CACHEDIR.TAG",
    ]);
    // The source's root tagged: only its tag.
    Deno.writeTextFileSync(join(dir, ".nobackup"), "");
    assert.deepEqual(scan(dir).paths, ["s/.nobackup"]);
    assert.deepEqual(scan(dir, scope("short/s.txt")).leftOut, ["s"]);
    Deno.removeSync(join(dir, ".nobackup"));

    // A walk after a path inside the tagged folder (the pass's second walk).
    assert.deepEqual(scan(dir, { after: "s/target/debug/deep" }).paths, [
      "s/vm/.nobackup",
      "s/z.txt",
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "walk worker: a folder tagged after a backup (by a tag file, or a symlink to one) keeps its files, marked excluded, when the worker walks it",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    for (const [walkerSplit, symlink] of [[0, false], [1, false], [0, true], [1, true]] as const) {
      using fx = makeFixture(TREE, { exclude_caches: true });
      Deno.removeSync(join(fx.source, "target/CACHEDIR.TAG"));
      const first = await backupOnce(loadConfig(fx.config), { walkerSplit });
      assert.equal(first.exitCode, 0, JSON.stringify(first.errors));
      if (!symlink) Deno.writeTextFileSync(join(fx.source, "target/CACHEDIR.TAG"), TAG);
      else {
        // A symlink to a tag file, outside the source: followed, as restic and borg do.
        Deno.writeTextFileSync(join(fx.dir, "cargo.tag"), TAG);
        Deno.symlinkSync(join(fx.dir, "cargo.tag"), join(fx.source, "target/CACHEDIR.TAG"));
      }
      const r = await backupOnce(loadConfig(fx.config), { walkerSplit });
      assert.equal(r.exitCode, 0, JSON.stringify(r.errors));
      assert.equal(r.counts.delete, 0, `split ${walkerSplit}`);
      assert.equal(r.counts.exclude, 2, `split ${walkerSplit}`);
      assert.equal(r.deleteGuard, undefined);
    }
  },
});

Deno.test({
  name: "staging worker: a first backup whose tagged folder the worker walks leaves it out too",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    using fx = makeFixture(TREE, { exclude_caches: true, exclude_if_present: [".nobackup"] });
    const r = await backupOnce(loadConfig(fx.config), { stagingAfter: 1 });
    assert.equal(r.exitCode, 0, JSON.stringify(r.errors));
    const backedUp = (rel: string) => {
      try {
        Deno.lstatSync(join(fx.backup, rel));
        return true;
      } catch {
        return false;
      }
    };
    assert.ok(backedUp("target/CACHEDIR.TAG") && backedUp("vm/.nobackup") && backedUp("z.txt"));
    assert.ok(!backedUp("target/debug") && !backedUp("vm/disk.img"));
  },
});

const EXFAT = DISKS.find((d) => d.name.startsWith("exFAT"))!;

Deno.test({
  name:
    "scan on a disk that ignores letter case: a '.NOBACKUP' tags no folder for '.nobackup', wherever the walk starts",
  ignore: !isRoot || !EXFAT.tools.every(has),
  fn: async () => {
    const dir = Deno.makeTempDirSync({ prefix: "bt-tags-case-" });
    try {
      await withDisk(EXFAT, dir, "8M", (mnt) => {
        writeTree(mnt, { "t/.NOBACKUP": "", "t/x.txt": "x", "u/.nobackup": "", "u/y.txt": "y" });
        // The disk finds the name in either case: the tag must be told by the listing.
        assert.ok(Deno.lstatSync(join(mnt, "t/.nobackup")).isFile);
        const full = scan(mnt, { excludeCaches: false });
        assert.deepEqual(full.paths, ["s/t/.NOBACKUP", "s/t/x.txt", "s/u/.nobackup"]);
        assert.deepEqual(full.leftOut, ["s/u"]);
        // A walk starting inside each folder (a watch's event) decides as the full walk.
        const scope = new Map([["s", [join(mnt, "t/x.txt"), join(mnt, "u/y.txt")]]]);
        const partial = scan(mnt, { excludeCaches: false, scope });
        assert.deepEqual(partial.paths, ["s/t/x.txt"]);
        assert.deepEqual(partial.leftOut, ["s/u"]);
        return Promise.resolve();
      });
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

/**
 * Unit tests of twin names (twins.ts) on this machine's case-sensitive temporary folder:
 * the next free name and what it passes over, the disk's spelling, the probe; and which
 * logical paths a restore restores (select.ts). Twins on a disk that ignores case are
 * tested end to end on exFAT (tests/reliability/fat_disk_test.ts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withDir } from "../engine/test_util.ts";
import type { StoredCopy } from "../state/store.ts";
import { restoredHere } from "./filtered.ts";
import { PathFilter } from "./path_filter.ts";
import { type Twin, Twins, twinText } from "./twins.ts";
import type { Reached } from "./pinned.ts";
import type { RestoreItem } from "./restore_item.ts";

function copy(path: string, from = 1, to: number | null = null): StoredCopy {
  return {
    id: 1,
    path,
    seq: 1,
    kind: "file",
    hash: "h",
    algo: "sha256",
    size: 1,
    mtimeMs: 0,
    mode: 0o100644,
    linkTarget: null,
    location: to === null ? "latest" : "version",
    storedAt: path,
    validFrom: from,
    validTo: to,
  } as StoredCopy;
}

const item = (base: string, path: string): RestoreItem => ({
  copy: copy(path),
  dest: join(base, ...path.split("/").slice(1)),
  base,
  toDir: true,
});

const twinOf = (base: string, path: string, other: string): Twin => ({
  wanted: item(base, path).dest,
  other: join(base, ...other.split("/").slice(1)),
  otherPath: other,
});

function reached(dir: string): Reached {
  return {
    path: dir,
    id: `${Deno.statSync(dir).dev}:1`,
    made: undefined,
    at: (n) => join(dir, n),
    release() {},
  };
}

Deno.test(
  "a twin takes the first .~K name no other path of the restore, nor twin, has",
  withDir((base) => {
    Deno.mkdirSync(join(base, "d"));
    const restored = new Set(["s/d/README", "s/d/readme.~2"]);
    const twins = new Twins((p) => restored.has(p));
    const renamed = (path: string) =>
      twins.renamed(item(base, path), twinOf(base, path, "s/d/README"))?.dest;
    const first = twins.renamed(item(base, "s/d/readme"), twinOf(base, "s/d/readme", "s/d/README"));
    assert.equal(first?.dest, join(base, "d", "readme.~3"));
    assert.equal(first?.twin?.otherPath, "s/d/README");
    assert.equal(renamed("s/d/Readme"), join(base, "d", "Readme.~2"));
    // `.~2` and `.~3` fold to names given above.
    assert.equal(renamed("s/d/rEadme"), join(base, "d", "rEadme.~4"));
    Deno.mkdirSync(join(base, "d", "x.~2")); // a folder is passed over
    assert.equal(renamed("s/d/x"), join(base, "d", "x.~3"));
    Deno.writeTextFileSync(join(base, "d", "y.~2"), "y"); // a file is taken, as any file is
    assert.equal(renamed("s/d/y"), join(base, "d", "y.~2"));
  }),
);
Deno.test(
  "a twin with no free name is given none",
  withDir((base) => {
    const twins = new Twins(() => true);
    assert.equal(twins.renamed(item(base, "s/a"), twinOf(base, "s/a", "s/A")), undefined);
  }),
);

Deno.test(
  "a name its folder lists as spelled has no twin; a missing one neither",
  withDir((base) => {
    Deno.mkdirSync(join(base, "Docs"));
    Deno.writeTextFileSync(join(base, "Docs", "b.txt"), "b");
    const twins = new Twins(() => true);
    assert.equal(twins.twinOf(item(base, "s/Docs/b.txt")), undefined);
    assert.equal(twins.twinOf(item(base, "s/docs/b.txt")), undefined); // not there: no fold here
  }),
);

Deno.test(
  "a case-sensitive disk folds no ASCII name; one that is not ASCII is looked at",
  withDir((dir) => {
    const twins = new Twins(() => true);
    const probe = ".backup-tool-restore-1-1.tmp";
    assert.equal(twins.mayFold(reached(dir), item(dir, "s/readme"), probe), false);
    assert.deepEqual([...Deno.readDirSync(dir)], []); // the probe is gone
    assert.equal(twins.mayFold(reached(dir), item(dir, "s/caf\u00e9"), probe), true);
  }),
);

Deno.test("a twin's line names where it went and the other twin", () => {
  const twin = twinOf("/r", "s/d/readme", "s/d/README");
  assert.equal(
    twinText(twin, { as: "/r/d/readme.~2" }),
    "restored as '/r/d/readme.~2': this disk takes its name for that of 's/d/README', " +
      "restored here too (it ignores letter case or Unicode normalization)",
  );
  assert.match(
    twinText(twin, { refused: "and no other name is free there: restore it elsewhere" }),
    /^Cannot restore to '\/r\/d\/readme': this disk takes that name for that of 's\/d\/README'.*, and no other name is free there/,
  );
});

Deno.test("restoredHere: a path the selection restores, at it or below, as of the moment", () => {
  const rows = [copy("s/a"), copy("s/d/x", 1, 5), copy("s/e/y")];
  const store = {
    copiesOf: (p: string) => rows.filter((c) => c.path === p),
    *copyPages(below?: string) {
      yield rows.filter((c) => below === undefined || c.path.startsWith(`${below}/`));
    },
  };
  const latest = restoredHere(store, { kind: "latest" }, []);
  assert.deepEqual(["s/a", "s/d", "s/d/x", "s/e", "s/b"].map(latest), [
    true,
    false,
    false,
    true,
    false,
  ]);
  const at = restoredHere(store, { kind: "at", time: 3 }, ["s/d"]);
  assert.deepEqual(["s/a", "s/d", "s/d/x", "s/e"].map(at), [false, true, true, false]);
});

Deno.test("restoredHere: with --include or --exclude, only a path the patterns keep", () => {
  const rows = [copy("s/a.txt"), copy("s/d/x.xlsx"), copy("s/e/y.txt")];
  const store = {
    copiesOf: (p: string) => rows.filter((c) => c.path === p),
    *copyPages(below?: string) {
      yield rows.filter((c) => below === undefined || c.path.startsWith(`${below}/`));
    },
  };
  const filter = new PathFilter({ include: ["*.xlsx"], exclude: [] });
  const kept = restoredHere(store, { kind: "latest" }, [], filter);
  assert.deepEqual(["s/a.txt", "s/d", "s/d/x.xlsx", "s/e"].map(kept), [false, true, true, false]);
});

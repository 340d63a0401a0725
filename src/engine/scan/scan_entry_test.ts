/**
 * Unit tests of scan_entry.ts: a listed entry's lstat result as what the walk yields, or a
 * problem reported (a failure, or gone since it was listed).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fromFileInfo } from "../fs/folders.ts";
import type { ScanProblem } from "./scan.ts";
import { type EntryContext, folderMeta, toScanEntry } from "./scan_entry.ts";
import { applyXattrs, XATTRS_KEPT } from "../fs/xattrs.ts";
import { decodeXattrs, encodeXattrs } from "../../core/xattr_codec.ts";

/** The walk's context for one source `src` at `dir`, collecting the problems it reports. */
function context(dir: string) {
  const problems: ScanProblem[] = [];
  const w: EntryContext = {
    source: { name: "src", path: dir },
    opts: { onProblem: (p: ScanProblem) => problems.push(p) },
  };
  return { w, problems };
}

Deno.test("scan entry: a symlink removed between its lstat and its readlink is gone, not a failure", () => {
  // Seen in a watch soak: a folder holding symlinks moved away while a pass walked it.
  const dir = Deno.makeTempDirSync();
  try {
    const link = join(dir, "l");
    Deno.symlinkSync("target", link);
    const info = fromFileInfo(Deno.lstatSync(link));
    Deno.removeSync(link);
    const { w, problems } = context(dir);
    assert.equal(toScanEntry(w, link, "l", info), undefined);
    assert.equal(problems.length, 1);
    assert.equal(problems[0].vanished, true, problems[0].message);
    assert.match(problems[0].message, /^Cannot read link '.*\/l': /);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("scan entry: a symlink read gives its target", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const link = join(dir, "l");
    Deno.symlinkSync("target", link);
    const { w, problems } = context(dir);
    const entry = toScanEntry(w, link, "l", fromFileInfo(Deno.lstatSync(link)));
    assert.equal(entry?.linkTarget, "target");
    assert.equal(entry?.path, "src/l");
    assert.deepEqual(problems, []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

/** Whether the temporary folder's file system takes user.* attributes on a folder. */
function folderXattrsKept(): boolean {
  if (!XATTRS_KEPT) return false;
  const dir = Deno.makeTempDirSync();
  try {
    return applyXattrs({ path: dir }, encodeXattrs([userTag("probe")]), false).length === 0;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

function userTag(value: string) {
  const bytes = (s: string) => new TextEncoder().encode(s);
  return { name: bytes("user.tag"), value: bytes(value) };
}

Deno.test({
  name:
    "scan entry: a folder's attributes are read from the folder the walk saw; another put at its path since is not taken for it",
  ignore: !folderXattrsKept(),
  fn: () => {
    const dir = Deno.makeTempDirSync();
    try {
      const a = join(dir, "a");
      Deno.mkdirSync(a);
      applyXattrs({ path: a }, encodeXattrs([userTag("seen")]), false);
      const seen = fromFileInfo(Deno.lstatSync(a));
      assert.deepEqual(decodeXattrs(folderMeta(seen, a).xattrs!), [userTag("seen")]);
      // Between the walk's look at 'a' and the read of its attributes, someone who may
      // write 'dir' renames it away and puts another folder there, with attributes (an
      // ACL) of their choosing: those would be recorded with the mode and owner of 'a'.
      Deno.renameSync(a, join(dir, "a.old"));
      Deno.mkdirSync(a);
      applyXattrs({ path: a }, encodeXattrs([userTag("other")]), false);
      const meta = folderMeta(seen, a);
      assert.equal(meta.xattrs, undefined);
      assert.equal(meta.xattrsUnread, true);
      assert.equal(meta.mode, seen.mode);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

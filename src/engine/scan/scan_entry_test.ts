/**
 * Unit tests of scan_entry.ts: a listed entry's lstat result as what the walk yields, or a
 * problem reported (a failure, or gone since it was listed).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fromFileInfo } from "../fs/folders.ts";
import type { ScanProblem } from "./scan.ts";
import { type EntryContext, toScanEntry } from "./scan_entry.ts";

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

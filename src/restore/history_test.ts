import assert from "node:assert/strict";
import { formatHistory, type HistoryEntry } from "./history.ts";
import { seqRange } from "./not_found.ts";

const entry = (over: Partial<HistoryEntry>): HistoryEntry => ({
  version: 1,
  kind: "file",
  becameCurrent: "2026-12-01T10:00:00.000Z",
  replaced: null,
  size: 4,
  algo: "sha256",
  hash: "ab".repeat(32),
  mtime: "2026-12-01T09:00:00.000Z",
  location: "latest",
  storedAt: "new\nline.txt",
  prunedAt: null,
  ...over,
});

Deno.test("formatHistory: one line per content, newlines in names and link targets escaped", () => {
  const text = formatHistory("src/new\nline.txt", [
    entry({ version: 1, location: "version", storedAt: "versions/new\nline.txt/v1.bak" }),
    entry({ version: 2, kind: "symlink", linkTarget: "to\r\nthere" }),
  ]);
  const lines = text.split("\n");
  assert.equal(lines.length, 4, text);
  assert.equal(lines[0], "History of src/new\\nline.txt (2 contents)");
  assert.match(lines[2], /^v1 .*versions\/new\\nline\.txt\/v1\.bak$/);
  assert.match(lines[3], /^v2 .*-> to\\r\\nthere .*latest \(new\\nline\.txt\)$/);
});

// A long life: a file backed up every ten seconds by a watch has over 120,000 contents
// within a fortnight; spreading them into Math.max overflowed the stack ("History failed:
// Maximum call stack size exceeded", and so did `restore --version` of a missing number).
Deno.test("formatHistory and seqRange: 200,000 contents of one path", () => {
  const many = Array.from(
    { length: 200_000 },
    (_, i) => entry({ version: i + 1, location: "pruned", storedAt: null }),
  );
  const lines = formatHistory("src/hot.log", many).split("\n");
  assert.equal(lines.length, 200_002);
  assert.equal(lines[0], "History of src/hot.log (200000 contents)");
  assert.match(lines.at(-1)!, /^v200000 {2}/);
  assert.deepEqual(seqRange(many.map((e) => ({ seq: e.version }))), [1, 200_000]);
  assert.equal(seqRange([]), undefined);
});

import assert from "node:assert/strict";
import { formatHistory, type HistoryEntry } from "./history.ts";

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

/** The scan worker's packing: whatever goes in comes out, in order. */
import assert from "node:assert/strict";
import { packItems, type ScanItem, unpackItems } from "./scan_pack.ts";

const file = (path: string, size: number) => ({
  path,
  abs: `/data/${path}`,
  kind: "file" as const,
  size,
  mtimeMs: 1_700_000_000_123,
  ctimeMs: 1_700_000_000_456,
  ino: 2 ** 40 + size,
  dev: 2049,
  mode: 0o100644,
});

Deno.test("scan pack: entries, symlinks and events round-trip in order", () => {
  const items: ScanItem[] = [
    { problem: { path: "s/a", message: "Cannot list folder '/data/s/a': denied" } },
    file("s/b é.txt", 0),
    { ...file("s/c", 3), kind: "symlink", linkTarget: "../x y" },
    { special: { path: "s/d", message: "FIFO, not a regular file" } },
    { special: { path: "s/e", message: "socket, not a regular file" } },
    file("s/f\u{1F600}", 2 ** 33),
    { problem: { path: "s/g", message: "gone" } },
  ];
  assert.deepEqual(unpackItems(packItems(items)), items);
});

Deno.test("scan pack: an empty chunk and a chunk of events only", () => {
  assert.deepEqual(unpackItems(packItems([])), []);
  const events: ScanItem[] = [{ special: { path: "s/p", message: "FIFO" } }];
  assert.deepEqual(unpackItems(packItems(events)), events);
});

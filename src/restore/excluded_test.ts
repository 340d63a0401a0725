/** Unit tests of what a restore says of a file excluded since it was backed up. */
import assert from "node:assert/strict";
import { excludedOnce } from "./excluded.ts";

Deno.test("a restore of a few files asks the state of each, and reads no whole table; a large one reads the excluded paths once", () => {
  const reads = { one: 0, all: 0 };
  const store = {
    isExcluded: (path: string) => (reads.one++, path === "s/x.tmp"),
    excludedPaths: () => (reads.all++, new Set(["s/x.tmp"])),
  };
  const excluded = excludedOnce(store);
  assert.deepEqual([excluded("s/a.txt"), excluded("s/x.tmp")], [false, true]);
  assert.deepEqual(reads, { one: 2, all: 0 });
  for (let i = 0; i < 5000; i++) assert.equal(excluded(i % 2 ? "s/x.tmp" : `s/${i}`), i % 2 === 1);
  assert.equal(reads.all, 1);
  assert.ok(reads.one <= 1024, `${reads.one}`);
});

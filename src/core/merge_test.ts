/** Tests of the scan/state merge and of the ordering it relies on. */
import assert from "node:assert/strict";
import { compareCodePoints, pagedRows, prefixRanges, RowCursor } from "./merge.ts";

const utf8 = new TextEncoder();
function byteOrder(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

Deno.test("merge: code point order equals UTF-8 byte order (SQLite's), unlike '<'", () => {
  const names = [
    "a",
    "a/b",
    "a.txt",
    "a-b",
    "Z",
    "é",
    "\uE000",
    "\u{1F600}",
    "\uFFFD",
    "a/\u{10000}",
  ];
  for (const a of names) {
    for (const b of names) {
      assert.equal(Math.sign(compareCodePoints(a, b)), Math.sign(byteOrder(a, b)), `${a} vs ${b}`);
    }
  }
  assert.ok("\u{1F600}" < "\uE000"); // what '<' would get wrong
  assert.ok(compareCodePoints("\u{1F600}", "\uE000") > 0);
});

const row = (path: string) => ({ path });

Deno.test("merge: the cursor finds tracked rows and reports those no path matched", () => {
  const passed: string[] = [];
  const cursor = new RowCursor(["s/b", "s/c", "s/e"].map(row), (t) => passed.push(t.path));
  assert.equal(cursor.seek("s/a"), undefined);
  assert.equal(cursor.seek("s/c")?.path, "s/c");
  assert.equal(cursor.seek("s/d"), undefined);
  assert.equal(cursor.exhausted(), false);
  cursor.finish();
  assert.equal(cursor.exhausted(), true);
  assert.deepEqual(passed, ["s/b", "s/e"]);
  assert.equal(new RowCursor([]).exhausted(), true);
});

Deno.test("merge: tracked rows are paged in order, overlapping ranges read once", () => {
  const all = ["s/a", "s/b", "s.x/c", "t/d"].sort(compareCodePoints);
  const read = (from: string, to: string, after: string, limit: number) =>
    all.filter((p) => p >= from && p < to && p > after).slice(0, limit);
  const rows = [...pagedRows(read, (p) => p, prefixRanges(["s", "s.x", "t"]))];
  assert.deepEqual(rows, ["s.x/c", "s/a", "s/b", "t/d"]);
  const rest = [...pagedRows(read, (p) => p, prefixRanges(["s", "s.x", "t"]), "s/a")];
  assert.deepEqual(rest, ["s/b", "t/d"]);
});

import assert from "node:assert/strict";
import { formatTable } from "./format_table.ts";

Deno.test("formatTable: columns as wide as their widest cell, two spaces apart, the last not padded", () => {
  assert.deepEqual(
    formatTable(["A", "LONG HEADER", "END"], [["wide cell", "x", "last"], ["y", "z", ""]]),
    [
      "A          LONG HEADER  END",
      "wide cell  x            last",
      "y          z            ",
    ],
  );
  assert.deepEqual(formatTable(["ONLY"], []), ["ONLY"]);
});

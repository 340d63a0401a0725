import assert from "node:assert/strict";
import { parseByteSize } from "./byte_size.ts";

Deno.test("parseByteSize: bytes, and K, M, G, T 1024-based in their spellings", () => {
  const cases: [unknown, number][] = [
    [1, 1],
    [4096, 4096],
    ["4096", 4096],
    ["1B", 1],
    ["1K", 1024],
    ["1k", 1024],
    ["1KB", 1024],
    ["1KiB", 1024],
    ["1kib", 1024],
    ["500M", 500 * 1024 ** 2],
    ["500 MiB", 500 * 1024 ** 2],
    ["1.5G", 1.5 * 1024 ** 3],
    [" 2GB ", 2 * 1024 ** 3],
    ["1T", 1024 ** 4],
    ["0.5K", 512],
    [".5K", 512],
  ];
  for (const [given, bytes] of cases) assert.equal(parseByteSize(given), bytes, String(given));
});

Deno.test("parseByteSize: refuses what is not a whole size of more than 0 bytes", () => {
  const cases: [unknown, string][] = [
    [0, "is not a size of more than 0 bytes"],
    ["0M", "is not a size of more than 0 bytes"],
    [-5, "is not a size of more than 0 bytes"],
    ["-5M", "is not a size"],
    [1.5, "is 1.5 bytes, a fraction of a byte (1 is whole)"],
    ["1.3K", "is 1331.2 bytes, a fraction of a byte (1331 is whole)"],
    ["500X", "is not a size"],
    ["5 PB", "is not a size"],
    ["M", "is not a size"],
    ["", "is not a size"],
    ["1e3", "is not a size"],
    ["1,5G", "is not a size"],
    ["10000000T", "is more bytes than a size here holds (at most 9007199254740991)"],
    [Number.POSITIVE_INFINITY, "is not a size of more than 0 bytes"],
    [true, "is not a size (got boolean)"],
    [[1], "is not a size (got array)"],
  ];
  for (const [given, problem] of cases) {
    assert.deepEqual(parseByteSize(given), { problem }, String(given));
  }
});

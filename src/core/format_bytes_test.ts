import assert from "node:assert/strict";
import { formatBytes } from "./format_bytes.ts";

Deno.test("formatBytes: one decimal in binary units, rounding up into the next unit", () => {
  const cases: [number, string][] = [
    [0, "0 B"],
    [1023, "1023 B"],
    [1024, "1.0 KiB"],
    [1536, "1.5 KiB"],
    [1024 * 1024 - 1, "1.0 MiB"],
    [1024 * 1024 - 60, "1023.9 KiB"], // 1023.94 KiB
    [2 ** 30 - 1, "1.0 GiB"],
    [5 * 2 ** 40, "5.0 TiB"],
    [2 ** 50, "1024.0 TiB"], // no larger unit
  ];
  for (const [n, text] of cases) assert.equal(formatBytes(n), text, String(n));
});

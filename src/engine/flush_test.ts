import assert from "node:assert/strict";
import { fullFlushRefused } from "./flush.ts";

Deno.test("fullFlushRefused: only macOS's full flush an SMB mount refuses (ENOTSUP) is let pass", () => {
  const notSupported = new Error("Operation not supported (os error 45)");
  assert.ok(fullFlushRefused(notSupported, "darwin"));
  assert.ok(!fullFlushRefused(notSupported, "linux"));
  assert.ok(!fullFlushRefused(new Error("Input/output error (os error 5)"), "darwin"));
});

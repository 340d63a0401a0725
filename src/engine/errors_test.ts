import assert from "node:assert/strict";
import { isOutOfOpenFiles } from "./errors.ts";

Deno.test("isOutOfOpenFiles: the process's limit (EMFILE), not the system's (ENFILE)", () => {
  assert.ok(isOutOfOpenFiles("Too many open files (os error 24): open '/a'"));
  assert.ok(isOutOfOpenFiles("readdir '/a': os error 24"));
  assert.ok(!isOutOfOpenFiles("Too many open files in system (os error 23): open '/a'"));
  assert.ok(!isOutOfOpenFiles("No space left on device (os error 28)"));
});

import assert from "node:assert/strict";
import { isOutOfOpenFiles, remedyUnlessOutOfFiles } from "./errors.ts";

Deno.test("isOutOfOpenFiles: the process's limit (EMFILE), not the system's (ENFILE)", () => {
  assert.ok(isOutOfOpenFiles("Too many open files (os error 24): open '/a'"));
  assert.ok(isOutOfOpenFiles("readdir '/a': os error 24"));
  assert.ok(!isOutOfOpenFiles("Too many open files in system (os error 23): open '/a'"));
  assert.ok(!isOutOfOpenFiles("No space left on device (os error 28)"));
  // node:fs's words for it (restore writes through node:fs).
  assert.ok(isOutOfOpenFiles("EMFILE: too many open files, open '/'"));
  assert.ok(!isOutOfOpenFiles("ENFILE: file table overflow, open '/'"));
});

Deno.test("remedyUnlessOutOfFiles: a failure's remedy, but none where the process is out of open files", () => {
  const remedy = "check the path and its permissions";
  const denied = new Deno.errors.PermissionDenied("Permission denied (os error 13)");
  assert.equal(remedyUnlessOutOfFiles(denied, remedy), `: ${remedy}`);
  const out = new Error("Too many open files (os error 24): readdir '/src'");
  assert.equal(remedyUnlessOutOfFiles(out, remedy), "");
  const system = new Error("Too many open files in system (os error 23)");
  assert.equal(remedyUnlessOutOfFiles(system, remedy), `: ${remedy}`);
});

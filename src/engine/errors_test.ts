import assert from "node:assert/strict";
import {
  isHeldByAnother,
  isOutOfOpenFiles,
  openFilesRemedy,
  remedyUnlessOutOfFiles,
  withAccessRemedy,
  withFlagsRemedy,
  withMountRemedy,
} from "./errors.ts";

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

Deno.test("isHeldByAnother: Windows' sharing and lock violations, not Linux's EPIPE or EDOM", () => {
  const sharing = "The process cannot access the file because it is being used by another " +
    "process. (os error 32): readfile 'C:\\cfg\\config.jsonc'";
  assert.ok(isHeldByAnother(sharing, "windows"));
  assert.ok(isHeldByAnother("Der Prozess kann nicht … (os error 33)", "windows"));
  assert.ok(!isHeldByAnother("Broken pipe (os error 32)", "linux"));
  assert.ok(!isHeldByAnother("Broken pipe (os error 32)", "darwin"));
  assert.ok(!isHeldByAnother("Access is denied. (os error 5)", "windows"));
  assert.ok(!isHeldByAnother("(os error 320)", "windows"));
});

Deno.test("withFlagsRemedy: EPERM on Linux and macOS says the flags and how to take them off", () => {
  const eperm = "Operation not permitted (os error 1): remove '/b/versions/a/v1.bak'";
  const linux = withFlagsRemedy(eperm, "then run again", "linux");
  assert.ok(linux.startsWith(`${eperm}: the entry or its folder is immutable or append-only`));
  assert.match(linux, /'chattr -i' or 'chattr -a'.*, then run again$/);
  assert.match(withFlagsRemedy(eperm, "then run again", "darwin"), /'chflags nouchg'/);
  // Windows' 1 is ERROR_INVALID_FUNCTION; other failures as they came.
  assert.equal(
    withFlagsRemedy("Incorrect function. (os error 1)", "x", "windows"),
    "Incorrect function. (os error 1)",
  );
  assert.equal(
    withFlagsRemedy("Permission denied (os error 13)", "x", "linux"),
    "Permission denied (os error 13)",
  );
});

Deno.test("withMountRemedy: EXDEV (18; Windows 17) says a folder of the backup root is a mount", () => {
  const exdev =
    "Invalid cross-device link (os error 18): rename '/b/d/a' -> '/b/versions/d/a/v1.bak'";
  assert.match(
    withMountRemedy(exdev, "then run again", "linux"),
    /mount of its own .*'findmnt -R'.*unmount it, then run again$/,
  );
  assert.doesNotMatch(withMountRemedy(exdev, "then run again", "darwin"), /findmnt/);
  assert.equal(withMountRemedy(exdev, "x", "windows"), exdev);
  assert.match(
    withMountRemedy(
      "The system cannot move the file to a different disk drive. (os error 17)",
      "x",
      "windows",
    ),
    /mount of its own/,
  );
});

Deno.test("withAccessRemedy: EACCES (13; Windows 5) says whose the folder is to be", () => {
  const eacces = "Permission denied (os error 13): rename '/b/a' -> '/b/versions/a/v2.bak'";
  assert.match(
    withAccessRemedy(eacces, "then run again", "linux"),
    /run as the user who owns the backup root.*, then run again$/,
  );
  assert.equal(withAccessRemedy(eacces, "x", "windows"), eacces);
  assert.equal(
    withAccessRemedy("Operation not permitted (os error 1)", "x", "linux"),
    "Operation not permitted (os error 1)",
  );
});

Deno.test("the open files remedy names the limit where it was read, and no number where not", () => {
  assert.equal(
    openFilesRemedy(20),
    "the process ran out of open files (the limit, 'ulimit -n', is 20): raise it (to 1024 or " +
      "more) and run again",
  );
  const unread = openFilesRemedy(undefined);
  assert.ok(!/\d+\)/.test(unread) && !unread.includes("undefined"), unread);
  assert.ok(unread.includes("raise the limit ('ulimit -n') to 1024 or more"), unread);
});

/**
 * Unit tests of what counts as a stored copy missing from its place, and as one the disk
 * cannot read (copy_out.ts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isElsewhere, isReadFault } from "./copy_out.ts";

const error = (text: string) => new Error(`${text}: readlink 'x'`);

Deno.test("isElsewhere: something else in a copy's place, by each system's numbers; a disk's failure is not", () => {
  for (const os of ["linux", "darwin"] as const) {
    assert.ok(isElsewhere(error("Invalid argument (os error 22)"), os), os); // readlink of a file
    assert.ok(isElsewhere(error("Not a directory (os error 20)"), os), os);
    assert.ok(!isElsewhere(error("Input/output error (os error 5)"), os), os);
  }
  assert.ok(
    isElsewhere(error("The file or directory is not a reparse point. (os error 4390)"), "windows"),
  );
  // Windows' 20 to 22: a device gone or not ready, said as such, not as copies missing.
  assert.ok(!isElsewhere(error("The device is not ready. (os error 21)"), "windows"));
  assert.ok(
    !isElsewhere(error("The system cannot find the device specified. (os error 20)"), "windows"),
  );
  assert.ok(isElsewhere(new Deno.errors.NotFound("gone"), "windows"));
});

Deno.test("isElsewhere: on Windows a folder in a copy's place is 'Access is denied', a file the user may not read is not", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(join(dir, "v1.bak"));
    Deno.writeTextFileSync(join(dir, "v2.bak"), "x");
    const denied = new Deno.errors.PermissionDenied("Access is denied. (os error 5)");
    assert.ok(isElsewhere(denied, "windows", join(dir, "v1.bak")));
    assert.ok(!isElsewhere(denied, "windows", join(dir, "v2.bak")));
    assert.ok(!isElsewhere(denied, "windows"));
    // Elsewhere a folder opened as a file is EISDIR: denied is denied.
    assert.ok(!isElsewhere(denied, "linux", join(dir, "v1.bak")));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("isReadFault: EIO on Linux and macOS; Windows' 5 is a refusal", () => {
  const eio = new Error("Input/output error (os error 5): read '/b/a.bin'");
  assert.ok(isReadFault(eio, "linux"));
  assert.ok(isReadFault(eio, "darwin"));
  assert.ok(
    !isReadFault(new Deno.errors.PermissionDenied("Access is denied. (os error 5)"), "windows"),
  );
  assert.ok(!isReadFault(new Error("Too many open files (os error 24): open 'x'"), "linux"));
  assert.ok(!isReadFault(new Error("Permission denied (os error 13): open 'x'"), "linux"));
  assert.ok(!isReadFault(new Error("(os error 55)"), "linux"));
});

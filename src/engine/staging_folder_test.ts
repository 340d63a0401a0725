import assert from "node:assert/strict";
import { refusalKind, stagingRefusedText } from "./staging_folder.ts";

const EPERM = "Operation not permitted (os error 1): open '/b/.backup-tool/tmp/1-1.tmp'";
const EACCES = "Permission denied (os error 13): open '/b/.backup-tool/tmp/1-1.tmp'";
const DENIED = "Access is denied. (os error 5): open 'C:\\b\\.backup-tool\\tmp\\1-1.tmp'";

Deno.test("refusalKind: a flag (EPERM, not on Windows) or this user's access, by the system", () => {
  assert.equal(refusalKind(EPERM, "linux"), "flag");
  assert.equal(refusalKind(EPERM, "darwin"), "flag");
  assert.equal(refusalKind(EACCES, "linux"), "access");
  assert.equal(refusalKind(EACCES, "darwin"), "access");
  assert.equal(refusalKind(DENIED, "windows"), "access");
  // Windows' os error 1 is ERROR_INVALID_FUNCTION, and 13 ERROR_INVALID_DATA: no refusal.
  assert.equal(refusalKind("Incorrect function. (os error 1)", "windows"), undefined);
  assert.equal(refusalKind("The data is invalid. (os error 13)", "windows"), undefined);
  assert.equal(refusalKind("No space left on device (os error 28)", "linux"), undefined);
  assert.equal(refusalKind("(os error 5)", "linux"), undefined); // EIO
});

Deno.test("stagingRefusedText: the flag's remedy, or the access', as the system's words say", () => {
  const tmp = "/b/.backup-tool/tmp";
  assert.match(
    stagingRefusedText(tmp, EPERM, "then run again", "linux"),
    /\): the folder is immutable or append-only \('lsattr -d' shows i or a\): take the flag off with 'chattr -i' or 'chattr -a', then run again$/,
  );
  assert.match(
    stagingRefusedText(tmp, EACCES, "then run again", "darwin"),
    /^Cannot write new copies in the staging folder '\/b\/\.backup-tool\/tmp' \(Permission denied \(os error 13\): .*\): this user may not write in it \(its owner and mode, which 'ls -ld' shows, do not let it\): give this user write access to it \('chmod u\+rwx' .*\), or run as the user who owns the backup root, then run again$/,
  );
  assert.match(
    stagingRefusedText("C:\\b\\.backup-tool\\tmp", DENIED, undefined, "windows"),
    /\): this user may not write in it \(.*Security tab.*\): give this user write access to it there, or run as the user who owns the backup root$/,
  );
});

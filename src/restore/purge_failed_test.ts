/** Unit tests of how purge says a copy it could not delete (purge.ts `failedText`). */
import assert from "node:assert/strict";
import { failedText } from "./purge.ts";

const REMEDY = /^Cannot purge its copy 'a\.img': .*: purge as a user who may enter and write/;

Deno.test("failedText: a deletion this user is denied is said with the remedy, by each system's number", () => {
  const linux = "Permission denied (os error 13): remove '/b/a.img'";
  assert.match(failedText("a.img", linux, "linux"), REMEDY);
  assert.match(failedText("a.img", "Permission denied (os error 13)", "darwin"), REMEDY);
  // EPERM: a flag (chattr +i, chflags uchg) refuses it, to root too.
  const flagged = failedText(
    "a.img",
    "Operation not permitted (os error 1): remove '/b/a.img'",
    "linux",
  );
  assert.match(
    flagged,
    /immutable or append-only .*'chattr -i'.*then purge again; the copy was left/,
  );
  assert.match(
    failedText("a.img", "Operation not permitted (os error 1)", "darwin"),
    /chflags nouchg/,
  );
  const windows = "Access is denied. (os error 5): remove 'E:\\b\\a.img'";
  assert.match(failedText("a.img", windows, "windows"), REMEDY);
  // Windows' 1 is ERROR_INVALID_FUNCTION (a disk that does not make the call), 13 its
  // ERROR_INVALID_DATA: no permission of the user's mends them; said as they came.
  for (const other of ["Incorrect function. (os error 1)", "The data is invalid. (os error 13)"]) {
    assert.equal(failedText("a.img", other, "windows"), other);
  }
  assert.equal(
    failedText("a.img", "Input/output error (os error 5)", "linux"),
    "Input/output error (os error 5)",
  );
});

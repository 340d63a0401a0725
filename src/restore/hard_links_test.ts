/** Unit tests of which link failures a restore tries other links after (hard_links.ts). */
import assert from "node:assert/strict";
import { failsLinkOnly } from "./hard_links.ts";

Deno.test("failsLinkOnly: a file's own link failure, by each system's numbers; any other is the disk's", () => {
  const tooMany = "Too many links (os error 31)";
  const crossDevice = "Invalid cross-device link (os error 18)";
  for (const os of ["linux", "darwin"] as const) {
    assert.ok(failsLinkOnly(tooMany, os) && failsLinkOnly(crossDevice, os), os);
    assert.ok(!failsLinkOnly("Operation not permitted (os error 1)", os), os);
  }
  // NTFS gives a file 1,024 names; a FAT disk makes none (ERROR_INVALID_FUNCTION).
  const ntfsFull = "An attempt was made to create more links on a file than the file " +
    "system supports. (os error 1142)";
  assert.ok(failsLinkOnly(ntfsFull, "windows"));
  assert.ok(
    failsLinkOnly(
      "The system cannot move the file to a different disk drive. (os error 17)",
      "windows",
    ),
  );
  assert.ok(!failsLinkOnly("Incorrect function. (os error 1)", "windows"));
  // Windows' 31 is ERROR_GEN_FAILURE, a device not working: the disk's.
  assert.ok(
    !failsLinkOnly("A device attached to the system is not functioning. (os error 31)", "windows"),
  );
});

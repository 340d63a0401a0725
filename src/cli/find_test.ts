/** Unit tests of find's line for no match (the command itself: tests/find_test.ts). */
import assert from "node:assert/strict";
import { noMatch } from "./find.ts";

Deno.test("noMatch: a PATTERN in single quotes of its own (cmd.exe passes them on) is said so", () => {
  assert.equal(
    noMatch(["'*.docx'"]),
    "No recorded path matches ''*.docx'': the single quotes around '*.docx' are part of the " +
      `PATTERN (cmd.exe passes them on): give it in double quotes, "*.docx", or none`,
  );
  assert.equal(noMatch(["*.docx"]), "No recorded path matches '*.docx'");
  assert.equal(noMatch(["'"]), "No recorded path matches '''");
});

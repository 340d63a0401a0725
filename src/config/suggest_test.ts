/** Table tests for the did-you-mean helper. */
import assert from "node:assert/strict";
import { editDistance, suggest } from "./suggest.ts";

const KEYS = ["sources", "backup_root", "log_dir", "retention", "exclude", "rehash"];

Deno.test("suggest", async (t) => {
  const cases: [string, readonly string[], string | undefined][] = [
    ["retension", KEYS, "retention"],
    ["retnetion", KEYS, "retention"],
    ["source", KEYS, "sources"],
    ["backupRoot", KEYS, "backup_root"],
    ["backup-root", KEYS, "backup_root"],
    ["Exclude", KEYS, "exclude"],
    ["max_version", ["max_versions_per_file"], "max_versions_per_file"],
    ["sha-256", ["sha256", "sha512"], "sha256"],
    ["md4", ["sha256", "md5"], "md5"],
    ["frobnicate", KEYS, undefined],
    ["lg", ["log_dir"], undefined],
    ["", KEYS, undefined],
    ["x", [], undefined],
  ];
  for (const [word, candidates, expected] of cases) {
    await t.step(`${word || "(empty)"} → ${expected}`, () => {
      assert.equal(suggest(word, candidates), expected);
    });
  }
});

Deno.test("editDistance", () => {
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("ab", "ba"), 1);
  assert.equal(editDistance("same", "same"), 0);
});

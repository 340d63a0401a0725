/** Unit tests of `otherSpellings`: recorded paths and folders differing only in case or form. */
import assert from "node:assert/strict";
import { backupAction, withStore } from "./test_util.ts";
import { spellingHint } from "../restore/not_found.ts";

const CTX = { runId: 1, time: 1_000, trustBefore: 0 };

Deno.test("otherSpellings: a path or folder recorded in another letter case or Unicode form", () =>
  withStore((store) => {
    const paths = ["s/Docs/report.txt", "s/d/README", "s/d/readme", "s/caf\u00e9", "s/Docsx"];
    store.commitBatch(paths.map((p, i) => backupAction(p, `h${i}`)), CTX);
    assert.deepEqual(store.otherSpellings("s/docs/REPORT.txt"), ["s/Docs/report.txt"]);
    assert.deepEqual(store.otherSpellings("s/docs"), ["s/Docs"]); // a folder, not `Docsx`
    assert.deepEqual(store.otherSpellings("s/D/Readme").sort(), ["s/d/README", "s/d/readme"]);
    assert.deepEqual(store.otherSpellings("s/cafe\u0301"), ["s/caf\u00e9"]);
    assert.deepEqual(store.otherSpellings("s/Docs/report.txt"), []); // its own spelling
    assert.deepEqual(store.otherSpellings("s/nothing"), []);
    assert.equal(
      spellingHint(store, "s/docs/report.txt"),
      ": did you mean 's/Docs/report.txt'? (recorded so; the backup tells letter case apart)",
    );
    assert.match(
      spellingHint(store, "s/d/ReadMe"),
      /other spellings: 's\/d\/README', 's\/d\/readme'/,
    );
    assert.equal(spellingHint(store, "s/other"), "");
  }));

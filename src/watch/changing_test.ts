import assert from "node:assert/strict";
import { emptyResult, type PassResult } from "../engine/pass_types.ts";
import { ChangingFiles } from "./changing.ts";

/** A pass's result that found `paths` changing (deferred as `defers` said). */
function found(files: ChangingFiles, ...paths: string[]): PassResult {
  return {
    ...emptyResult(),
    changing: paths.map((path) => ({ path, deferred: files.defers(path) })),
  };
}

function changingFiles(attempts = 3) {
  const retried: string[][] = [];
  const files = new ChangingFiles((p) => retried.push(p), (p) => `/src/${p}`, attempts);
  return { files, retried };
}

const all = () => true;
const none = () => false;

Deno.test("ChangingFiles: a file found changing is read again, deferred until the bound", () => {
  const { files, retried } = changingFiles(3);
  assert.equal(files.defers("s/app.log"), true);
  files.afterPass(found(files, "s/app.log"), all);
  assert.deepEqual(retried, [["s/app.log"]]);
  assert.equal(files.defers("s/app.log"), true, "the second pass in a row");
  files.afterPass(found(files, "s/app.log"), all);
  // The third pass in a row to find it changing reports it, as every later one does.
  assert.equal(files.defers("s/app.log"), false);
  files.afterPass(found(files, "s/app.log"), all);
  assert.equal(files.defers("s/app.log"), false);
  // Read again unasked while not a failure only: one written to without events (through a
  // memory mapping) would otherwise be read whole after every debounce_ms for good.
  assert.equal(retried.length, 2);
  assert.deepEqual(files.atStop(), [], "said to be a failure already");
});

Deno.test("ChangingFiles: a pass that goes through the file without finding it changing ends its wait", () => {
  const { files } = changingFiles(3);
  files.afterPass(found(files, "s/app.log"), all);
  files.afterPass(found(files, "s/app.log"), all);
  // A pass scoped elsewhere, or one stopped before it ended, leaves it waiting.
  files.afterPass(found(files), (p) => p !== "s/app.log");
  files.afterPass(found(files), none);
  assert.equal(files.defers("s/app.log"), false);
  files.afterPass(found(files), all); // stored now (or gone)
  assert.equal(files.defers("s/app.log"), true);
  assert.deepEqual(files.atStop(), []);
});

Deno.test("ChangingFiles: a file still waiting when the session stops is a failure then", () => {
  const { files } = changingFiles(3);
  files.afterPass(found(files, "s/app.log", "s/b.db"), all);
  const left = files.atStop();
  assert.deepEqual(left.map((u) => u.path), ["s/app.log", "s/b.db"]);
  assert.match(
    left[0].message,
    /^Cannot back up '\/src\/s\/app\.log': it kept changing while being read, and the watch stopped before a pass could read it: the next run or watch backs it up$/,
  );
  assert.deepEqual(files.atStop(), [], "said once");
});

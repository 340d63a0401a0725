import assert from "node:assert/strict";
import { emptyResult, type PassResult } from "../engine/pass_types.ts";
import type { TrackedFile } from "../core/types.ts";
import { ChangingFiles } from "./changing.ts";

/** A pass's result that found `paths` changing (deferred as `defers` said). */
function found(files: ChangingFiles, ...paths: string[]): PassResult {
  return {
    ...emptyResult(),
    changing: paths.map((path) => ({ path, deferred: files.defers(path) })),
  };
}

/** ChangingFiles over a state whose rows are `state`'s (a lookup of "s/busy" throws). */
function changingFiles(attempts = 3) {
  const retried: string[][] = [];
  const state = new Map<string, TrackedFile>();
  const tracked = (p: string) => {
    if (p === "s/busy") throw new Error("database is locked");
    return state.get(p);
  };
  const files = new ChangingFiles((p) => retried.push(p), (p) => `/src/${p}`, tracked, attempts);
  return { files, retried, state };
}

/** A state's row for `path`, read with `mtimeMs`. */
function row(path: string, mtimeMs: number): TrackedFile {
  return {
    path,
    kind: "file",
    hash: `h${mtimeMs}`,
    algo: "sha256",
    size: 1,
    mtimeMs,
    ctimeMs: mtimeMs,
    ino: 7,
    dev: 1,
    mode: 0o644,
    trusted: true,
    copyId: 1,
    seq: 1,
    storedAt: path,
    status: "current",
  };
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

Deno.test("ChangingFiles: at the stop, a file the state records read since it was found changing is not waiting", () => {
  const { files, state } = changingFiles(3);
  state.set("s/old.log", row("s/old.log", 1));
  files.afterPass(found(files, "s/new.log", "s/old.log", "s/same.log", "s/busy"), all);
  // A pass stopped before it ended (which ends no wait) stored two of them.
  state.set("s/new.log", row("s/new.log", 2));
  state.set("s/old.log", row("s/old.log", 2));
  // Another content's promotion or retention moves copies; the file's record stays.
  state.set("s/same.log", { ...row("s/same.log", 1), storedAt: "elsewhere", seq: 2 });
  files.afterPass(found(files), none);
  // Unchanged, or not known (a lookup that failed): still waiting, said to be failures.
  assert.deepEqual(files.atStop().map((u) => u.path), ["s/busy"]);
});

Deno.test("ChangingFiles: at the stop, a file whose record has not changed since it was found changing is a failure", () => {
  const { files, state } = changingFiles(3);
  state.set("s/old.log", row("s/old.log", 1));
  files.afterPass(found(files, "s/new.log", "s/old.log"), all);
  state.set("s/old.log", { ...row("s/old.log", 1), storedAt: "elsewhere", seq: 2 });
  assert.deepEqual(files.atStop().map((u) => u.path), ["s/new.log", "s/old.log"]);
});

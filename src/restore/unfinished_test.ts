import assert from "node:assert/strict";
import { movedTo, prunedNow, unfinishedWarning, unfinishedWork, whereNow } from "./unfinished.ts";
import type { Action, NewContent } from "../core/types.ts";

const content = { hash: "h", algo: "sha256" } as unknown as NewContent;

Deno.test("unfinishedWork: where journaled actions move copies and what they place", () => {
  const actions: Action[] = [
    { type: "delete", path: "s/c.txt", copyId: 3, from: "c.txt", to: "_deleted/c.txt" },
    {
      type: "modified",
      path: "s/a.txt",
      content,
      seq: 2,
      target: "a.txt",
      archive: { copyId: 1, from: "a.txt", to: "versions/a.txt/v1.bak", seq: 1 },
    },
    { type: "backup", path: "s/e.txt", content, seq: 1, target: "e.txt" },
    { type: "promote", path: "s/d.txt", hash: "h", from: "_duplicates/d.txt", to: "d.txt" },
    { type: "skip", path: "s/b.txt" },
  ];
  const work = unfinishedWork([{ actions: actions.slice(0, 2) }, { actions: actions.slice(2) }]);
  assert.equal(work.actions, 5);
  assert.deepEqual(movedTo(work, "a.txt"), ["versions/a.txt/v1.bak"]);
  assert.deepEqual(movedTo(work, "c.txt"), ["_deleted/c.txt"]);
  // A promotion moves the duplicate's copy to its own path.
  assert.deepEqual(movedTo(work, "_duplicates/d.txt"), ["d.txt"]);
  assert.deepEqual(movedTo(work, "b.txt"), []);
  assert.deepEqual([...work.placed].sort(), ["a.txt", "e.txt"]);
  assert.match(unfinishedWarning(work, "restores")!, /recorded 5 action\(s\): this restores/);
  assert.equal(unfinishedWarning(unfinishedWork([]), "checks"), undefined);
});

Deno.test("movedTo: follows a chain of moves, and stops on a cycle", () => {
  const work = unfinishedWork([]);
  work.moved.set("x", "y").set("y", "z").set("p", "q").set("q", "p");
  assert.deepEqual(movedTo(work, "x"), ["y", "z"]);
  assert.deepEqual(movedTo(work, "p"), ["q"]);
});

Deno.test("whereNow: the furthest place along the moves that holds a copy", () => {
  const work = unfinishedWork([]);
  work.moved.set("x", "y").set("y", "z");
  const holding = (...names: string[]) => (p: string) => names.includes(p);
  assert.equal(whereNow(work, "x", holding("x")), undefined); // no move made yet
  assert.equal(whereNow(work, "x", holding("x", "y")), "y"); // x holds the new content
  assert.equal(whereNow(work, "x", holding("y", "z")), "z");
  assert.equal(whereNow(work, "w", holding("w", "y")), undefined); // never moved
});

Deno.test("prunedNow: a copy journaled for pruning and no longer there", () => {
  const work = unfinishedWork([{
    actions: [{
      type: "prune",
      path: "s/a.txt",
      copyId: 1,
      seq: 1,
      storedAt: "versions/a.txt/v1.bak",
    }],
  }]);
  const holding = (...names: string[]) => (p: string) => names.includes(p);
  assert.equal(prunedNow(work, "versions/a.txt/v1.bak", holding()), true);
  assert.equal(prunedNow(work, "versions/a.txt/v1.bak", holding("versions/a.txt/v1.bak")), false);
  assert.equal(prunedNow(work, "versions/b.txt/v1.bak", holding()), false); // never journaled
});

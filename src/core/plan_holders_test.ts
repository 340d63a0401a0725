/** The planner's memory of which path holds each content (plan_holders.ts), as a plan uses it. */
import assert from "node:assert/strict";
import { ContentHolders } from "./plan_holders.ts";
import type { PlanView } from "./plan_view.ts";
import type { TrackedFile } from "./types.ts";

const ALGO = "sha256";

/** The state: src/c holds h1, as its original at `c`. */
const C: TrackedFile = {
  path: "src/c",
  kind: "file",
  hash: "h1",
  algo: ALGO,
  size: 1,
  mtimeMs: 1000,
  ctimeMs: 1000,
  ino: 1,
  dev: 1,
  mode: 0o100644,
  trusted: true,
  copyId: 1,
  seq: 1,
  storedAt: "c",
  status: "current",
};

const VIEW: PlanView = {
  holdersOf: (hash) => hash === C.hash ? [C.path] : [],
  copiesHolding: (hash) =>
    hash === C.hash ? [{ path: C.path, storedAt: C.storedAt, location: "latest" }] : [],
  lastSeq: () => 0,
  recordedUnder: () => false,
  storedCountBelow: () => 0,
  isFile: () => false,
  isDir: () => false,
};

Deno.test("content holders: with nothing committed (a plan), the run's copies are the holders, in path order", () => {
  const holders = new ContentHolders(VIEW, ALGO);
  // src/a and src/b new with h1: duplicates, of the state's src/c, then of src/a.
  assert.equal(holders.holderOf("h1", "src/a"), "src/c");
  holders.hold("h1", "src/a", true, { path: "src/a", storedAt: "_d/a", location: "duplicate" });
  assert.equal(holders.holderOf("h1", "src/b"), "src/a");
  holders.hold("h1", "src/b", true, { path: "src/b", storedAt: "_d/b", location: "duplicate" });
  // A holder before them in path order (from another source) comes first: the list is kept
  // in order whatever order the paths were held in.
  holders.hold("h1", "oth/x", true, { path: "oth/x", storedAt: "x", location: "latest" });
  assert.equal(holders.holderOf("h1", "src/z"), "oth/x");
  assert.equal(holders.holderOf("h1", "oth/x"), "src/a");
  // src/c changes to h2: it holds h1 no longer; the run's copies do, where it put them.
  holders.release(C);
  holders.hold("h2", "src/c", true, { path: "src/c", storedAt: "c.~2", location: "latest" });
  const digest = { hash: "h1", algo: ALGO };
  assert.deepEqual(holders.takeReleased(), new Map([[`${ALGO}:h1`, digest]]));
  assert.deepEqual(holders.holdingNow(digest), [
    { path: "oth/x", storedAt: "x", location: "latest" },
    { path: "src/a", storedAt: "_d/a", location: "duplicate" },
    { path: "src/b", storedAt: "_d/b", location: "duplicate" },
  ]);
  assert.deepEqual(holders.holdingNow({ hash: "h2", algo: ALGO }), [
    { path: "src/c", storedAt: "c.~2", location: "latest" },
  ]);
  // Promoted, src/a's copy is an original at its own path.
  holders.promoted("src/a", "a");
  assert.deepEqual(holders.holdingNow(digest)[1], {
    path: "src/a",
    storedAt: "a",
    location: "latest",
  });
  // A content under another algorithm is another content: none of the run's copies hold it.
  assert.deepEqual(holders.holdingNow({ hash: "h1", algo: "md5" }), []);
  // Once committed, the state answers for all of it: the overlay is forgotten.
  holders.forget();
  assert.equal(holders.holderOf("h1", "src/a"), "src/c");
});

Deno.test("content holders: copyOf gives where a duplicate's original's copy is, for its staged copy to share its blocks", () => {
  let asked = 0;
  const view: PlanView = {
    ...VIEW,
    copiesHolding: (hash, algo) => (asked++, VIEW.copiesHolding!(hash, algo)),
  };
  const holders = new ContentHolders(view, ALGO);
  // The state's original: where the state records its copy, asked once for its content.
  assert.equal(holders.copyOf("h1", "src/c"), "c");
  assert.equal(holders.copyOf("h1", "src/c"), "c");
  assert.equal(asked, 1);
  // A path this run placed: where it planned the copy (still staged while its batch fills).
  holders.hold("h3", "src/n", true, { path: "src/n", storedAt: "n", location: "latest" });
  assert.equal(holders.copyOf("h3", "src/n"), "n");
  // A path whose content this run changed holds the old one no more: nothing to share with.
  holders.release(C);
  holders.hold("h2", "src/c", true, { path: "src/c", storedAt: "c.~2", location: "latest" });
  assert.equal(holders.copyOf("h1", "src/c"), undefined);
  // Promoted this run: at its new place.
  holders.forget();
  holders.promoted("src/c", "c2");
  assert.equal(holders.copyOf("h1", "src/c"), "c2");
  // Not known at all: none.
  assert.equal(holders.copyOf("h9", "src/zz"), undefined);
});

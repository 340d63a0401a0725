/**
 * The store's answer to "which tracked paths hold this digest?" is the same whether SQLite
 * or the digest filter (digest_filter.ts) answers "none": before the filter is read, after,
 * for digests committed since, for rehashed ones, and on a fresh state (filter at once).
 * Real SQLite databases in temporary folders.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { backupAction, fileEntry as entry, withStore } from "./test_util.ts";

const ALGO = "sha256";
const CTX = { runId: 1, time: 1_000, trustBefore: 0 };
const digest = (i: number) => createHash("sha256").update(String(i)).digest("hex");

const backup = (path: string, hash: string) => backupAction(path, hash, ALGO);

Deno.test("holders of a digest: the same answers before and after the digest filter is read", () =>
  withStore((store) => {
    const paths = Array.from({ length: 200 }, (_, i) => `src/f${String(i).padStart(3, "0")}`);
    store.commitBatch(paths.map((p, i) => backup(p, digest(i))), CTX);
    const view = store.planView();
    // 200 tracked files: the filter is read after 200 / 16 lookups, well inside this loop.
    for (let i = 0; i < 200; i++) {
      assert.deepEqual(view.holdersOf(digest(i), ALGO), [paths[i]], `digest ${i}`);
      assert.deepEqual(view.holdersOf(digest(1_000 + i), ALGO), [], `absent digest ${i}`);
    }
    assert.deepEqual(view.holdersOf(digest(5), "md5"), [], "another algorithm");
    store.commitBatch([backup("src/new", digest(7)), backup("src/other", digest(500))], CTX);
    assert.deepEqual(view.holdersOf(digest(7), ALGO), [paths[7], "src/new"]);
    assert.deepEqual(view.holdersOf(digest(500), ALGO), ["src/other"], "committed after the read");
    const refresh = {
      entry: entry("src/f001"),
      storedAt: "src/f001",
      rehashed: { hash: digest(600), algo: ALGO },
    };
    store.commitBatch([{ type: "skip", path: "src/f001", refresh }], CTX);
    assert.deepEqual(view.holdersOf(digest(600), ALGO), ["src/f001"], "rehashed");
  }));

Deno.test("holders of a digest on a fresh state: filtered from the first lookup, still exact", () =>
  withStore((store) => {
    const view = store.planView();
    assert.deepEqual(view.holdersOf(digest(1), ALGO), []);
    store.commitBatch([backup("src/a", digest(1))], CTX);
    assert.deepEqual(view.holdersOf(digest(1), ALGO), ["src/a"]);
    assert.deepEqual(view.holdersOf(digest(2), ALGO), []);
  }));

Deno.test("holders of a digest are the tracked files holding it now, never versions or links", () =>
  withStore((store) => {
    const link = { ...entry("src/link"), kind: "symlink" as const, linkTarget: "x" };
    store.commitBatch([
      backup("src/a", digest(1)),
      backup("src/b", digest(1)),
      {
        type: "backup",
        path: "src/link",
        seq: 1,
        target: "link",
        content: {
          hash: digest(1),
          algo: ALGO,
          entry: link,
        },
      },
    ], CTX);
    const view = store.planView();
    assert.deepEqual(view.holdersOf(digest(1), ALGO), ["src/a", "src/b"]);
    const a = store.trackedOne("src/a")!;
    const b = store.trackedOne("src/b")!;
    store.commitBatch([
      {
        type: "modified",
        path: "src/a",
        seq: 2,
        target: "src/a",
        content: { hash: digest(2), algo: ALGO, entry: entry("src/a") },
        archive: { copyId: a.copyId, from: "src/a", to: "versions/src/a/v1.bak", seq: 1 },
      },
      { type: "delete", path: "src/b", copyId: b.copyId, from: "src/b", to: "_deleted/src/b" },
    ], CTX);
    assert.deepEqual(view.holdersOf(digest(1), ALGO), [], "a version and a deleted copy");
    assert.deepEqual(view.holdersOf(digest(2), ALGO), ["src/a"]);
  }));

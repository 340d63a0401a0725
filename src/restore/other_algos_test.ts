/** Unit tests of finding copies recorded under another hash algorithm: a few files on disk. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { StoredCopy } from "../state/store.ts";
import { loadDigests } from "../engine/digest.ts";
import { holdersUnderOtherAlgos, othersHoldingAnyAlgo } from "./other_algos.ts";

const digest = (algo: string, text: string) => createHash(algo).update(text).digest("hex");

let nextId = 1;
function stored(storedAt: string, text: string, algo: string, extra = {}): StoredCopy {
  return {
    id: nextId++,
    path: `s/${storedAt}`,
    seq: 1,
    kind: "file",
    hash: digest(algo, text),
    algo,
    size: new TextEncoder().encode(text).length,
    mtimeMs: 0,
    mode: 0o100644,
    linkTarget: null,
    location: "latest",
    storedAt,
    validFrom: 0,
    validTo: null,
    prunedAt: null,
    ...extra,
  };
}

Deno.test("copies under another algorithm count only when their bytes hash to the digest", async () => {
  await loadDigests();
  const root = Deno.makeTempDirSync();
  try {
    const files = { "a": "Y1\n", "b": "X1\n", "c": "X1\n", "d": "X1\n", "e": "Z1\n" };
    for (const [name, text] of Object.entries(files)) {
      Deno.writeTextFileSync(join(root, name), text);
    }
    Deno.writeTextFileSync(join(root, "d"), "X9\n"); // recorded as X1, altered since
    const everything = [
      stored("a", "Y1\n", "sha512"), // same size, other bytes
      stored("b", "X1\n", "sha512"),
      stored("c", "X1\n", "sha512"),
      stored("d", "X1\n", "sha512"),
      stored("e", "Z1\n", "sha256"), // same algorithm: left to othersHolding
    ];
    const x1 = stored("gone", "X1\n", "sha256", { location: "pruned", storedAt: null });
    const z1 = stored("gone2", "Z1\n", "sha256", { location: "pruned", storedAt: null });
    const none = stored("gone3", "N1\n", "sha256", { location: "pruned", storedAt: null });
    const all = holdersUnderOtherAlgos(root, [x1, z1, none], everything);
    assert.deepEqual([all(x1), all(z1), all(none)], [["b", "c"], [], []]);
    const first = holdersUnderOtherAlgos(root, [x1, x1], everything, true);
    assert.deepEqual(first(x1), ["b"]);
    // Its own algorithm's first (by digest), then the others'; never the copy asked about.
    const own = stored("own", "X1\n", "sha256");
    const twin = stored("twin", "X1\n", "sha256");
    const any = othersHoldingAnyAlgo(root, [own], () => [...everything, own, twin]);
    assert.deepEqual([...any(own)], ["twin", "b", "c"]);
    assert.deepEqual([...any({ ...own, storedAt: "b" })], ["own", "twin", "c"]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

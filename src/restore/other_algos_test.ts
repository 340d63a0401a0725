/** Unit tests of finding copies recorded under another hash algorithm: a few files on disk. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadDigests } from "../engine/digest.ts";
import { holdersUnderOtherAlgos, othersHoldingAnyAlgo } from "./other_algos.ts";
import { storedCopy } from "./test_copies.ts";

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
      storedCopy("a", "Y1\n", "sha512"), // same size, other bytes
      storedCopy("b", "X1\n", "sha512"),
      storedCopy("c", "X1\n", "sha512"),
      storedCopy("d", "X1\n", "sha512"),
      storedCopy("e", "Z1\n", "sha256"), // same algorithm: left to othersHolding
    ];
    const x1 = storedCopy("gone", "X1\n", "sha256", { location: "pruned", storedAt: null });
    const z1 = storedCopy("gone2", "Z1\n", "sha256", { location: "pruned", storedAt: null });
    const none = storedCopy("gone3", "N1\n", "sha256", { location: "pruned", storedAt: null });
    const all = holdersUnderOtherAlgos(root, [x1, z1, none], everything);
    assert.deepEqual([all(x1), all(z1), all(none)], [["b", "c"], [], []]);
    const first = holdersUnderOtherAlgos(root, [x1, x1], everything, true);
    assert.deepEqual(first(x1), ["b"]);
    // Its own algorithm's first (by digest), then the others'; never the copy asked about.
    const own = storedCopy("own", "X1\n", "sha256");
    const twin = storedCopy("twin", "X1\n", "sha256");
    const any = othersHoldingAnyAlgo(root, [own], () => [...everything, own, twin]);
    assert.deepEqual([...any(own)], ["twin", "b", "c"]);
    assert.deepEqual([...any({ ...own, storedAt: "b" })], ["own", "twin", "c"]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

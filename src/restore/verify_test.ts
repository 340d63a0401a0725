import assert from "node:assert/strict";
import { sampler } from "./verify.ts";
import { type EntryKind, strayClaimer } from "./verify_listing.ts";

/** The indices of `n` items the sampler takes. */
function taken(n: number, percent: number, random: () => number): number[] {
  const take = sampler(n, percent, random);
  return Array.from({ length: n }, (_, i) => i).filter(() => take());
}

Deno.test("sampler: exactly the requested share, rounded up, in order", () => {
  assert.deepEqual(taken(10, 100, Math.random), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(taken(10, 50, Math.random).length, 5);
  assert.equal(taken(10, 1, Math.random).length, 1); // rounds up: never zero
  assert.deepEqual(taken(10, 30, () => 0), [0, 1, 2]);
  assert.deepEqual(taken(10, 30, () => 0.999), [7, 8, 9]); // the end is always reached
  assert.deepEqual(taken(0, 50, Math.random), []);
  assert.equal(taken(10, 0.0001, Math.random).length, 1); // a tiny share is still one
  // 1,000 × 16.1 / 100 is 161.00000000000003 in floating point: still 161.
  assert.equal(taken(1000, 16.1, () => 0.5).length, 161);
  assert.equal(taken(1000, 64.4, () => 0.5).length, 644);
});

Deno.test("sampler: every item is about equally likely", () => {
  let seed = 42; // mulberry32, seeded: the test is repeatable
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const counts = new Array(10).fill(0);
  for (let round = 0; round < 20_000; round++) {
    for (const i of taken(10, 20, random)) counts[i]++;
  }
  // Each of the 10 is taken in 20% of 20,000 rounds: 4,000, give or take a few percent.
  for (const c of counts) assert.ok(c > 3700 && c < 4300, `counts ${counts}`);
});

Deno.test("strayClaimer: another spelling is a copy's only where the disk opens it by its own", () => {
  const nfc = "caf\u00e9.txt";
  const nfd = nfc.normalize("NFD");
  const strays = () =>
    new Map<string, EntryKind>([[nfd, "file"], ["Docs/a.txt", "file"], ["l", "file"]]);
  // HFS+: either spelling opens the one entry.
  const hfs = strays();
  const onHfs = strayClaimer(hfs, false, () => true);
  assert.equal(onHfs(nfc, "file"), nfd);
  assert.equal(hfs.has(nfd), false, "claimed: no longer unknown");
  assert.equal(onHfs("docs/a.txt", "file"), undefined, "case matters on HFS+ here");
  // A disk that ignores case: Docs and docs are one folder.
  assert.equal(strayClaimer(strays(), true, () => true)("docs/a.txt", "file"), "Docs/a.txt");
  // ext4 keeps both spellings apart: nothing is claimed.
  const ext4 = strays();
  assert.equal(strayClaimer(ext4, false, () => false)(nfc, "file"), undefined);
  assert.equal(ext4.has(nfd), true, "still unknown");
  // Of another kind: claimed (the name says whose it is), but not the copy.
  const other = new Map<string, EntryKind>([["L", "file"]]);
  assert.equal(strayClaimer(other, true, () => true)("l", "symlink"), undefined);
  assert.equal(other.size, 0);
});

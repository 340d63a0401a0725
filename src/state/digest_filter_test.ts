import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { DigestFilter, DigestHolders } from "./digest_filter.ts";

const digest = (i: number) => createHash("sha256").update(`content ${i}`).digest("hex");

Deno.test("digest filter: never 'no' for an added digest; rarely 'maybe' for another", () => {
  const filter = new DigestFilter(20_000);
  for (let i = 0; i < 20_000; i++) filter.add(digest(i));
  for (let i = 0; i < 20_000; i++) assert.ok(filter.mayHold(digest(i)), `digest ${i}`);
  let maybe = 0;
  for (let i = 20_000; i < 120_000; i++) if (filter.mayHold(digest(i))) maybe++;
  // Sized for 20,000 at 16 bits each with 4 positions: about 0.2% ("1 in 400") expected.
  assert.ok(maybe < 500, `${maybe} false 'maybe' answers of 100,000`);
  assert.equal(filter.crowded, false);
});

Deno.test("digest filter: crowded past twice its size; short or odd digests work too", () => {
  const filter = new DigestFilter(0); // the minimum: 2^21 bits, 131,072 digests
  for (let i = 0; i <= 262_144; i++) filter.add(String(i));
  assert.equal(filter.crowded, true);
  for (let i = 0; i <= 262_144; i += 997) assert.ok(filter.mayHold(String(i)));
  assert.equal(new DigestFilter(0).mayHold(digest(1)), false);
  assert.equal(new DigestFilter(0).mayHold(""), false);
});

Deno.test("digest holders: the stored copies' filter is read at the first ask only, then kept up", () => {
  let pagesRead = 0;
  const stored = Array.from({ length: 5000 }, (_, i): [number, string] => [i + 1, digest(i)]);
  const holders = new DigestHolders({
    query: () => [],
    count: () => 0,
    page: () => [],
    storedCount: () => stored.length,
    storedPage: (after, limit) => {
      pagesRead++;
      return stored.filter(([id]) => id > after).slice(0, limit);
    },
  });
  holders.added(digest(9000)); // before the filter is read: the pages hold it once committed
  assert.equal(pagesRead, 0, "nothing read before the first ask");
  assert.ok(holders.mayBeStored(digest(0)) && holders.mayBeStored(digest(4999)));
  assert.equal(pagesRead, 2, "read once, a page of 4,096 at a time");
  assert.equal(holders.mayBeStored(digest(7000)), false);
  holders.added(digest(7000));
  assert.ok(holders.mayBeStored(digest(7000)), "a digest written since");
  assert.equal(pagesRead, 2);
  const none = new DigestHolders({ query: () => [], count: () => 0, page: () => [] });
  assert.equal(none.mayBeStored(digest(0)), false, "no stored pages: never");
});

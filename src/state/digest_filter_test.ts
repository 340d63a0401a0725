import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { DigestFilter } from "./digest_filter.ts";

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

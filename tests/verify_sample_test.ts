/**
 * End-to-end tests of `verify --sample`: it re-hashes the share of the copies asked for,
 * chosen at random, and its verdict says what it can know: that no damage was found in
 * those, not that the backup is intact, as a damaged copy left out goes unseen (exit 0).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture } from "./helpers.ts";

const FILES = 40;
const name = (i: number) => `f${String(i).padStart(2, "0")}.txt`;

/** Flips the first byte of a stored copy, its size and time kept. */
function flipFirstByte(file: string): void {
  const info = Deno.statSync(file);
  const bytes = Deno.readFileSync(file);
  bytes[0] ^= 1;
  Deno.writeFileSync(file, bytes);
  Deno.utimeSync(file, info.atime!, info.mtime!);
}

Deno.test("verify --sample re-hashes a random tenth and says the others were not, even with --repair", async () => {
  using fx = makeFixture(Object.fromEntries(
    Array.from({ length: FILES }, (_, i) => [name(i), `content ${i}\n`]),
  ));
  assert.equal((await fx.cli("run")).code, 0);
  const text = await fx.cli("verify", "--sample", "10");
  assert.equal(text.code, 0, text.stderr);
  assert.equal(
    text.stdout,
    `Verify: all ${FILES} stored copies present, 4 re-hashed (a 10% sample): no damage ` +
      `found in those; the other 36 were not re-hashed (verify without --sample checks ` +
      "every copy)\n",
  );
  const whole = await fx.cli("verify", "--sample", "100");
  assert.match(
    whole.stdout,
    new RegExp(
      `^Verify: all ${FILES} stored copies present, ${FILES} re-hashed \\(a 100% sample\\): intact\n$`,
    ),
  );
  const repair = await fx.cli("verify", "--repair", "--sample", "10");
  assert.equal(repair.code, 0, repair.stderr);
  assert.match(
    repair.stdout,
    /^Repair: 0 repaired, 0 not repaired, 0 unknown file\(s\): no damage left in the 4 copies re-hashed \(a 10% sample\); the other 36 were not re-hashed/,
  );
  assert.doesNotMatch(repair.stdout, /: intact/);

  // One damaged copy: a sample finds it only where it is among those re-hashed, at random
  // (half of them: the same outcome 30 times in a row is a chance of one in 500 million).
  flipFirstByte(join(fx.backup, name(7)));
  let found = 0;
  let missed = 0;
  for (let i = 0; i < 30 && (found === 0 || missed === 0); i++) {
    const r = await fx.cli("verify", "--sample", "50", "--json");
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.checked, FILES / 2);
    if (doc.changed.length === 1) {
      assert.equal(r.code, 1);
      found++;
    } else {
      assert.equal(r.code, 0, "a sample that missed the damaged copy cannot know of it");
      missed++;
    }
  }
  assert.ok(found > 0 && missed > 0, `found ${found}, missed ${missed}: not random`);
});

Deno.test("verify --sample whose share, rounded up, re-hashes every copy says intact, not 'the other 0 were not re-hashed'", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const text = await fx.cli("verify", "--sample", "60"); // 1.2 copies, rounded up to 2
  assert.equal(text.code, 0, text.stderr);
  assert.equal(
    text.stdout,
    "Verify: all 2 stored copies present, 2 re-hashed (a 60% sample): intact\n",
  );
  const repair = await fx.cli("verify", "--repair", "--sample", "60");
  assert.equal(repair.code, 0, repair.stderr);
  assert.match(
    repair.stdout,
    /^Repair: 0 repaired, 0 not repaired, 0 unknown file\(s\): intact\n$/,
  );
});

Deno.test("verify --repair --sample of one copy re-hashed names it as one copy", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const r = await fx.cli("verify", "--repair", "--sample", "10");
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /: no damage left in the 1 copy re-hashed \(a 10% sample\); the other 1 was not re-hashed\n$/,
  );
});

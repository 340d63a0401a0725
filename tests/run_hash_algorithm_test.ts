/**
 * End-to-end tests of a change of `hash_algorithm`, through the real CLI: files are
 * re-hashed without new versions, a new file with a re-hashed file's content is its
 * duplicate (as plan says), and a file excluded meanwhile keeps its digest under the old
 * algorithm until it is included again, verify and restore agreeing throughout.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, readTree, writeTree } from "./helpers.ts";

Deno.test("changing hash_algorithm re-hashes without new versions", async () => {
  using fx = makeFixture({ "a.txt": "a", "b.txt": "b" });
  assert.equal((await fx.cli("run")).code, 0);
  const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
  cfg.hash_algorithm = "sha512";
  Deno.writeTextFileSync(fx.config, JSON.stringify(cfg));
  const r = await fx.cli("run", "--json");
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.counts.skip, 2);
  assert.equal(summary.counts.modified, 0);
  assert.deepEqual(Object.keys(readTree(fx.backup)), ["a.txt", "b.txt"]);
});

Deno.test("changing hash_algorithm: a new file with a re-hashed file's content is its duplicate, as plan says", async () => {
  using fx = makeFixture({ "a.txt": "same bytes\n", "b.txt": "b" });
  assert.equal((await fx.cli("run")).code, 0);
  const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
  Deno.writeTextFileSync(fx.config, JSON.stringify({ ...cfg, hash_algorithm: "sha512" }));
  Deno.writeTextFileSync(join(fx.source, "z.txt"), "same bytes\n");
  const line = "DUPLICATE: source/z.txt → backup/_duplicates/z.txt";
  const plan = await fx.cli("plan");
  assert.ok(plan.stdout.includes(line), plan.stdout);
  const planned = JSON.parse((await fx.cli("plan", "--json")).stdout).actions;
  const dup = planned.find((a: { path: string }) => a.path === "source/z.txt");
  assert.equal(dup.original, "source/a.txt");
  assert.equal((await fx.cli("run")).code, 0);
  assert.ok(fx.lastLog().includes(line), fx.lastLog().join("\n"));
});

Deno.test("changing hash_algorithm while a file is excluded: its digest stays under the old one until it is included again, and nothing worse than a copy kept whole comes of it", async () => {
  using fx = makeFixture({ "a.txt": "same bytes\n", "b.txt": "same bytes\n", "o.txt": "o" });
  assert.equal((await fx.cli("run")).code, 0);
  const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
  const write = (extra: Record<string, unknown>) =>
    Deno.writeTextFileSync(fx.config, JSON.stringify({ ...cfg, ...extra }));
  write({ exclude: ["a.txt"] });
  assert.equal((await fx.cli("run")).code, 0);
  write({ exclude: ["a.txt"], hash_algorithm: "sha512" });
  writeTree(fx.source, { "c.txt": "same bytes\n" });
  const run = await fx.cli("run");
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const algoOf = async (path: string) =>
    JSON.parse((await fx.cli("history", path, "--json")).stdout).versions.map((
      v: { algo: string; storedAt: string },
    ) => [v.algo, v.storedAt]);
  // The duplicate b, re-hashed, no longer finds its original a (sha256): promoted
  // (docs/configuration.md).
  assert.deepEqual(await algoOf("a.txt"), [["sha256", "a.txt"]]);
  assert.deepEqual(await algoOf("b.txt"), [["sha512", "b.txt"]]);
  assert.deepEqual(await algoOf("c.txt"), [["sha512", "_duplicates/c.txt"]]);
  // Every copy whole and checked under its own algorithm: verify and restore agree.
  assert.equal((await fx.cli("verify")).code, 0);
  const to = join(fx.dir, "restored");
  assert.equal((await fx.cli("restore", "--to", to)).code, 0);
  assert.deepEqual(readTree(to), readTree(fx.source));
  // Included again, it is re-hashed like the others.
  write({ hash_algorithm: "sha512" });
  assert.equal((await fx.cli("run")).code, 0);
  assert.deepEqual(await algoOf("a.txt"), [["sha512", "a.txt"]]);
  assert.equal((await fx.cli("verify")).code, 0);
});

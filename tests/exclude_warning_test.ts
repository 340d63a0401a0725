/**
 * End-to-end tests of the warning about an exclude pattern that begins with a source's name
 * (`alpha/secret/` for source `alpha`'s `secret/`): patterns are matched inside each source,
 * so it matches nothing, and the files meant to be left out are backed up.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { listFiles, makeFixture, writeConfig, writeTree } from "./helpers.ts";

function twoSources(exclude: string[]) {
  const fx = makeFixture({});
  writeTree(join(fx.dir, "alpha"), { "secret/key.pem": "KEY", "a.txt": "a" });
  writeTree(join(fx.dir, "beta"), { "b.txt": "b" });
  writeConfig(fx.config, {
    sources: ["./alpha", "./beta"],
    backup_root: "./backup",
    log_dir: "./logs",
    exclude,
  });
  return fx;
}

const WARNING = new RegExp(
  "^WARNING: 'exclude\\[0\\]' 'alpha/secret/' in '[^']*config\\.jsonc' matches nothing: " +
    "patterns are matched inside each source, and 'alpha' is a source's name, not a folder " +
    "at any source's root: write '/secret/' to match at the root of every source \\(no " +
    "pattern applies to one source alone\\)\\n$",
);

Deno.test("an exclude pattern beginning with a source's name is warned about, by run (quiet too) and plan, with what to write", async () => {
  using fx = twoSources(["alpha/secret/"]);
  const plan = await fx.cli("plan", "-q");
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stderr, WARNING);
  const run = await fx.cli("run", "-q");
  assert.equal(run.code, 0, run.stderr); // a warning: the backup goes on
  assert.equal(run.stdout, "");
  assert.match(run.stderr, WARNING);
  // As it says: the pattern left the folder in.
  assert.ok(listFiles(fx.backup).includes("_sources/alpha/secret/key.pem"));

  // What it says to write excludes it, without a word.
  writeConfig(fx.config, {
    sources: ["./alpha", "./beta"],
    backup_root: "./backup",
    log_dir: "./logs",
    exclude: ["/secret/"],
  });
  const fixed = await fx.cli("run", "-q");
  assert.equal(fixed.code, 0, fixed.stderr);
  assert.equal(fixed.stderr, "");
  assert.match(fx.lastLog().join("\n"), /EXCLUDED: alpha\/secret\/key\.pem/);
});

Deno.test("a pattern beginning with a source's name that a source holds a folder of says nothing", async () => {
  using fx = twoSources(["alpha/secret/"]);
  writeTree(join(fx.dir, "beta"), { "alpha/secret/x": "x" }); // beta's own alpha/secret/
  const run = await fx.cli("run");
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, "");
  assert.ok(!listFiles(fx.backup).includes("_sources/beta/alpha/secret/x"));
});

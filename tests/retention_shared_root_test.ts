/**
 * Two configs sharing one backup root (two jobs, each its own sources, run in turn): each
 * run's retention prunes its own sources' versions only, by its own
 * `max_versions_per_file`, never the other job's, kept by the other's setting; and a source
 * removed from a config keeps its versions as they are. Through the real CLI.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { listFiles, makeFixture, runCli, writeConfig } from "./helpers.ts";

/** The version copies under the backup root's versions/. */
const versions = (root: string) => listFiles(join(root, "versions"));

Deno.test("max_versions_per_file: a config sharing its backup root prunes its own sources' versions only", async () => {
  using fx = makeFixture({ "a.txt": "a\n" }, { retention: { max_versions_per_file: 1 } });
  const other = join(fx.dir, "other");
  Deno.mkdirSync(other);
  Deno.writeTextFileSync(join(other, "b.txt"), "b0\n");
  const otherConfig = join(fx.dir, "other.jsonc");
  writeConfig(otherConfig, {
    sources: ["./other"],
    backup_root: "./backup",
    log_dir: "./logs",
    retention: { max_versions_per_file: 10 },
  });
  const otherRun = () => runCli(["run", "--config", otherConfig]);
  assert.equal((await fx.cli("run")).code, 0);
  assert.equal((await otherRun()).code, 0);
  for (const n of [1, 2, 3]) {
    Deno.writeTextFileSync(join(other, "b.txt"), `b${n}\n`);
    assert.equal((await otherRun()).code, 0);
  }
  const kept = versions(fx.backup);
  assert.equal(kept.length, 3, kept.join("\n"));
  // The first job's run, max_versions_per_file 1: the other's three versions stay.
  const r = await fx.cli("run", "--json");
  assert.equal(JSON.parse(r.stdout).counts.prune, 0, r.stdout);
  assert.deepEqual(versions(fx.backup), kept);
  // Its own file's versions are pruned by its own setting, as before.
  for (const n of [1, 2]) {
    Deno.writeTextFileSync(join(fx.source, "a.txt"), `a${n}\n`);
    assert.equal((await fx.cli("run")).code, 0);
  }
  assert.deepEqual(
    versions(fx.backup).filter((v) => !kept.includes(v)).length,
    1,
    versions(fx.backup).join("\n"),
  );
});

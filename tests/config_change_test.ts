/**
 * What a user does to the config between runs: each change refused is one line whose
 * remedy, applied as written, makes a config that runs; nothing is made before.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { listTree } from "../src/config/test_util.ts";
import { runCli, writeConfig, writeTree } from "./helpers.ts";

/** A scratch folder (its real path) holding `source/a.txt`. */
function scratch(): { dir: string; [Symbol.dispose](): void } {
  const dir = Deno.realPathSync(Deno.makeTempDirSync({ prefix: "bt-config-change-" }));
  writeTree(join(dir, "source"), { "a.txt": "a\n" });
  return { dir, [Symbol.dispose]: () => Deno.removeSync(dir, { recursive: true }) };
}

/** The `"log_dir": …` value a refusal's remedy gives, parsed as the config would hold it. */
function suggestedLogDir(stderr: string): string {
  const m = stderr.match(/e\.g\. "log_dir": ("(?:[^"\\]|\\.)*")\n$/);
  assert.ok(m, `no log_dir example in: ${stderr}`);
  return JSON.parse(m[1]);
}

Deno.test("log_dir in or at the backup root: the example given is a folder outside it, and a run with it works", async () => {
  using s = scratch();
  // The config kept at the top of the backup disk (backup_root "."), log_dir left at its
  // default ("./logs", inside it); and the backup root pointed at the log folder itself.
  const cases: { configDir: string; config: Record<string, unknown>; says: RegExp }[] = [
    {
      configDir: join(s.dir, "usb"),
      config: { sources: [join(s.dir, "source")], backup_root: "." },
      says: /'log_dir' \('.*\/usb\/logs'\) in '.*' is inside 'backup_root' \('.*\/usb'\)/,
    },
    {
      configDir: join(s.dir, "home"),
      config: { sources: ["../source"], backup_root: "./logs" },
      says: /'log_dir' \('.*\/home\/logs'\) in '.*' is the same folder as 'backup_root',/,
    },
  ];
  for (const { configDir, config, says } of cases) {
    Deno.mkdirSync(configDir);
    const file = join(configDir, "config.jsonc");
    writeConfig(file, config);
    const before = listTree(s.dir);
    for (const command of ["run", "plan"]) {
      const r = await runCli([command, "--config", file]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, says);
      assert.deepEqual(listTree(s.dir), before, command);
    }
    const refused = await runCli(["run", "--config", file]);
    writeConfig(file, { ...config, log_dir: suggestedLogDir(refused.stderr) });
    const run = await runCli(["run", "--config", file]);
    assert.equal(run.code, 0, `${refused.stderr}${run.stderr}`);
  }
});
